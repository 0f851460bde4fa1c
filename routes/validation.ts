// Input problems answered once, FastAPI-shaped as A1111 clients expect: 422 {detail: [{loc, msg, type}]}.
// Handlers throw (a schema's issues, or an InputError from any layer); app.onError turns them into the answer.
import type { Context } from "hono";
import type { z } from "zod";
import { InputError } from "../lib/io/input_error.ts";
import { API_LOCATION } from "./schemas.ts";

export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type: string;
}

/** A body that failed its schema: every issue, each with where it is. */
export class BodyInvalid extends Error {
  constructor(readonly detail: FieldError[]) {
    super(detail.map((d) => d.msg).join("; "));
    this.name = "BodyInvalid";
  }
}

export function fieldErrors(error: z.ZodError, root = "body"): FieldError[] {
  return error.issues.map((i) => ({
    loc: [root, ...i.path.map((p) => (typeof p === "symbol" ? String(p) : p))],
    msg: i.message,
    type: i.code,
  }));
}

/** An InputError's place in the request body: job fields (the pipeline's, the model's) by their API names. */
export function apiLocation(e: InputError): (string | number)[] {
  const [first, ...rest] = e.loc;
  const api = typeof first === "string" ? API_LOCATION[first] : undefined;
  return ["body", ...(api ? [...api, ...rest] : e.loc)];
}

/** The 422 answer for an input problem; undefined for anything else (a fault: 500). */
export function inputErrorResponse(c: Context, e: Error): Response | undefined {
  if (e instanceof BodyInvalid) return c.json({ detail: e.detail }, 422);
  if (e instanceof InputError) {
    return c.json({ detail: [{ loc: apiLocation(e), msg: e.message, type: "value_error" }] }, 422);
  }
  return undefined;
}

interface ZodDef {
  type: string;
  innerType?: z.ZodType;
  values?: unknown[];
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: ZodDef } })._zod.def;

/** A field's type without its default/optional/nullable wrappers: "number", "boolean", "string", …. */
function baseType(s: z.ZodType): string {
  let d = defOf(s);
  while ((d.type === "default" || d.type === "optional" || d.type === "nullable") && d.innerType) {
    d = defOf(d.innerType);
  }
  if (d.type === "literal" && d.values?.length) return typeof d.values[0];
  return d.type;
}

const TRUE = new Set(["true", "1", "yes", "on", "t", "y"]);
const FALSE = new Set(["false", "0", "no", "off", "f", "n"]);

function loose(type: string, v: unknown): unknown {
  if (type === "number" && typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))) {
    return Number(v);
  }
  // pydantic's int is Python's, of which bool is a subclass: False is 0, True is 1 (A1111's
  // inpainting_mask_invert is an int that clients send as a boolean).
  if (type === "number" && typeof v === "boolean") return v ? 1 : 0;
  if (type === "boolean") {
    if (typeof v === "string" && TRUE.has(v.toLowerCase())) return true;
    if (typeof v === "string" && FALSE.has(v.toLowerCase())) return false;
    if (v === 0 || v === 1) return v === 1;
  }
  if (type === "string" && typeof v === "number") return String(v);
  return v;
}

/**
 * pydantic v1's leniency, which A1111 clients rely on, applied before the schema: an explicit null is the
 * field's default, and numeric strings, booleans for numbers, "true"/"false" and numbers for text fields are
 * coerced.
 */
export function pydanticCoerce(schema: z.ZodType, value: unknown): unknown {
  const shape = (schema as unknown as { shape?: Record<string, z.ZodType> }).shape;
  if (!shape || typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null && k in shape) continue;
    out[k] = k in shape ? loose(baseType(shape[k]), v) : v;
  }
  return out;
}

/** Parses the JSON body and validates it against `schema`; throws BodyInvalid naming what is wrong. */
export async function validBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new BodyInvalid([{
      loc: ["body"],
      msg: `JSON decode error: ${(e as Error).message}`,
      type: "json_invalid",
    }]);
  }
  const r = schema.safeParse(pydanticCoerce(schema, value));
  if (!r.success) throw new BodyInvalid(fieldErrors(r.error));
  return r.data;
}

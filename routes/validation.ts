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
  const r = schema.safeParse(value);
  if (!r.success) throw new BodyInvalid(fieldErrors(r.error));
  return r.data;
}

// FastAPI-shaped validation errors, as A1111 clients expect: 422 {detail: [{loc, msg, type}]}.
import type { Context } from "hono";
import type { z } from "zod";

export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export function fieldErrors(error: z.ZodError, root = "body"): FieldError[] {
  return error.issues.map((i) => ({
    loc: [root, ...i.path.map((p) => (typeof p === "symbol" ? String(p) : p))],
    msg: i.message,
    type: i.code,
  }));
}

export function unprocessable(c: Context, detail: FieldError[]): Response {
  return c.json({ detail }, 422);
}

/** Parses the JSON body; malformed JSON becomes a 422 naming where it broke. */
export async function readJson(
  c: Context,
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const text = await c.req.text();
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return {
      ok: false,
      response: unprocessable(c, [{
        loc: ["body"],
        msg: `JSON decode error: ${(e as Error).message}`,
        type: "json_invalid",
      }]),
    };
  }
}

/** Body parsed and validated against `schema`, or the 422 response to return. */
export async function validBody<S extends z.ZodType>(
  c: Context,
  schema: S,
): Promise<{ ok: true; value: z.infer<S> } | { ok: false; response: Response }> {
  const body = await readJson(c);
  if (!body.ok) return body;
  const r = schema.safeParse(body.value);
  if (!r.success) return { ok: false, response: unprocessable(c, fieldErrors(r.error)) };
  return { ok: true, value: r.data };
}

// Input problems from any layer become one FastAPI-shaped 422 naming the field by its API name; anything else
// is left to the 500 of app.onError.
import { deepStrictEqual as assertEquals } from "node:assert";
import { Hono } from "hono";
import { z } from "zod";
import { RequestError } from "../../lib/diffusion/request.ts";
import { InputError } from "../../lib/io/input_error.ts";
import { inputErrorResponse, validBody } from "../../routes/validation.ts";

async function answer(e: Error): Promise<[number, unknown]> {
  const app = new Hono();
  app.get("/", () => {
    throw e;
  });
  app.onError((err, c) => inputErrorResponse(c, err) ?? c.json({ error: "internal error" }, 500));
  const r = await app.request("/");
  return [r.status, await r.json()];
}

Deno.test("pipeline, registry and schema problems are 422 with the API's field; other errors are not", async () => {
  assertEquals(await answer(new RequestError("batch count must be a whole number", "batch count")), [422, {
    detail: [{ loc: ["body", "n_iter"], msg: "batch count must be a whole number", type: "value_error" }],
  }]);
  assertEquals((await answer(new RequestError("bad", "cfgScale")))[1], {
    detail: [{ loc: ["body", "cfg_scale"], msg: "bad", type: "value_error" }],
  });
  assertEquals((await answer(new InputError("unknown model", ["model"])))[1], {
    detail: [{
      loc: ["body", "override_settings", "sd_model_checkpoint"],
      msg: "unknown model",
      type: "value_error",
    }],
  });
  assertEquals(await answer(new Error("the disk is full")), [500, { error: "internal error" }]);

  const app = new Hono();
  app.post("/", async (c) => c.json(await validBody(c, z.object({ n: z.int() }))));
  app.onError((err, c) => inputErrorResponse(c, err) ?? c.json({}, 500));
  const r = await app.request("/", { method: "POST", body: '{"n": "x"}' });
  assertEquals([r.status, (await r.json()).detail[0].loc], [422, ["body", "n"]]);
});

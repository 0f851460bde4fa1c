// Request defaults and the checks that name the bad field.
import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { RequestError, resolveRequest } from "../../../lib/diffusion/request.ts";

const BASE = { prompt: "p", sampler: "Euler a", steps: 20, cfgScale: 7, width: 512, height: 768, seed: 1 };

Deno.test("defaults: empty negative prompt, one image, eta 0, clip skip 1, strength 0.75", () => {
  const r = resolveRequest(BASE);
  assertEquals(
    [r.negativePrompt, r.batchSize, r.batchCount, r.eta, r.clipSkip, r.denoisingStrength],
    ["", 1, 1, 0, 1, 0.75],
  );
});

Deno.test("each bad field is a RequestError naming it", () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ sampler: "nope" }, "sampler", /unknown sampler "nope"/],
    [{ width: 513 }, "width", /width must be a positive multiple of 8, got 513/],
    [{ steps: 0 }, "steps", /steps must be a whole number from 1 to 10000, got 0/],
    [{ batchCount: 1.5 }, "batch count", /batch count must be a whole number/],
    [{ eta: -1 }, "eta", /eta must be a number ≥ 0/],
    [{ clipSkip: 0 }, "clipSkip", /Clip skip must be 1 or 2/],
    [
      { initImage: { width: 1, height: 1, data: new Uint8Array(3) }, denoisingStrength: 0 },
      "denoisingStrength",
      /above 0/,
    ],
  ];
  for (const [change, field, message] of cases) {
    throws(
      () => resolveRequest({ ...BASE, ...change }),
      (e: Error) => e instanceof RequestError && e.field === field && message.test(e.message),
    );
  }
});

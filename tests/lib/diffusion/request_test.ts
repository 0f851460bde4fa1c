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

Deno.test("noise defaults: CPU source, no variation, no seed resize (A1111's −1 reads as off)", () => {
  const r = resolveRequest({ ...BASE, seedResizeFromW: -1, seedResizeFromH: 0 });
  assertEquals(
    [r.rngSource, r.subseed, r.subseedStrength, r.seedResizeFromW, r.seedResizeFromH],
    ["CPU", 0, 0, 0, 0],
  );
  const v = resolveRequest({
    ...BASE,
    rngSource: "NV",
    subseed: 9,
    subseedStrength: 0.25,
    seedResizeFromW: 640,
  });
  assertEquals([v.rngSource, v.subseed, v.subseedStrength, v.seedResizeFromW], ["NV", 9, 0.25, 640]);
});

Deno.test("each bad field is a RequestError naming it", () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ sampler: "nope" }, "sampler", /unknown sampler "nope"/],
    [{ width: 513 }, "width", /width must be a positive multiple of 8, got 513/],
    [{ steps: 0 }, "steps", /steps must be a whole number from 1 to 10000, got 0/],
    [{ batchCount: 1.5 }, "batch count", /batch count must be a whole number/],
    [{ eta: -1 }, "eta", /eta must be a number ≥ 0/],
    [{ clipSkip: 0 }, "clipSkip", /Clip skip must be 1 or 2/],
    [{ rngSource: "gpu" }, "rngSource", /rngSource must be one of CPU, GPU, NV, got "gpu"/],
    [{ subseed: -1 }, "subseed", /subseed must be a whole number from 0/],
    [{ subseedStrength: NaN }, "subseedStrength", /subseedStrength must be a number from 0 to 1/],
    [{ seedResizeFromH: 20000 }, "seedResizeFromH", /seedResizeFromH must be a whole number from 8 to 16384/],
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

Deno.test("scheduler: A1111's schedule types route to its samplers; bad names name the field", () => {
  const legacy = resolveRequest({ ...BASE, sampler: "Euler" });
  if (legacy.sampling !== undefined) {
    throw new Error("Euler without a scheduler keeps the diffusers scheduler");
  }
  const karras = resolveRequest({ ...BASE, sampler: "Euler", scheduler: "Karras" });
  if (
    karras.sampling?.choice.sampler.name !== "Euler" || karras.sampling.choice.schedule?.name !== "karras"
  ) {
    throw new Error("Euler + Karras");
  }
  const auto = resolveRequest({ ...BASE, sampler: "DPM++ 2M", scheduler: "Automatic" });
  if (auto.sampling?.choice.schedule?.name !== "karras") throw new Error("DPM++ 2M's default is Karras");
  const heun = resolveRequest({ ...BASE, sampler: "k_heun", sChurn: 0.5 });
  if (heun.sampling?.choice.sampler.name !== "Heun" || heun.sampling.settings.sChurn !== 0.5) {
    throw new Error("an alias of a sampler only A1111's path has");
  }
  const split = resolveRequest({ ...BASE, sampler: "DPM2 a Exponential", scheduler: "Automatic" });
  if (
    split.sampling?.choice.sampler.name !== "DPM2 a" || split.sampling.choice.schedule?.name !== "exponential"
  ) {
    throw new Error("a schedule label at the end of the sampler name");
  }
  for (
    const [change, field] of [
      [{ scheduler: "Karras-ish" }, "scheduler"],
      [{ sampler: "Euler b", scheduler: "Karras" }, "sampler"],
      [{ sampler: "Nope" }, "sampler"],
      [{ sampler: "Heun", sChurn: -1 }, "sChurn"],
    ] as const
  ) {
    try {
      resolveRequest({ ...BASE, ...change });
    } catch (e) {
      if (!(e instanceof RequestError) || e.field !== field) {
        throw new Error(`${JSON.stringify(change)}: ${e}`);
      }
      continue;
    }
    throw new Error(`${JSON.stringify(change)} was accepted`);
  }
});

// A1111's Eta noise seed delta (ENSD) through generate() against A1111's txt2img rebuilt from diffusers parts and
// k-diffusion (tests/fixtures/fx_ensd.py): after the starting noise, each image's sampler noise comes from a
// generator seeded with its seed + ENSD (NV and CPU sources, a batch, a negative delta).
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { generate } from "../../../lib/diffusion/pipeline.ts";
import { createGenerator } from "../../../lib/diffusion/noise_source.ts";
import { imageNoise } from "../../../lib/diffusion/image_noise.ts";
import { generationParams, resolveRequest } from "../../../lib/diffusion/request.ts";
import { SdModel } from "../../../lib/diffusion/sd_model.ts";
import type { RngSource } from "../../../lib/diffusion/noise_source.ts";
import { formatInfotext, parseGenerationParameters } from "../../../lib/io/infotext.ts";
import { FIXTURES, MODELS, readRef, type TensorRef } from "../../fixtures.ts";
import { relError } from "./samplers/reference.ts";
import { type ReferenceCase, referenceRequest } from "./reference_request.ts";

interface EnsdCase extends ReferenceCase {
  name: string;
  rng: RngSource;
  batch_size: number;
  eta_noise_seed_delta: number;
  latents: TensorRef;
}

const cases: EnsdCase[] =
  JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "ensd", "manifest.json"))).cases;
let opened: Promise<SdModel> | undefined;
const open = () => opened ??= SdModel.open(join(MODELS, "tiny-sd1"), { session: { threads: 1 } });

for (const c of cases) {
  Deno.test(`ENSD ${c.name}: ${c.sampler}, ${c.rng}, ENSD ${c.eta_noise_seed_delta} follows A1111 within 1e-4`, async () => {
    const request = {
      ...referenceRequest(c),
      rngSource: c.rng,
      batchSize: c.batch_size,
      etaNoiseSeedDelta: c.eta_noise_seed_delta,
    };
    const result = await generate(await open(), request);
    const actual = new Float32Array(result.images.flatMap((i) => [...i.latents]));
    const err = relError(actual, readRef(c.latents));
    console.log(`  ${c.name}: relative error ${err.toExponential(2)}`);
    ok(err <= 1e-4, `relative error ${err}`);
    // Without the delta the sampler noise is the seed's own stream: a different image.
    const plain = await generate(await open(), { ...request, etaNoiseSeedDelta: 0 });
    ok(relError(plain.images[0].latents, result.images[0].latents) > 1e-2, "ENSD changed nothing");
  });
}

Deno.test("ENSD: the stream swaps to seed + ENSD after the starting noise; the posterior draw comes first", () => {
  const shape = [4, 2, 3] as const;
  const r = resolveRequest({
    prompt: "",
    sampler: "Euler a",
    steps: 1,
    cfgScale: 1,
    width: 24,
    height: 16,
    seed: 10,
    rngSource: "CPU",
    etaNoiseSeedDelta: 5,
  });
  const noise = imageNoise(r, 2, shape, 8);
  const own = createGenerator("CPU", 12);
  assertEquals(noise.posterior.randn([3]), own.randn([3]));
  assertEquals(noise.startingNoise(), own.randn([1, ...shape]));
  assertEquals(noise.rng.randn([1, ...shape]), createGenerator("CPU", 17).randn([1, ...shape]));
});

Deno.test("ENSD in the infotext as A1111 writes it: after Clip skip, only for samplers that draw noise with it", () => {
  const base = {
    prompt: "p",
    steps: 4,
    cfgScale: 7,
    width: 64,
    height: 64,
    seed: 1,
    etaNoiseSeedDelta: 31337,
  };
  const fields = (extra: Record<string, unknown>) =>
    generationParams(resolveRequest({ ...base, sampler: "Euler a", ...extra }), { seed: 1, subseed: 0 }, {
      name: "m",
    }).filter(([, v]) => v !== undefined).map(([k]) => k);
  assertEquals(fields({ clipSkip: 2, rngSource: "CPU" }).slice(-3), ["Clip skip", "ENSD", "RNG"]);
  ok(fields({ scheduler: "Karras" }).includes("ENSD"), "Euler a with A1111's samplers");
  const r = resolveRequest({ ...base, sampler: "Euler a" });
  const text = formatInfotext({
    prompt: "p",
    params: generationParams(r, { seed: 1, subseed: 0 }, { name: "m" }),
  });
  assertEquals(parseGenerationParameters(text)["ENSD"], "31337", text);
  ok(!fields({ scheduler: "Karras", eta: 0 }).includes("ENSD"), "eta 0 draws no noise");
  ok(!fields({ sampler: "DPM++ 2M" }).includes("ENSD"), "DPM++ 2M draws no noise");
  ok(!fields({ etaNoiseSeedDelta: 0 }).includes("ENSD"), "no ENSD");
  ok(
    !fields({ sampler: "DPM++ SDE", scheduler: "Karras" }).includes("ENSD"),
    "Brownian noise: seeds, not ENSD",
  );
});

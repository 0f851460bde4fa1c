// SDXL through the whole pipeline against diffusers' StableDiffusionXLPipeline / StableDiffusionXLImg2ImgPipeline
// and A1111's structure on tiny-sdxl (tests/fixtures/fx_sdxl.py): final latents within 1e-4 of the reference's
// largest value, decoded pixels within 1/255.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { generate, type GenerationRequest } from "../../../lib/diffusion/pipeline.ts";
import { SdModel } from "../../../lib/diffusion/sd_model.ts";
import { loadImage } from "../../../lib/io/image.ts";
import { FIXTURES, type Manifest, maxAbsDiff, MODELS, readRef } from "../../fixtures.ts";

export const sdxlRefs: Manifest = JSON.parse(
  Deno.readTextFileSync(join(FIXTURES, "refs", "sdxl", "manifest.json")),
);

let opened: Promise<SdModel> | undefined;
export function sdxl(): Promise<SdModel> {
  opened ??= SdModel.open(join(MODELS, "tiny-sdxl"), { session: { threads: 1 } });
  return opened;
}

function relative(got: Float32Array, ref: Float32Array): number {
  return maxAbsDiff(got, ref) / ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/** Latents within 1e-4 relative; pixels (float and 8-bit) within 1/255. Logs the numbers for the README. */
export function assertMatches(
  got: { latents: Float32Array; pixels: Float32Array; image: { data: Uint8Array } },
  e: Manifest,
  what: string,
) {
  const rel = relative(got.latents, readRef(e.latents));
  const pixels = readRef(e.image);
  const d = maxAbsDiff(got.pixels, pixels);
  const d8 = maxAbsDiff(Float32Array.from(got.image.data, (v) => v / 255), pixels);
  console.log(`  ${what}: latents ${rel.toExponential(2)} relative, pixels ${d.toExponential(2)}`);
  if (!(rel <= 1e-4)) throw new Error(`${what}: latents differ by ${rel} relative`);
  if (!(d <= 1 / 255)) throw new Error(`${what}: pixels differ by ${d * 255}/255`);
  if (!(d8 <= 1 / 255)) throw new Error(`${what}: 8-bit pixels differ by ${d8 * 255}/255`);
}

function request(e: Manifest): GenerationRequest {
  return {
    prompt: e.prompt,
    negativePrompt: e.negative_prompt,
    sampler: e.sampler,
    steps: e.steps,
    cfgScale: e.guidance_scale,
    width: e.width,
    height: e.height,
    seed: e.seed,
    rngSource: "CPU",
  };
}

Deno.test("tiny-sdxl opens as SDXL: two encoders side by side, default size from the UNet's sample_size", async () => {
  const m = await sdxl();
  assertEquals([m.version, m.hiddenSize, m.defaultSize, m.unetIO.added?.pooledWidth], ["sdxl", 16, 64, 8]);
});

for (const e of sdxlRefs.txt2img) {
  Deno.test(`SDXL txt2img ${e.name} (${e.sampler}, ${e.width}×${e.height}) matches diffusers`, async () => {
    const result = await generate(await sdxl(), request(e));
    assertEquals([result.images[0].image.width, result.images[0].image.height], [e.width, e.height]);
    assertMatches(result.images[0], e, `txt2img ${e.name}`);
  });
}

for (const e of sdxlRefs.img2img) {
  Deno.test(`SDXL img2img ${e.name} strength ${e.strength} matches diffusers`, async () => {
    const init = await loadImage(join(FIXTURES, e.init_image));
    if (!init.ok) throw new Error(init.skip.message);
    const result = await generate(await sdxl(), {
      ...request(e),
      initImage: init.image,
      denoisingStrength: e.strength,
    });
    assertMatches(result.images[0], e, `img2img ${e.name}`);
  });
}

for (const c of sdxlRefs.a1111) {
  Deno.test(`SDXL ${c.sampler} (${c.schedule}) through A1111's samplers follows A1111 within 1e-4`, async () => {
    const result = await generate(await sdxl(), {
      prompt: c.prompt,
      negativePrompt: "",
      sampler: c.sampler,
      scheduler: c.schedule,
      steps: c.steps,
      cfgScale: c.cfg_scale,
      width: c.width,
      height: c.height,
      seed: c.seed,
      rngSource: "CPU",
    });
    const rel = relative(result.images[0].latents, readRef(c.latents));
    console.log(`  A1111 ${c.sampler}: latents ${rel.toExponential(2)} relative`);
    if (!(rel <= 1e-4)) throw new Error(`latents differ by ${rel} relative`);
  });
}

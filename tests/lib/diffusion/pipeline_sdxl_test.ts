// SDXL through the whole pipeline against diffusers' StableDiffusionXLPipeline / StableDiffusionXLImg2ImgPipeline
// and A1111's structure on tiny-sdxl (tests/fixtures/fx_sdxl.py): final latents within 1e-4 of the reference's
// largest value, decoded pixels within 1/255.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { generate, type GenerationRequest } from "../../../lib/diffusion/pipeline.ts";
import { loadImage } from "../../../lib/io/image.ts";
import { FIXTURES, readRef } from "../../fixtures.ts";
import { assertMatches, relative, sdxl, sdxlRefs } from "./sdxl_refs.ts";
import { type DiffusersCase, diffusersRequest } from "./reference_request.ts";

/** SDXL references draw with torch's CPU generator, as diffusers does. */
function request(e: DiffusersCase & { sampler: string }): GenerationRequest {
  return { ...diffusersRequest(e, e.sampler), rngSource: "CPU" };
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

// The SDXL refiner on tiny-sdxl + tiny-sdxl-refiner (tests/fixtures/fx_refiner.py): the diffusers path against
// diffusers' ensemble of experts (StableDiffusionXLPipeline with denoising_end, then
// StableDiffusionXLImg2ImgPipeline with denoising_start on those latents), and A1111's samplers against A1111's
// apply_refiner inside one k-diffusion run. Final latents within 1e-4 of the reference's largest value, or 4×
// the reference's own float32 sensitivity where that is larger: the fixture records how far diffusers' result
// moves when its starting noise moves by 1e-6 (the DDIM case, 1.7e-4: DDIM's last steps on this tiny model
// amplify float rounding, diffusers' own included).
import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert";
import { join } from "node:path";
import { generate, type GenerationRequest } from "../../../lib/diffusion/pipeline.ts";
import {
  a1111Switches,
  diffusersCutoff,
  nearestTimestep,
  refinerPrompts,
  sameEncoder,
  SdxlRefiner,
  secondEncoderColumns,
} from "../../../lib/diffusion/refiner.ts";
import { featureParams, resolveRequest } from "../../../lib/diffusion/request.ts";
import { SdModel } from "../../../lib/diffusion/sd_model.ts";
import { FIXTURES, type Manifest, MODELS, readRef } from "../../fixtures.ts";
import { loadImage } from "../../../lib/io/image.ts";
import { assertMatches, relative, sdxl, sdxlRefs } from "./sdxl_refs.ts";
import type { Embedding } from "../../../lib/io/embedding.ts";
import { AESTHETIC_DEFAULTS } from "../../../lib/personalize/aesthetic.ts";
import { withSdxlSession } from "../personalize/sdxl_pair.ts";

const refs: Manifest = JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "refiner", "manifest.json")));
const REFINER_DIR = join(MODELS, "tiny-sdxl-refiner");
let opened: Promise<SdxlRefiner> | undefined;
const refiner = () => opened ??= SdxlRefiner.open(REFINER_DIR, { threads: 1 });

function request(e: Manifest): GenerationRequest {
  return {
    prompt: e.prompt,
    negativePrompt: e.negative_prompt,
    sampler: e.sampler,
    scheduler: e.schedule ?? undefined,
    steps: e.steps,
    cfgScale: e.guidance_scale ?? e.cfg_scale,
    width: e.width,
    height: e.height,
    seed: e.seed,
    rngSource: "CPU",
    refinerCheckpoint: "tiny-sdxl-refiner [0123456789]",
    refinerSwitchAt: e.switch_at,
  };
}

Deno.test("tiny-sdxl-refiner opens as a refiner: text_encoder_2 alone, 5 time ids; not as a checkpoint", async () => {
  const r = await refiner();
  assertEquals([r.hiddenSize, r.unetIO.added?.timeIdCount, r.zeroEmptyNegative], [8, 5, false]);
  await rejects(SdModel.open(REFINER_DIR), /is an SDXL refiner: it runs after a base model/);
});

for (const e of refs.ensemble) {
  Deno.test(`refiner ${e.name}: ${e.sampler}, switch at ${e.switch_at} matches diffusers' ensemble of experts`, async () => {
    let steps = 0;
    const init = e.init_image ? await loadImage(join(FIXTURES, e.init_image)) : undefined;
    if (init && !init.ok) throw new Error(init.skip.message);
    const source = init?.ok ? { initImage: init.image, denoisingStrength: e.strength } : {};
    const result = await generate(await sdxl(), { ...request(e), ...source }, {
      refiner: await refiner(),
      onStep: () => steps++,
    });
    assertMatches(result.images[0], e, `refiner ${e.name}`, Math.max(1e-4, 4 * e.sensitivity));
    ok(result.images[0].refined, "the image says the refiner ran");
    // img2img runs the cut schedule (diffusers' int(steps × strength) steps), across both models.
    assertEquals(steps, init ? Math.trunc(e.steps * e.strength) : e.steps, "one schedule across both models");
    // Without the refiner the same run ends elsewhere: the refiner did take over.
    const base = await generate(await sdxl(), { ...request(e), ...source, refinerCheckpoint: undefined });
    ok(relative(base.images[0].latents, readRef(e.latents)) > 1e-2, "the refiner changed nothing");
  });
}

for (const c of refs.a1111) {
  Deno.test(`refiner ${c.name}: ${c.sampler} (${c.schedule}) switches as A1111's apply_refiner`, async () => {
    const result = await generate(await sdxl(), request(c), { refiner: await refiner() });
    const rel = relative(result.images[0].latents, readRef(c.latents));
    console.log(`  ${c.name}: latents ${rel.toExponential(2)} relative`);
    ok(rel <= 1e-4, `latents differ by ${rel} relative`);
  });
}

Deno.test("refiner personalized: a bigG embedding personalizes the refiner's text_encoder_2 (the base's) too", async () => {
  const e = refs.personalized;
  const p = sdxlRefs.personalize;
  const data = readRef(p[e.personalize.embedding]);
  const embedding: Embedding = { data, shape: [data.length], dtype: "float32", format: "pt" };
  await withSdxlSession(p.projection_1, async (session) => {
    const settings = { ...AESTHETIC_DEFAULTS, ...e.personalize };
    const aesthetic = session.hook([{ name: "bigg", embedding }], settings)!;
    const result = await generate(await sdxl(), request(e), {
      refiner: await refiner(),
      conditioning: [aesthetic.hook],
    });
    assertMatches(result.images[0], e, "refiner personalized");
  });
});

Deno.test("refiner prompts from the base's hooked pair: second-encoder columns; a refiner's own encoder refused", () => {
  // Two tokens, first encoder 2 wide, second 1 wide.
  const base = {
    cond: Float32Array.of(1, 2, 3, 4, 5, 6),
    uncond: Float32Array.of(7, 8, 9, 10, 11, 12),
    tokens: 2,
    hidden: 3,
    pooledCond: Float32Array.of(0.5),
    pooledUncond: Float32Array.of(0.25),
  };
  const own = {
    cond: Float32Array.of(-3, -6),
    uncond: Float32Array.of(-9, -12),
    tokens: 2,
    hidden: 1,
    pooledCond: Float32Array.of(-1),
    pooledUncond: Float32Array.of(-2),
  };
  assertEquals(secondEncoderColumns(base.cond, 2, 1), Float32Array.of(3, 6));
  const zeroed = refinerPrompts(base, own, 2, false);
  assertEquals([zeroed.cond, zeroed.pooledCond, zeroed.uncond, zeroed.pooledUncond], [
    Float32Array.of(3, 6),
    Float32Array.of(0.5),
    own.uncond,
    own.pooledUncond,
  ]);
  assertEquals(refinerPrompts(base, own, 2, true).uncond, Float32Array.of(9, 12));
  ok(sameEncoder(Float32Array.of(1, 2), Float32Array.of(1, 2.00001)));
  ok(!sameEncoder(Float32Array.of(1, 2), Float32Array.of(1, 2.1)));
});

Deno.test("a refiner after a model that is not SDXL is refused, naming refinerCheckpoint", async () => {
  const sd1 = await SdModel.open(join(MODELS, "tiny-sd1"), { session: { threads: 1 } });
  try {
    await rejects(
      generate(sd1, { ...request(refs.ensemble[0]), rngSource: "CPU" }, { refiner: await refiner() }),
      (e: Error & { field?: string }) =>
        e.field === "refinerCheckpoint" && /tiny-sd1 is not SDXL/.test(e.message),
    );
  } finally {
    await sd1.release();
  }
});

Deno.test("refiner at switch 1 never takes over (on either path): the base's image, not marked refined", async () => {
  const e = refs.ensemble[0];
  for (const scheduler of [undefined, "Automatic"]) {
    const req = { ...request(e), scheduler, refinerSwitchAt: 1 };
    const [withRefiner, alone] = await Promise.all([
      generate(await sdxl(), req, { refiner: await refiner() }),
      generate(await sdxl(), { ...req, refinerCheckpoint: undefined }),
    ]);
    assertEquals(withRefiner.images[0].latents, alone.images[0].latents, scheduler ?? "diffusers");
    ok(!withRefiner.images[0].refined);
  }
});

Deno.test("refiner switch rules: A1111's (999 − t) / 1000 in float32, diffusers' rounded cut", () => {
  assertEquals([a1111Switches(199, 0.8), a1111Switches(200, 0.8), a1111Switches(0, 1)], [true, false, false]);
  assertEquals([diffusersCutoff(0.8, 1000), diffusersCutoff(0.7, 1000), diffusersCutoff(0.8125, 1000)], [
    200,
    300,
    188,
  ]);
  assertEquals(diffusersCutoff(0.9995, 1000), 0, "0.5 rounds to even, as Python's round");
  assertEquals(nearestTimestep(Float32Array.of(0.1, 0.2, 0.4), 0.29), 1);
});

Deno.test("refiner request: infotext as A1111 writes it; bad switch points and combinations refused", () => {
  const base = { prompt: "p", sampler: "Euler", steps: 4, cfgScale: 7, width: 64, height: 64, seed: 1 };
  const r = resolveRequest({ ...base, refinerCheckpoint: "ref [abc]", refinerSwitchAt: 0.8 });
  assertEquals(featureParams(r, true), [["Refiner", "ref [abc]"], ["Refiner switch at", 0.8]]);
  assertEquals(featureParams(r, false), [], "a refiner that never took over is not named, as in A1111");
  assertEquals(featureParams(resolveRequest({ ...base, refinerCheckpoint: "" }), true), []);
  for (const v of [0, 1.5, Number.NaN]) {
    ok(
      throwsField(
        () => resolveRequest({ ...base, refinerCheckpoint: "x", refinerSwitchAt: v }),
        "refinerSwitchAt",
      ),
    );
  }
  ok(
    throwsField(
      () => resolveRequest({ ...base, refinerCheckpoint: "x", enableHr: true }),
      "refinerCheckpoint",
    ),
  );
});

function throwsField(f: () => unknown, field: string): boolean {
  try {
    f();
    return false;
  } catch (e) {
    return (e as { field?: string }).field === field;
  }
}

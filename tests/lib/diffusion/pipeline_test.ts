// The whole pipeline against diffusers (tests/fixtures/fx_refs.py txt2img_refs / img2img): final latents and
// decoded pixels for every sampler on the SD 1.x and SD 2.x fixtures, personalized conditioning, img2img; then
// seeds, batches, hooks, progress, interrupt, skip and non-finite values.
import { deepStrictEqual as assertEquals, rejects } from "node:assert";
import { join } from "node:path";
import { generate, type GenerationRequest, RequestError } from "../../../lib/diffusion/pipeline.ts";
import { SdModel } from "../../../lib/diffusion/sd_model.ts";
import { AESTHETIC_DEFAULTS } from "../../../lib/personalize/aesthetic.ts";
import { AestheticSession } from "../../../lib/personalize/aesthetic_session.ts";
import { loadImage, type RgbImage } from "../../../lib/io/image.ts";
import { FIXTURES, type Manifest, maxAbsDiff, MODELS, readRef, refs } from "../../fixtures.ts";
import { diffusersRequest } from "./reference_request.ts";

const SAMPLERS: Record<string, string> = {
  pndm: "PNDM", // the model's own config: PLMS on tiny-sd1 (skip_prk_steps), PRK warm-up on tiny-sd2
  ddim: "DDIM",
  ddim_eta1: "DDIM",
  euler: "Euler",
  euler_a: "Euler a",
  lms: "LMS",
  dpmpp_2m: "DPM++ 2M",
  dpmpp_2m_karras: "DPM++ 2M Karras",
};

const opened = new Map<string, Promise<SdModel>>();
function model(name: string): Promise<SdModel> {
  if (!opened.has(name)) opened.set(name, SdModel.open(join(MODELS, name), { session: { threads: 1 } }));
  return opened.get(name)!;
}

/** Latents within 1e-4 of the reference's largest magnitude; pixels within 1/255, floats and 8-bit alike. */
function assertMatches(
  got: { latents: Float32Array; pixels: Float32Array; image: RgbImage },
  e: { latents: { file: string; shape: number[] }; image: { file: string; shape: number[] } },
  what: string,
) {
  const latents = readRef(e.latents);
  const scale = latents.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const rel = maxAbsDiff(got.latents, latents) / scale;
  if (!(rel <= 1e-4)) throw new Error(`${what}: latents differ by ${rel} relative`);
  const pixels = readRef(e.image);
  const d = maxAbsDiff(got.pixels, pixels);
  if (!(d <= 1 / 255)) throw new Error(`${what}: pixels differ by ${d * 255}/255`);
  const d8 = maxAbsDiff(Float32Array.from(got.image.data, (v) => v / 255), pixels);
  if (!(d8 <= 1 / 255)) throw new Error(`${what}: 8-bit pixels differ by ${d8 * 255}/255`);
}

for (const e of refs().txt2img) {
  const label = e.personalization ? `personalized (${e.personalization})` : SAMPLERS[e.scheduler];
  Deno.test(`txt2img ${e.model} ${label} (${e.scheduler}) matches diffusers`, async () => {
    const m = await model(e.model);
    const hooks = [];
    if (e.personalization) {
      // diffusers ran with prompt_embeds = the paper loop's personalized last_hidden_state at its final step
      // and negative_prompt_embeds = text_encoder(""), which is what our negative prompt "" encodes to.
      const c = refs().personalization.find((p: { name: string }) => p.name === e.personalization);
      const last = String(Math.max(...Object.keys(c.conditioning).map(Number)));
      const cond = readRef(c.conditioning[last].last_hidden_state);
      hooks.push(({ z, negative }: { z: Float32Array; negative: boolean }) =>
        Promise.resolve(negative ? z : cond)
      );
    }
    const result = await generate(m, diffusersRequest(e, SAMPLERS[e.scheduler]), { conditioning: hooks });
    assertEquals(result.images.length, 1);
    assertEquals(result.images[0].complete, true);
    assertEquals([result.images[0].image.width, result.images[0].image.height], [e.width, e.height]);
    assertMatches(result.images[0], e, `${e.model} ${e.scheduler}`);
  });
}

// The same references through the real aesthetic hook: the paper personalizes the prompt and leaves the
// unconditional "" to the frozen encoder, and diffusers ran with exactly that. A hook that also personalized
// the negative prompt (as the A1111 extension does) would move both sides of guidance and fail here.
for (const e of refs().txt2img.filter((e: { personalization?: string }) => e.personalization)) {
  Deno.test(`txt2img ${e.model} through the aesthetic hook (${e.personalization}) matches the paper`, async () => {
    const c = refs().personalization.find((p: { name: string }) => p.name === e.personalization);
    assertEquals(c.prompt, e.prompt);
    const data = readRef(c.embedding);
    const embedding = { data, shape: [data.length], dtype: "float32" as const, format: "pt" as const };
    const session = await AestheticSession.open({
      modelDir: join(MODELS, e.model),
      clipDir: join(MODELS, c.model),
    });
    try {
      const settings = { ...AESTHETIC_DEFAULTS, steps: c.steps, lr: c.lr, weight: 1 };
      const { hook } = session.hook({ name: c.name, embedding }, settings)!;
      const result = await generate(await model(e.model), diffusersRequest(e, SAMPLERS[e.scheduler]), {
        conditioning: [hook],
      });
      assertMatches(result.images[0], e, `${e.model} ${e.personalization}`);
    } finally {
      await session.release();
    }
  });
}

// tests/fixtures/fx_noise.py: diffusers given the starting latents (and, for Euler a, the per-step noise) of a
// Philox stream, and a 72×40 run whose 9×5 latents need the UNet's upsampling sized to its skip connections.
const rngRefs: Manifest = JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "rng", "manifest.json")));
const RNG_SAMPLERS: Record<string, string> = {
  sd1_ddim_philox: "DDIM",
  sd1_euler_a_philox: "Euler a",
  sd1_euler_72x40: "Euler",
};

for (const e of rngRefs.txt2img) {
  Deno.test(`txt2img ${e.name}: rngSource ${e.rng}, ${e.width}×${e.height} matches diffusers`, async () => {
    const result = await generate(await model(e.model), {
      ...diffusersRequest(e, RNG_SAMPLERS[e.name]),
      rngSource: e.rng,
    });
    assertEquals([result.images[0].image.width, result.images[0].image.height], [e.width, e.height]);
    assertMatches(result.images[0], e, e.name);
  });
}

Deno.test("GPU and NV give the same image; CPU another", async () => {
  const m = await model("tiny-sd1");
  const [gpu, nv, cpu] = await Promise.all(
    (["GPU", "NV", "CPU"] as const).map((rngSource) => generate(m, { ...BASE, rngSource })),
  );
  assertEquals(gpu.images[0].latents, nv.images[0].latents);
  if (maxAbsDiff(gpu.images[0].latents, cpu.images[0].latents) < 1e-3) throw new Error("CPU equals GPU");
});

Deno.test("variation seeds: the seed stays, subseed + k varies; strength 0 ignores the subseed", async () => {
  const m = await model("tiny-sd1");
  const v = { ...BASE, rngSource: "NV", subseed: 40, subseedStrength: 0.5 } as const;
  const batch = await generate(m, { ...v, batchSize: 2 });
  assertEquals(batch.images.map((i) => [i.seed, i.subseed]), [[5, 40], [5, 41]]);
  const second = await generate(m, { ...v, subseed: 41 });
  const d = maxAbsDiff(second.images[0].latents, batch.images[1].latents);
  if (!(d <= 1e-5)) throw new Error(`image 1 of the batch differs from subseed 41 alone by ${d}`);
  const full = await generate(m, { ...v, subseedStrength: 1, seed: 6 });
  const subseedAsSeed = await generate(m, { ...BASE, rngSource: "NV", seed: 40 });
  // Strength 1 starts from the subseed's noise; the sampler noise still follows the seed's stream.
  if (maxAbsDiff(full.images[0].latents, subseedAsSeed.images[0].latents) < 1e-3) {
    throw new Error("Euler a's per-step noise should come from the seed, not the subseed");
  }
  const off = await generate(m, { ...BASE, rngSource: "NV", subseed: 40 });
  const plain = await generate(m, { ...BASE, rngSource: "NV" });
  assertEquals(off.images[0].latents, plain.images[0].latents);
});

async function fixtureImage(rel: string): Promise<RgbImage> {
  const d = await loadImage(join(FIXTURES, rel));
  if (!d.ok) throw new Error(d.skip.message);
  return d.image;
}

/** The request an img2img reference ran: the model's PNDM (PLMS) on a 64×64 source. */
async function img2imgRequest(e: Manifest): Promise<GenerationRequest> {
  return {
    prompt: e.prompt,
    sampler: "PNDM",
    steps: e.steps,
    cfgScale: e.guidance_scale,
    width: 64,
    height: 64,
    seed: e.seed,
    initImage: await fixtureImage(e.init_image),
    denoisingStrength: e.strength,
  };
}

for (const e of refs().img2img) {
  Deno.test(`img2img ${e.model} strength ${e.strength} matches diffusers`, async () => {
    const result = await generate(await model(e.model), await img2imgRequest(e));
    // diffusers' get_timesteps: the last ⌊10·0.6⌋ = 6 steps of PLMS's 11 timesteps (one is repeated) → 7 calls.
    assertEquals(result.images[0].stepsDone, 7);
    assertMatches(result.images[0], e, "img2img");
  });
}

for (const e of rngRefs.img2img) {
  Deno.test(`img2img ${e.name}: rngSource ${e.rng} draws in A1111's order and matches diffusers`, async () => {
    // The reference gave diffusers the Philox stream's first draw as the noise and a CPU generator's draw as
    // the posterior sample (tests/fixtures/fx_noise.py img2img_refs).
    const result = await generate(await model(e.model), { ...await img2imgRequest(e), rngSource: e.rng });
    assertMatches(result.images[0], e, e.name);
  });
}

const BASE: GenerationRequest = {
  prompt: "a lighthouse",
  sampler: "Euler a",
  steps: 3,
  cfgScale: 7,
  width: 64,
  height: 48,
  seed: 5,
};

Deno.test("same seed gives the same image; a batch's image i equals seed + i alone", async () => {
  const m = await model("tiny-sd1");
  const a = await generate(m, { ...BASE, batchSize: 2, batchCount: 2 });
  assertEquals(a.images.map((i) => i.seed), [5, 6, 7, 8]);
  const again = await generate(m, { ...BASE, seed: 7 });
  assertEquals(again.images[0].latents, a.images[2].latents);
  const alone = await generate(m, { ...BASE, seed: 6 });
  const d = maxAbsDiff(alone.images[0].latents, a.images[1].latents);
  if (!(d <= 1e-5)) throw new Error(`batched image differs from the single run by ${d}`);
  assertEquals([a.images[0].image.width, a.images[0].image.height], [64, 48]);
  if (maxAbsDiff(a.images[0].latents, a.images[1].latents) === 0) {
    throw new Error("seeds 5 and 6 gave equal latents");
  }
});

Deno.test("hooks see both prompts with chunk ids; progress counts every step with a preview", async () => {
  const m = await model("tiny-sd1");
  const seen: [boolean, number][] = [];
  const steps: string[] = [];
  const starts: number[][] = [];
  await generate(m, { ...BASE, negativePrompt: "blurry", batchSize: 2, batchCount: 2 }, {
    conditioning: [({ z, chunkIds, negative }) => {
      seen.push([negative, chunkIds.length]);
      return Promise.resolve(z);
    }],
    onBatchStart: (batch, seeds) => starts.push([batch, ...seeds]),
    onStep: (p) => {
      const preview = p.preview();
      assertEquals([preview.width, preview.height, preview.data.length], [8, 6, 8 * 6 * 3]);
      steps.push(`${p.batch}/${p.batches}:${p.step}/${p.steps}`);
    },
  });
  assertEquals(seen, [[false, 1], [true, 1]]);
  assertEquals(starts, [[0, 5, 6], [1, 7, 8]]);
  assertEquals(steps, ["0/2:1/3", "0/2:2/3", "0/2:3/3", "1/2:1/3", "1/2:2/3", "1/2:3/3"]);
});

Deno.test("interrupt stops the job after the current step; skip abandons only the running batch", async () => {
  const m = await model("tiny-sd1");
  const control = { interrupted: false, skipped: false };
  const r = await generate(m, { ...BASE, batchCount: 3 }, {
    control,
    onStep: (p) => {
      if (p.batch === 1 && p.step === 2) control.interrupted = true;
    },
  });
  assertEquals(r.interrupted, true);
  assertEquals(r.images.map((i) => [i.seed, i.stepsDone, i.complete]), [[5, 3, true], [6, 2, false]]);

  const skip = { interrupted: false, skipped: false };
  const s = await generate(m, { ...BASE, batchCount: 2 }, {
    control: skip,
    onBatchStart: () => (skip.skipped = false),
    onStep: (p) => {
      if (p.batch === 0 && p.step === 1) skip.skipped = true;
    },
  });
  assertEquals(s.interrupted, false);
  assertEquals(s.images.map((i) => [i.seed, i.stepsDone, i.complete]), [[5, 1, false], [6, 3, true]]);
});

Deno.test("non-finite conditioning is an error naming the step, with no image", async () => {
  const m = await model("tiny-sd1");
  await rejects(
    generate(m, BASE, { conditioning: [({ z }) => Promise.resolve(z.map(() => NaN))] }),
    /latents of seed 5 became NaN or infinite at step 1 of 3/,
  );
});

Deno.test("bad requests are RequestErrors naming the field", async () => {
  const m = await model("tiny-sd1");
  const cases: [Partial<GenerationRequest>, RegExp][] = [
    [{ sampler: "Heun++" }, /unknown sampler "Heun\+\+"/],
    [{ width: 60 }, /width must be a positive multiple of 8, got 60/],
    [{ height: 0 }, /height must be a positive multiple of 8/],
    [{ steps: 0 }, /steps must be a whole number from 1/],
    [{ steps: 2.5 }, /steps must be a whole number/],
    [{ batchSize: 0 }, /batch size must be/],
    [{ cfgScale: NaN }, /CFG scale must be a number/],
    [{ clipSkip: 3 }, /Clip skip must be 1 or 2/],
    [{ seed: -1 }, /seed must be a whole number from 0/],
  ];
  for (const [change, message] of cases) {
    await rejects(
      generate(m, { ...BASE, ...change }),
      (e: Error) => e instanceof RequestError && message.test(e.message),
    );
  }
  const init: RgbImage = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 3) };
  await rejects(
    generate(m, { ...BASE, initImage: init, denoisingStrength: 1.5 }),
    /denoising strength must be/,
  );
  await rejects(
    generate(m, { ...BASE, sampler: "DDIM", initImage: init, denoisingStrength: 0.1 }),
    /denoising strength 0.1 with 3 steps leaves no step to run/,
  );
});

Deno.test("img2img resizes the source to the requested size", async () => {
  const m = await model("tiny-sd1");
  const r = await generate(m, {
    ...BASE,
    width: 32,
    height: 48,
    initImage: await fixtureImage("images/init_64.png"),
    denoisingStrength: 1,
  });
  assertEquals([r.images[0].image.width, r.images[0].image.height, r.images[0].stepsDone], [32, 48, 3]);
});

Deno.test("CLIP skip 2 conditions on the penultimate layer (a different image)", async () => {
  const m = await model("tiny-sd1");
  const one = await generate(m, { ...BASE, sampler: "DDIM" });
  const two = await generate(m, { ...BASE, sampler: "DDIM", clipSkip: 2 });
  if (maxAbsDiff(one.images[0].latents, two.images[0].latents) < 1e-4) {
    throw new Error("clip skip changed nothing");
  }
});

Deno.test("tiledVae: the decoder, img2img's encoder and a pixel hires upscaler's run in tiles", async () => {
  const m = await model("tiny-sd1");
  const req = { ...BASE, width: 128, height: 96, seed: 3 };
  const cases: [string, GenerationRequest][] = [
    ["txt2img", req],
    ["img2img", { ...req, initImage: await fixtureImage("images/init_64.png"), denoisingStrength: 0.6 }],
    ["hires", {
      ...BASE,
      seed: 3,
      enableHr: true,
      hrScale: 2,
      hrUpscaler: "Lanczos",
      denoisingStrength: 0.5,
    }],
  ];
  for (const [what, r] of cases) {
    const [whole] = (await generate(m, r)).images;
    const [tiled] = (await generate(m, { ...r, tiledVae: true })).images;
    assertEquals([tiled.image.width, tiled.image.height], [whole.image.width, whole.image.height], what);
    // Only the VAE tiles: txt2img's latents are the same, the encoded source's (img2img, hires) are not.
    const latents = maxAbsDiff(tiled.latents, whole.latents);
    if (what === "txt2img" ? latents !== 0 : !(latents > 1e-4)) {
      throw new Error(`${what}: latents ${latents}`);
    }
    const pixels = maxAbsDiff(tiled.pixels, whole.pixels);
    if (!(pixels > 1e-3)) throw new Error(`${what}: the tiled decode is the whole one (${pixels})`);
  }
});

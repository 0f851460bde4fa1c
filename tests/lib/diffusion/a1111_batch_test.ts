// Whole txt2img runs through A1111's samplers on the fixture UNets, against A1111's structure in PyTorch
// (k-diffusion's CompVisDenoiser / CompVisVDenoiser, CFGDenoiser, per-image generators; fx_samplers.py).
import { join } from "node:path";
import { sampleA1111Batch } from "../../../lib/diffusion/a1111_batch.ts";
import { encodePromptPair } from "../../../lib/diffusion/conditioning.ts";
import { generate, type GenerationRequest } from "../../../lib/diffusion/pipeline.ts";
import { resolveRequest } from "../../../lib/diffusion/request.ts";
import { imageNoise } from "../../../lib/diffusion/image_noise.ts";
import { SdModel } from "../../../lib/diffusion/sd_model.ts";
import { loadImage } from "../../../lib/io/image.ts";
import { FIXTURES, MODELS, readRef } from "../../fixtures.ts";
import { relError, samplerRefs } from "./samplers/reference.ts";

interface UnetCase {
  model: string;
  sampler: string;
  schedule: string | null;
  steps: number;
  prompt: string;
  seed: number;
  cfg_scale: number;
  latents: { file: string; shape: number[] };
}

const opened = new Map<string, Promise<SdModel>>();
function open(name: string): Promise<SdModel> {
  if (!opened.has(name)) opened.set(name, SdModel.open(join(MODELS, name), { session: { threads: 1 } }));
  return opened.get(name)!;
}

function requestOf(c: UnetCase): GenerationRequest {
  return {
    prompt: c.prompt,
    negativePrompt: "",
    sampler: c.sampler,
    scheduler: c.schedule ?? "Automatic",
    steps: c.steps,
    cfgScale: c.cfg_scale,
    width: 64,
    height: 64,
    seed: c.seed,
  };
}

function checkLatents(what: string, latents: Float32Array, c: UnetCase): void {
  const err = relError(latents, readRef(c.latents));
  console.log(`  ${what} ${c.model} ${c.sampler}: relative error ${err.toExponential(2)}`);
  if (!(err <= 1e-4)) throw new Error(`relative error ${err}`);
}

for (const c of samplerRefs().unet_cases as UnetCase[]) {
  Deno.test(`${c.model} ${c.sampler} (${c.schedule ?? "timesteps"}): final latents follow A1111 within 1e-4`, async () => {
    const model = await open(c.model);
    const steps: number[] = [];
    const result = await generate(model, requestOf(c), { onStep: (p) => steps.push(p.step) });
    checkLatents("txt2img", result.images[0].latents, c);
    if (steps.length === 0 || !result.images[0].complete) throw new Error("no progress reported");
  });
}

interface Img2imgCase extends UnetCase {
  strength: number;
  init_image: string;
}

for (const c of samplerRefs().img2img_cases as Img2imgCase[]) {
  Deno.test(`img2img ${c.model} ${c.sampler} (${c.schedule ?? "timesteps"}): A1111's cut of the schedule`, async () => {
    const loaded = await loadImage(join(FIXTURES, c.init_image));
    if (!loaded.ok) throw new Error(loaded.skip.message);
    const request = { ...requestOf(c), initImage: loaded.image, denoisingStrength: c.strength };
    const result = await generate(await open(c.model), request);
    checkLatents("img2img", result.images[0].latents, c);
  });
}

Deno.test("interrupt stops A1111's samplers between model calls and keeps the last denoised estimate", async () => {
  let calls = 0;
  const control = {
    get interrupted() {
      return calls >= 2;
    },
    skipped: false,
  };
  const result = await generate(await open("tiny-sd1"), {
    prompt: "a lighthouse",
    sampler: "Heun",
    scheduler: "Karras",
    steps: 6,
    cfgScale: 7,
    width: 64,
    height: 64,
    seed: 3,
    batchCount: 2,
  }, { control, onStep: () => calls++ });
  const [image] = result.images;
  if (!result.interrupted || result.images.length !== 1) throw new Error("the second batch must not run");
  if (image.complete || image.stepsDone !== 2) {
    throw new Error(`stepsDone ${image.stepsDone}, complete ${image.complete}`);
  }
  if (!image.latents.every(Number.isFinite)) throw new Error("latents");
});

Deno.test("each image's stream draws every noise of its image (DPM++ SDE's trees excepted)", async () => {
  const model = await open("tiny-sd1");
  const request = resolveRequest({
    prompt: "a lighthouse",
    sampler: "Euler a",
    scheduler: "Uniform",
    steps: 4,
    cfgScale: 7,
    width: 64,
    height: 64,
    seed: 11,
    batchSize: 2,
  });
  const prompts = await encodePromptPair(model, request.prompt, request.negativePrompt, 1);
  const latentShape = [4, 8, 8] as const;
  const images = () => [0, 1].map((k) => imageNoise(request, k, latentShape, 8));
  const draws: number[] = [];
  const counted = images().map((n) => {
    const randn = n.rng.randn.bind(n.rng);
    n.rng.randn = (shape) => (draws.push(n.seed), randn(shape));
    return n;
  });
  const given = await sampleA1111Batch({ model, request, prompts, images: counted, latentShape });
  const plain = await sampleA1111Batch({ model, request, prompts, images: images(), latentShape });
  // The starting noise and one draw per step but the last (sigma 0), for each image.
  if (draws.length !== 2 * 4 || draws.filter((s) => s === 12).length !== 4) throw new Error(`draws ${draws}`);
  given.latents.forEach((x, i) => {
    if (relError(x, plain.latents[i]) !== 0) throw new Error("same generator, same latents");
  });
});

// Stable Diffusion txt2img and img2img over ONNX Runtime, step for step as diffusers' StableDiffusionPipeline and
// StableDiffusionImg2ImgPipeline run them, with A1111's prompt handling, batching and noise sources.
//
//   const model = await SdModel.open("models/sd15");                  // lib/diffusion/sd_model.ts
//   const result = await generate(model, {
//     prompt: "a (lighthouse:1.2) at dusk", negativePrompt: "blurry", sampler: "Euler a",
//     steps: 20, cfgScale: 7, width: 512, height: 512, seed: 1234, batchSize: 2, batchCount: 1,
//     // img2img: initImage: RgbImage (lib/io/image.ts), denoisingStrength: 0.6
//   }, {
//     conditioning: [hook],             // (c: {z, chunkIds, negative}) => Promise<Float32Array>, e.g. aesthetic
//     onBatchStart: (batch, seeds) => {},
//     onStep: ({ step, steps, preview }) => {},   // preview() → a small RGB8 image, computed only when called
//     control: state,                   // { interrupted, skipped }, polled before every step
//   });
//   result.images: [{ image: RgbImage, seed, latents, stepsDone, complete }], result.interrupted
//
// Image k of the job (counting across batches) uses seed + k (with a variation strength: the seed, and subseed
// + k): its own generator of the request's rngSource draws its starting noise (with A1111's variation seed and
// seed resize), then any sampler noise (Euler a, DDIM with eta > 0); image_noise.ts says where img2img's VAE
// posterior sample comes from. Each image has its own streams and scheduler, so an image does not depend on the
// batch it ran in, whichever sampler runs it.
// `skipped` abandons the running batch (the caller resets the flag, e.g. GenerationState.nextImage in
// onBatchStart); `interrupted` abandons the rest of the job. As in A1111, the abandoned batch is still decoded
// and returned with complete: false (A1111 shows such images but does not save them). Non-finite latents stop
// the job with an error; no image is returned for them.
import { basename } from "node:path";
import { setImmediate } from "node:timers";
import type { RgbImage } from "../io/image.ts";
import { sampleA1111Batch } from "./a1111_batch.ts";
import { type ConditioningHook, encodePromptPair, type PromptPair } from "./conditioning.ts";
import { hiresConditioning, upscaleFirstPass } from "./hires/first_pass.ts";
import { blendLatents, maskedStart } from "./inpaint/latents.ts";
import { MaskedContent } from "./inpaint/options.ts";
import { applyOverlay } from "./inpaint/overlay.ts";
import { type InpaintPlan, prepareInpaint } from "./inpaint/prepare.ts";
import { extraUnetChannels, inpaintingConditioning } from "./inpaint/conditioning.ts";
import { TorchGenerator } from "./torch_rng.ts";
import { createGenerator } from "./noise_source.ts";
import { firstNonFinite, img2imgTimesteps, initialLatents, sampleLatentDist } from "./latents.ts";
import { latentPreview } from "./preview.ts";
import {
  type GenerationRequest,
  hiresPassRequest,
  RequestError,
  type ResolvedRequest,
  resolveRequest,
} from "./request.ts";
import type { Scheduler } from "./schedulers/index.ts";
import { schedulerFor } from "./sampler_schedule.ts";
import type { SdModel } from "./sd_model.ts";
import { type ImageNoise, imageNoise, imageSeed } from "./image_noise.ts";
import { UnetBatch } from "./unet.ts";
import {
  diffusersCutoff,
  refinerPrompts,
  sameEncoder,
  type SdxlRefiner,
  secondEncoderColumns,
} from "./refiner.ts";
import { decodeLatents, encodeImage, fitImage } from "./vae.ts";
import type { VaeTiling } from "./vae_tiling.ts";

export type { ConditioningHook, PromptConditioning } from "./conditioning.ts";
export { type GenerationRequest, RequestError } from "./request.ts";

export interface StepProgress {
  /** 0-based batch index and the number of batches. */
  batch: number;
  batches: number;
  /** Steps done in this batch (1 after the first) and the steps this batch runs. */
  step: number;
  steps: number;
  /** The first image of the batch as a latent-resolution RGB approximation (cheap; computed on call). */
  preview(): RgbImage;
}

/** Polled before every step; GenerationState (lib/server/progress.ts) fits. */
export interface GenerationControl {
  readonly interrupted: boolean;
  readonly skipped: boolean;
}

export interface GenerationHooks {
  /** Applied in order to the prompt's and then the negative prompt's conditioning. */
  conditioning?: readonly ConditioningHook[];
  onBatchStart?(batch: number, seeds: readonly number[]): void;
  onStep?(progress: StepProgress): void;
  control?: GenerationControl;
  /** The SDXL refiner the request's refinerCheckpoint names, opened by the caller (lib/diffusion/refiner.ts). */
  refiner?: SdxlRefiner;
}

/** The refiner's part of a run: its model, its own encoding of the prompts, and where it takes over. */
export interface RefinerRun {
  model: SdxlRefiner;
  prompts: PromptPair;
  switchAt: number;
}

export interface GeneratedImage {
  image: RgbImage;
  seed: number;
  /** The variation seed this image used (meaningful when the request's subseedStrength is not 0). */
  subseed: number;
  /** The final latents (C × H/f × W/f), before division by the VAE scaling factor. */
  latents: Float32Array;
  /** The decoder's output in [0, 1], H × W × 3, before rounding to 8 bits. */
  pixels: Float32Array;
  stepsDone: number;
  /** False when interrupt or skip cut sampling short. */
  complete: boolean;
  /** The refiner took over for part of the schedule (A1111 names it in the infotext only then). */
  refined: boolean;
}

export interface GenerationResult {
  images: GeneratedImage[];
  /** The job was interrupted (later batches did not run). */
  interrupted: boolean;
}

/** Runs a txt2img (no initImage) or img2img request. */
export async function generate(
  model: SdModel,
  request: GenerationRequest,
  hooks: GenerationHooks = {},
): Promise<GenerationResult> {
  const r = resolveRequest(request);
  const sides = [["width", r.width], ["height", r.height]] as [string, number][];
  if (r.hires) sides.push(["hrScale", r.hires.target.width], ["hrScale", r.hires.target.height]);
  for (const [side, v] of sides) {
    if (v % model.sizeMultiple !== 0) {
      throw new RequestError(
        `${
          side === "hrScale" ? "the hires size" : side
        } ${v} does not fit this model: its UNet needs sides ` +
          `that are multiples of ${model.sizeMultiple}`,
        side,
      );
    }
  }
  const f = model.vaeScaleFactor;
  const latentShape = [model.latentChannels, r.height / f, r.width / f] as const;

  // 1. Conditioning: both prompts encoded (A1111 chunks and emphasis), hooked (personalization), padded.
  const prompts = await encodePromptPair(model, r.prompt, r.negativePrompt, r.clipSkip, hooks.conditioning);
  // The hires pass reuses them (and so the personalized conditioning) unless it has prompts of its own.
  const hiresPrompts = r.hires ? await hiresConditioning(model, r, prompts, hooks) : undefined;

  // 2. img2img's source: resized, encoded once; each image samples its own posterior draw from it.
  const source = r.initImage ? await encodeSource(model, r) : undefined;
  const refiner = await refinerRun(model, r, hooks.refiner, prompts, (hooks.conditioning?.length ?? 0) > 0);

  const result: GenerationResult = { images: [], interrupted: false };
  for (let batch = 0; batch < r.batchCount; batch++) {
    if (hooks.control?.interrupted) {
      result.interrupted = true;
      break;
    }
    const ks = Array.from({ length: r.batchSize }, (_, i) => batch * r.batchSize + i);
    const seeds = ks.map((k) => imageSeed(r, k));
    hooks.onBatchStart?.(batch, seeds);
    const images = await runBatch(
      model,
      r,
      prompts,
      hiresPrompts,
      source,
      ks,
      latentShape,
      batch,
      hooks,
      refiner,
    );
    result.images.push(...images);
    if (hooks.control?.interrupted) {
      result.interrupted = true;
      break;
    }
  }
  return result;
}

/**
 * The refiner the request names, checked against the base model, with its prompts: its own encoding, or, when
 * conditioning hooks (personalization) ran on the base and the refiner's text_encoder_2 is the base's,
 * the base's hooked second-encoder columns and pooled vector (refiner.ts, refinerPrompts).
 */
async function refinerRun(
  model: SdModel,
  r: ResolvedRequest,
  refiner: SdxlRefiner | undefined,
  base: PromptPair,
  hooked: boolean,
): Promise<RefinerRun | undefined> {
  if (!r.refiner) return undefined;
  if (!refiner) throw new Error(`the refiner ${r.refiner.label} was not opened (generate's hooks.refiner)`);
  // An SDXL refiner continues an SDXL base's latents (same VAE); another model's latents mean nothing to it.
  if (model.version !== "sdxl" || refiner.vaeScaleFactor !== model.vaeScaleFactor) {
    throw new RequestError(
      `the refiner ${r.refiner.label} continues an SDXL model's latents; ${basename(model.dir)} is not SDXL`,
      "refinerCheckpoint",
    );
  }
  const own = await refiner.encode(r.prompt, r.negativePrompt);
  let prompts = own;
  if (hooked && model.xl) {
    // Is the refiner's text_encoder_2 the base's (SDXL 1.0's refiner and base share OpenCLIP bigG)? Their
    // unhooked encodings of the prompt say so.
    const plain = await encodePromptPair(model, r.prompt, r.negativePrompt, r.clipSkip);
    const baseNegativeEncoded = !(model.xl.zeroEmptyNegative && r.negativePrompt.trim() === "");
    if (!sameEncoder(secondEncoderColumns(plain.cond, model.textEncoder.hiddenSize, own.hidden), own.cond)) {
      throw new RequestError(
        `the refiner ${r.refiner.label} has a text_encoder_2 of its own: personalization reaches only the ` +
          "base model's encoders, so turn it off or use a refiner that shares the base's",
        "refinerCheckpoint",
      );
    }
    prompts = refinerPrompts(base, own, model.textEncoder.hiddenSize, baseNegativeEncoded);
  }
  return { model: refiner, prompts, switchAt: r.refiner.switchAt };
}

/** img2img's source, encoded; for inpainting, A1111's preparation of the image and its mask first. */
interface Source {
  moments: Float32Array;
  inpaint?: InpaintPlan;
}

/** The VAE's tiles when the request runs it in tiles. */
function vaeTiling(model: SdModel, r: ResolvedRequest): VaeTiling | undefined {
  return r.tiledVae ? model.vaeTiling : undefined;
}

async function encodeSource(model: SdModel, r: ResolvedRequest): Promise<Source> {
  const encoder = await model.vaeEncoder();
  const inpaint = r.inpaint &&
    prepareInpaint(r.initImage!, r.inpaint, r.width, r.height, model.vaeScaleFactor);
  const image = inpaint?.image ?? await fitImage(r.initImage!, r.width, r.height);
  return { moments: await encodeImage(encoder, image, vaeTiling(model, r)), inpaint };
}

interface ImageRun {
  noise: ImageNoise;
  scheduler: Scheduler;
  latents: Float32Array;
}

/** One sampling pass over a batch: its final latents, and whether it ran to the end. */
interface SampledPass {
  latents: Float32Array[];
  stepsDone: number;
  complete: boolean;
  /** The refiner ran at least one step. */
  refined?: boolean;
}

type BatchProgress = (p: Omit<StepProgress, "batch" | "batches">) => void;

async function runBatch(
  model: SdModel,
  r: ResolvedRequest,
  prompts: PromptPair,
  hiresPrompts: PromptPair | undefined,
  source: Source | undefined,
  ks: number[],
  latentShape: readonly [number, number, number],
  batch: number,
  hooks: GenerationHooks,
  refiner?: RefinerRun,
): Promise<GeneratedImage[]> {
  const progress: BatchProgress = (p) => hooks.onStep?.({ batch, batches: r.batchCount, ...p });
  // 3. Per image: its random streams (the same for every sampler); img2img's VAE posterior sample comes first.
  let noises = ks.map((k) => imageNoise(r, k, latentShape, model.vaeScaleFactor));
  const shape = [1, ...latentShape] as const;
  let init = source
    ? noises.map((noise) => sampleLatentDist(source.moments, noise.posterior, shape, model.scalingFactor))
    : undefined;
  const inpaint = source?.inpaint;
  if (inpaint && init) init = inpaintStart(r, inpaint, init, ks, latentShape);
  // 4. Denoising (inpainting: the source's latents kept outside the mask after every model call, and after).
  const keep = inpaint && init && { latentMask: inpaint.latentMask, init };
  const tiling = vaeTiling(model, r);
  const conditioning = await unetConditioning(
    model,
    latentShape,
    noises,
    source !== undefined,
    tiling,
    inpaint,
  );
  let pass = await samplePass(model, r, prompts, noises, init, latentShape, hooks.control, progress, {
    keep,
    conditioning,
    refiner,
  });
  if (keep) pass.latents = pass.latents.map((x, i) => blendLatents(x, keep.init[i], keep.latentMask));
  let outShape: readonly [number, number, number] = latentShape;

  // 5. Hires fix (A1111's sample_hr_pass): upscale the first pass, then re-run part of a schedule at the new
  // size from fresh noise of each image's seed, with the second pass's sampler, steps and prompts.
  if (r.hires && pass.complete && !hooks.control?.interrupted) {
    const second = hiresPassRequest(r);
    const f = model.vaeScaleFactor;
    outShape = [model.latentChannels, second.height / f, second.width / f];
    noises = ks.map((k) => imageNoise(second, k, outShape, f));
    const posteriors = noises.map((n) => n.posterior);
    const hrInit = await upscaleFirstPass(model, r.hires, pass.latents, latentShape, posteriors, tiling);
    const hrConditioning = await unetConditioning(model, outShape, noises, false, tiling);
    pass = await samplePass(model, second, hiresPrompts!, noises, hrInit, outShape, hooks.control, progress, {
      conditioning: hrConditioning,
    });
  }
  const images = await decodeBatch(model, pass.latents, noises, outShape, pass, tiling);
  // 7. Inpainting: the source's own pixels put back outside the mask (A1111's overlay).
  if (inpaint) {
    for (const img of images) img.image = applyOverlay(img.image, inpaint.overlay, inpaint.pasteTo);
  }
  return images;
}

/**
 * Inpainting's starting latents for "latent noise" (a fresh draw of each image's generator, seeded as A1111's
 * create_random_tensors with the first batch's seeds) and "latent nothing" (zeros) under the mask.
 */
function inpaintStart(
  r: ResolvedRequest,
  inpaint: InpaintPlan,
  init: Float32Array[],
  ks: number[],
  latentShape: readonly [number, number, number],
): Float32Array[] {
  const fill = r.inpaint!.fill;
  if (fill !== MaskedContent.LatentNoise && fill !== MaskedContent.LatentNothing) return init;
  return init.map((x, i) => {
    const noise = fill === MaskedContent.LatentNoise
      ? createGenerator(r.rngSource, imageSeed(r, ks[i] % r.batchSize)).randn([1, ...latentShape])
      : undefined;
    return maskedStart(x, inpaint.latentMask, noise);
  });
}

/** What a pass adds for inpainting: the latent mask kept each step, an inpainting checkpoint's extra input. */
interface PassExtras {
  keep?: { latentMask: Float32Array; init: Float32Array[] };
  conditioning?: Float32Array[];
  refiner?: RefinerRun;
}

/**
 * An inpainting checkpoint's extra UNet input for each image (undefined for a regular checkpoint): img2img's
 * posterior sample comes from the image's posterior stream, after its source's; txt2img's and the hires pass's
 * from a CPU generator seeded with the seed (A1111 draws them from torch's global generator).
 */
async function unetConditioning(
  model: SdModel,
  latentShape: readonly [number, number, number],
  noises: readonly ImageNoise[],
  img2img: boolean,
  tiling: VaeTiling | undefined,
  inpaint?: InpaintPlan,
): Promise<Float32Array[] | undefined> {
  if (extraUnetChannels(model) === 0) return undefined;
  const out: Float32Array[] = [];
  for (const noise of noises) {
    const posterior = img2img ? noise.posterior : new TorchGenerator(noise.seed);
    out.push(await inpaintingConditioning(model, latentShape, posterior, tiling, inpaint));
  }
  return out;
}

/** The batch's starting latents from `init` (img2img, hires) or pure noise (txt2img), denoised. */
async function samplePass(
  model: SdModel,
  r: ResolvedRequest,
  prompts: PromptPair,
  noises: ImageNoise[],
  init: Float32Array[] | undefined,
  latentShape: readonly [number, number, number],
  control: GenerationControl | undefined,
  onStep: BatchProgress,
  extras: PassExtras = {},
): Promise<SampledPass> {
  const { keep, conditioning, refiner } = extras;
  if (r.sampling) {
    // A1111's samplers (a schedule type was asked for, a sampler only they provide, or inpainting).
    return await sampleA1111Batch({
      model,
      request: r,
      prompts,
      init,
      keepMask: keep?.latentMask,
      imageConditioning: conditioning,
      images: noises,
      latentShape,
      control,
      onStep,
      refiner,
    });
  }
  if (keep) throw new Error("inpainting runs A1111's samplers (resolveRequest picks them)");
  let timesteps: number[] = [];
  const runs: ImageRun[] = noises.map((noise, i) => {
    const scheduler = schedulerFor(r.sampler, model.schedulerConfig, r.eta);
    scheduler.setTimesteps(r.steps);
    let latents: Float32Array;
    if (init) {
      timesteps = img2imgTimesteps(scheduler.timesteps, r.steps, r.denoisingStrength);
      if (timesteps.length === 0) {
        throw new RequestError(
          `denoising strength ${r.denoisingStrength} with ${r.steps} steps leaves no step to run`,
          "denoisingStrength",
        );
      }
      latents = scheduler.addNoise(init[i], noise.startingNoise(), timesteps[0]);
    } else {
      timesteps = scheduler.timesteps;
      latents = initialLatents(noise.startingNoise(), scheduler.initNoiseSigma);
    }
    return { noise, scheduler, latents };
  });

  // One UNet batch per step, guidance, then each image's scheduler step.
  const unet = new UnetBatch(model, runs.length, latentShape, prompts, r.cfgScale);
  if (conditioning) {
    unet.withImageConditioning(conditioning, conditioning[0].length / (latentShape[1] * latentShape[2]));
  }
  // The refiner takes the timesteps below diffusers' denoising_end cut (refiner.ts).
  const refined = refiner && {
    unet: new UnetBatch(refiner.model, runs.length, latentShape, refiner.prompts, r.cfgScale),
    cutoff: diffusersCutoff(refiner.switchAt, Number(model.schedulerConfig.num_train_timesteps ?? 1000)),
  };
  let stepsDone = 0;
  let refinedSteps = 0;
  for (const t of timesteps) {
    // onnxruntime-node's run settles without a trip through the event loop, so without this a server could not
    // answer progress or interrupt requests until the whole job was done.
    if (control) await new Promise((resolve) => setImmediate(resolve));
    if (control?.interrupted || control?.skipped) break;
    const inputs = runs.map((run) => run.scheduler.scaleModelInput(run.latents, t));
    const refine = refined && t < refined.cutoff;
    if (refine) refinedSteps++;
    const outputs = await (refine ? refined.unet : unet).predict(inputs, t);
    runs.forEach((run, i) => {
      run.latents = run.scheduler.step(outputs[i], t, run.latents, run.noise.rng);
      if (firstNonFinite(run.latents) >= 0) {
        throw new Error(
          `the latents of seed ${run.noise.seed} became NaN or infinite at step ${stepsDone + 1} of ` +
            `${timesteps.length} (${r.sampler}); the model produced non-finite values, so no image was made`,
        );
      }
    });
    stepsDone++;
    onStep({
      step: stepsDone,
      steps: timesteps.length,
      preview: () => latentPreview(runs[0].latents, ...latentShape),
    });
  }
  return {
    latents: runs.map((run) => run.latents),
    stepsDone,
    complete: stepsDone === timesteps.length,
    refined: refinedSteps > 0,
  };
}

// 6. Decoding: the whole batch through the VAE decoder (or each image in tiles).
async function decodeBatch(
  model: SdModel,
  latents: Float32Array[],
  noises: readonly ImageNoise[],
  latentShape: readonly [number, number, number],
  pass: SampledPass,
  tiling: VaeTiling | undefined,
): Promise<GeneratedImage[]> {
  const all = new Float32Array(latents.length * latents[0].length);
  latents.forEach((x, i) => all.set(x, i * x.length));
  const decoded = await decodeLatents(
    model.vaeDecoder,
    all,
    [latents.length, ...latentShape],
    model.scalingFactor,
    tiling,
  );
  const bad = firstNonFinite(decoded.float);
  if (bad >= 0) {
    throw new Error(
      `the VAE decoder produced NaN or infinite pixels (seed ${noises[0].seed}); no image was made`,
    );
  }
  const perImage = decoded.float.length / latents.length;
  return latents.map((x, i) => ({
    image: decoded.images[i],
    seed: noises[i].seed,
    subseed: noises[i].subseed,
    latents: x,
    pixels: decoded.float.subarray(i * perImage, (i + 1) * perImage),
    stepsDone: pass.stepsDone,
    complete: pass.complete,
    refined: pass.refined === true,
  }));
}

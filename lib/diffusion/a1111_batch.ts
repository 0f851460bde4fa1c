// One batch through A1111's samplers (lib/diffusion/samplers): the pipeline's side of the sampler interface.
// It owns what the samplers must not see: the UNet batch with classifier-free guidance (A1111 guides at any
// scale; DDIM CFG++ divides the scale by 12.5 and reads the negative prompt's prediction), each image's torch
// generator (its starting noise first, then every noise draw, as A1111's ImageRNG), interrupt/skip, and
// progress. img2img starts from the image's VAE posterior sample drawn from the same generator first.
import { setImmediate } from "node:timers";
import type { PromptPair } from "./conditioning.ts";
import { blendLatents } from "./inpaint/latents.ts";
import { firstNonFinite } from "./latents.ts";
import type { GenerationControl, RefinerRun, StepProgress } from "./pipeline.ts";
import { a1111Switches, nearestTimestep } from "./refiner.ts";
import { ModelSigmas } from "./samplers/model_sigmas.ts";
import { latentPreview } from "./preview.ts";
import type { ResolvedRequest } from "./request.ts";
import type { GuidedOutput, ModelCall } from "./samplers/denoiser.ts";
import { modelAlphasCumprod } from "./samplers/model_sigmas.ts";
import { concat } from "./samplers/ops.ts";
import { runSampler } from "./samplers/sample.ts";
import { SamplingStopped } from "./samplers/types.ts";
import { BETA_SCHEMA } from "./schedulers/betas.ts";
import { resolveConfig } from "./schedulers/scheduler.ts";
import type { SdModel } from "./sd_model.ts";
import type { ImageNoise } from "./image_noise.ts";
import { UnetBatch } from "./unet.ts";

export interface A1111Batch {
  model: SdModel;
  request: ResolvedRequest;
  prompts: PromptPair;
  /** img2img and the hires fix's second pass: each image's latents to start from (before noise). */
  init?: Float32Array[];
  /** Inpainting: per latent cell, 1 where the sampler's estimate is kept, 0 where `init` is (A1111's nmask). */
  keepMask?: Float32Array;
  /** An inpainting checkpoint's extra input per image (inpaint/conditioning.ts). */
  imageConditioning?: Float32Array[];
  /** Each image's random streams (image_noise.ts). */
  images: readonly ImageNoise[];
  latentShape: readonly [number, number, number];
  control?: GenerationControl;
  onStep?: (p: Omit<StepProgress, "batch" | "batches">) => void;
  /** The SDXL refiner that takes over at its switch point (A1111's apply_refiner). */
  refiner?: RefinerRun;
}

export interface SampledBatch {
  latents: Float32Array[];
  stepsDone: number;
  complete: boolean;
  /** The refiner took over for at least one model call. */
  refined: boolean;
}

function split(x: Float32Array, count: number): Float32Array[] {
  const n = x.length / count;
  return Array.from({ length: count }, (_, i) => x.subarray(i * n, (i + 1) * n));
}

/** A1111's CFGDenoiser mask blend: after each model call, the source's latents where the mask is 0. */
function blendWith(init: Float32Array, keepMask: Float32Array): (x: Float32Array) => Float32Array {
  return (x) => blendLatents(x, init, keepMask);
}

/**
 * A1111's apply_refiner: undefined (the base model) until a model call's training timestep (the nearest to its
 * sigma; a timestep sampler's own t, truncated) reaches the switch point, then the refiner's UNet batch for
 * every call after.
 */
function refinerSwitch(
  b: A1111Batch,
  alphasCumprod: Float32Array,
  batch: number,
  scale: number,
  guide: boolean,
): (t: number, sigma?: number) => UnetBatch | undefined {
  const refiner = b.refiner!;
  const sigmas = new ModelSigmas(alphasCumprod).sigmas;
  let unet: UnetBatch | undefined;
  return (t, sigma) => {
    if (unet) return unet;
    const timestep = sigma === undefined ? Math.trunc(t) : nearestTimestep(sigmas, sigma);
    if (!a1111Switches(timestep, refiner.switchAt)) return undefined;
    unet = new UnetBatch(refiner.model, batch, b.latentShape, refiner.prompts, scale, guide);
    return unet;
  };
}

export async function sampleA1111Batch(b: A1111Batch): Promise<SampledBatch> {
  const r = b.request;
  const sampling = r.sampling;
  if (!sampling) throw new Error("sampleA1111Batch needs a request resolved to A1111's samplers");
  const { model, images } = b;
  const seeds = images.map((i) => i.seed);
  const shape = [1, ...b.latentShape] as const;
  const rngs = images.map((i) => i.rng);
  const init = b.init;
  const start = concat(images.map((i) => i.startingNoise()));

  const sampler = sampling.choice.sampler;
  const cfgpp = sampler.kind === "timesteps" && sampler.cfgScaleFactor !== undefined;
  const scale = r.cfgScale * (sampler.kind === "timesteps" ? sampler.cfgScaleFactor ?? 1 : 1);
  const unet = new UnetBatch(model, seeds.length, b.latentShape, b.prompts, scale, scale !== 1 || cfgpp);
  const plane = b.latentShape[1] * b.latentShape[2];
  if (b.imageConditioning) {
    unet.withImageConditioning(b.imageConditioning, b.imageConditioning[0].length / plane);
  }
  const betaConfig = resolveConfig(BETA_SCHEMA, model.schedulerConfig, {}, "scheduler config");
  const alphasCumprod = modelAlphasCumprod({
    ...betaConfig,
    rescale_betas_zero_snr: model.schedulerConfig.rescale_betas_zero_snr === true,
  });
  const refine = b.refiner && refinerSwitch(b, alphasCumprod, seeds.length, scale, scale !== 1 || cfgpp);
  let refined = false;
  const call: ModelCall = async (input, t, sigma): Promise<GuidedOutput> => {
    // onnxruntime-node's run settles without a trip through the event loop; let a server answer meanwhile.
    if (b.control) await new Promise((resolve) => setImmediate(resolve));
    if (b.control?.interrupted || b.control?.skipped) throw new SamplingStopped();
    const refiner = refine?.(t, sigma);
    refined ||= refiner !== undefined;
    const out = await (refiner ?? unet).predictGuided(split(input, seeds.length), t);
    return { guided: concat(out.guided), uncond: out.uncond && concat(out.uncond) };
  };
  const result = await runSampler({
    choice: sampling.choice,
    steps: r.steps,
    settings: sampling.settings,
    model: {
      alphasCumprod,
      prediction: model.prediction,
      sdxl: model.version === "sdxl",
    },
    call,
    noise: () => concat(rngs.map((rng) => rng.randn(shape))),
    seeds,
    start,
    init: init && { latents: concat(init), strength: r.denoisingStrength },
    blend: b.keepMask && init && blendWith(concat(init), b.keepMask),
    onStep: (done, total, denoised) => {
      const bad = firstNonFinite(denoised);
      if (bad >= 0) {
        const seed = seeds[Math.floor(bad / (denoised.length / seeds.length))];
        throw new Error(
          `the latents of seed ${seed} became NaN or infinite at step ${done} of ${total} ` +
            `(${sampler.name}); the model produced non-finite values, so no image was made`,
        );
      }
      b.onStep?.({
        step: done,
        steps: total,
        preview: () => latentPreview(denoised.subarray(0, denoised.length / seeds.length), ...b.latentShape),
      });
    },
  });
  const bad = firstNonFinite(result.latents);
  if (bad >= 0) {
    const seed = seeds[Math.floor(bad / (result.latents.length / seeds.length))];
    throw new Error(
      `the latents of seed ${seed} became NaN or infinite (${sampler.name}); no image was made`,
    );
  }
  return {
    latents: split(result.latents, seeds.length).map((x) => x.slice()),
    stepsDone: result.stepsDone,
    complete: result.complete,
    refined,
  };
}

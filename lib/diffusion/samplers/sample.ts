// Runs one of A1111's samplers as KDiffusionSampler / CompVisSampler do: the schedule's sigmas (or A1111's
// timesteps), the starting latents (txt2img: noise × sigma_max; img2img: the image's latents noised to where
// the cut schedule starts), the sampler with its options, and its progress. The caller provides the guided
// model call and the noise source, so nothing here knows about the UNet or the random generators.
import type { PredictionType } from "../schedulers/scheduler.ts";
import type { DpmSolverEntry, SamplingChoice, SigmaSamplerEntry } from "./catalog.ts";
import {
  compVisDenoiser,
  lcmDenoiser,
  LcmSigmas,
  type ModelCall,
  noisePredictor,
  type PredictNoise,
} from "./denoiser.ts";
import { sampleDpmAdaptive, sampleDpmFast } from "./dpm_solver.ts";
import { BrownianNoise } from "./brownian_tree.ts";
import { ModelSigmas } from "./model_sigmas.ts";
import { a1111Timesteps } from "./timestep_samplers.ts";
import {
  DEFAULT_SETTINGS,
  type Denoise,
  type NoiseFn,
  type SamplerSettings,
  SamplingStopped,
} from "./types.ts";

const f = Math.fround;

/** What the samplers need to know of the model. */
export interface SamplingModel {
  /** modelAlphasCumprod(scheduler config), lib/diffusion/samplers/model_sigmas.ts. */
  alphasCumprod: Float32Array;
  prediction: PredictionType;
  /** Align Your Steps picks its SDXL table. */
  sdxl: boolean;
}

export interface SamplingJob {
  choice: SamplingChoice;
  steps: number;
  /** Options the request gave; missing ones take A1111's defaults (eta: the sampler's). */
  settings: Partial<SamplerSettings>;
  model: SamplingModel;
  call: ModelCall;
  noise: NoiseFn;
  /** Each image's seed: the SDE samplers' Brownian trees are seeded with them, as in A1111. */
  seeds: readonly number[];
  /** txt2img: the starting noise (standard normal). img2img: the noise added to `init`. */
  start: Float32Array;
  /** img2img: the source image's latents and how much of the schedule to re-run. */
  init?: { latents: Float32Array; strength: number };
  /**
   * Inpainting: applied to every model output the sampler sees (the denoised estimate, or the timestep
   * samplers' noise prediction), as A1111's CFGDenoiser blends its output with the source's latents.
   */
  blend?: (x: Float32Array) => Float32Array;
  /** Progress: steps done and the run's planned steps, with the step's denoised estimate. */
  onStep?: (done: number, total: number, denoised: Float32Array) => void;
}

export interface SamplingResult {
  latents: Float32Array;
  stepsDone: number;
  /** False when a model call stopped the run (the latents are then the last denoised estimate). */
  complete: boolean;
}

/** The settings a sampler runs with: the request's for the options it reads, A1111's defaults otherwise. */
export function effectiveSettings(job: Pick<SamplingJob, "choice" | "settings">): SamplerSettings {
  const { sampler } = job.choice;
  const out: SamplerSettings = { ...DEFAULT_SETTINGS, eta: job.settings.eta ?? sampler.etaDefault };
  if (sampler.options.includes("s_churn")) out.sChurn = job.settings.sChurn ?? out.sChurn;
  if (sampler.options.includes("s_tmin")) out.sTmin = job.settings.sTmin ?? out.sTmin;
  if (sampler.options.includes("s_tmax")) out.sTmax = job.settings.sTmax ?? out.sTmax;
  if (sampler.options.includes("s_noise")) out.sNoise = job.settings.sNoise ?? out.sNoise;
  return out;
}

/** A1111's get_sigmas: the schedule's n + 1 levels (one more step when the penultimate is discarded). */
export function scheduleSigmas(
  choice: SamplingChoice,
  steps: number,
  model: ModelSigmas,
  sdxl: boolean,
): Float32Array {
  const discard = choice.sampler.kind === "sigmas" && choice.sampler.discardPenultimate === true;
  const n = steps + (discard ? 1 : 0);
  const sigmas = choice.schedule
    ? choice.schedule.sigmas({ n, sigmaMin: model.sigmaMin, sigmaMax: model.sigmaMax, model, sdxl })
    : model.uniform(n);
  if (!discard) return sigmas;
  return Float32Array.from([...sigmas.subarray(0, -2), sigmas[sigmas.length - 1]]);
}

/** img2img's cut (A1111's setup_img2img_steps without img2img_fix_steps): the steps re-run, t_enc. */
function encodedSteps(steps: number, strength: number): number {
  return Math.trunc(Math.min(strength, 0.999) * steps);
}

function scaleF32(x: Float32Array, c: number): Float32Array {
  const k = f(c);
  return x.map((v) => v * k);
}

function noised(init: Float32Array, noise: Float32Array, sigma: number): Float32Array {
  const k = f(sigma);
  return init.map((v, i) => v + f(noise[i] * k));
}

export async function runSampler(job: SamplingJob): Promise<SamplingResult> {
  const settings = effectiveSettings(job);
  let stepsDone = 0;
  let last: Float32Array | undefined;
  let total = job.steps;
  const onStep = (_: number, denoised: Float32Array) => {
    stepsDone++;
    last = denoised;
    // DPM adaptive decides its step count as it goes.
    job.onStep?.(stepsDone, Math.max(total, stepsDone), denoised);
  };
  const { sampler } = job.choice;
  const run = async (): Promise<Float32Array> => {
    if (sampler.kind === "timesteps") {
      const plan = timestepPlan(job);
      // UniPC makes one step per timestep; DDIM and PLMS step between them.
      total = plan.timesteps.length - (sampler.name === "UniPC" ? 0 : 1);
      return await sampler.sample({ ...plan, noise: job.noise, eta: settings.eta, onStep });
    }
    const model = sampler.kind === "sigmas" && sampler.denoiser === "lcm"
      ? new LcmSigmas(job.model.alphasCumprod)
      : new ModelSigmas(job.model.alphasCumprod);
    const sigmas = scheduleSigmas(job.choice, job.steps, model, job.model.sdxl);
    const denoise = blended(
      model instanceof LcmSigmas
        ? lcmDenoiser(model, job.call)
        : compVisDenoiser(model, job.model.prediction, job.call),
      job.blend,
    );
    let sched = sigmas;
    let x: Float32Array;
    if (job.init) {
      sched = sigmas.subarray(job.steps - encodedSteps(job.steps, job.init.strength) - 1);
      x = noised(job.init.latents, job.start, sched[0]);
    } else {
      x = scaleF32(job.start, sigmas[0]);
    }
    if (sampler.kind === "dpm-solver") {
      // DPM fast reports one step per solver step (orders 3, …, 2, 1): ⌊n/3⌋ + 1 of them.
      const n = job.init ? sched.length - 1 : job.steps;
      total = sampler.adaptive ? n : Math.floor(n / 3) + 1;
      return await runDpmSolver(sampler, job, model, sched, x, settings, onStep);
    }
    total = sched.length - 1;
    const entry = sampler as SigmaSamplerEntry;
    const brownian = entry.brownianNoise ? brownianFor(sigmas, job) : undefined;
    return await entry.sample({ x, sigmas: sched, denoise, noise: job.noise, brownian, settings, onStep });
  };
  try {
    const latents = await run();
    return { latents, stepsDone, complete: true };
  } catch (e) {
    if (!(e instanceof SamplingStopped)) throw e;
    return { latents: last ?? job.start, stepsDone, complete: false };
  }
}

/** A1111's create_noise_sampler: trees over the whole schedule's range (img2img's cut included). */
function brownianFor(sigmas: Float32Array, job: SamplingJob): (sigma: number, next: number) => Float32Array {
  let min = Infinity;
  let max = 0;
  for (const s of sigmas) {
    if (s > 0) min = Math.min(min, s);
    max = Math.max(max, s);
  }
  const noise = new BrownianNoise(min, max, job.seeds, job.start.length / job.seeds.length);
  return (sigma, next) => noise.sample(sigma, next);
}

function runDpmSolver(
  sampler: DpmSolverEntry,
  job: SamplingJob,
  model: ModelSigmas,
  sched: Float32Array,
  x: Float32Array,
  settings: SamplerSettings,
  onStep: (step: number, denoised: Float32Array) => void,
): Promise<Float32Array> {
  // txt2img uses the model's whole sigma range and the step count; img2img the cut schedule's range.
  const [sigmaMin, sigmaMax, n] = job.init
    ? [sched[sched.length - 2], sched[0], sched.length - 1]
    : [model.sigmaMin, model.sigmaMax, job.steps];
  const run = {
    x,
    sigmaMin,
    sigmaMax,
    denoise: blended(compVisDenoiser(model, job.model.prediction, job.call), job.blend),
    noise: job.noise,
    eta: settings.eta,
    sNoise: settings.sNoise,
    onStep,
  };
  return sampler.adaptive ? sampleDpmAdaptive(run) : sampleDpmFast(run, n);
}

/** The denoiser with the job's blend applied to its output. */
function blended(denoise: Denoise, blend?: (x: Float32Array) => Float32Array): Denoise {
  return blend ? async (x, sigma) => blend(await denoise(x, sigma)) : denoise;
}

function timestepPlan(job: SamplingJob) {
  const acp = job.model.alphasCumprod;
  const raw = noisePredictor(acp, job.model.prediction, job.call);
  const blend = job.blend;
  const predict: PredictNoise = blend
    ? async (x, t) => {
      const out = await raw(x, t);
      return { ...out, eps: blend(out.eps) };
    }
    : raw;
  let timesteps = a1111Timesteps(job.steps, acp.length);
  let x = job.start;
  if (job.init) {
    const tEnc = encodedSteps(job.steps, job.init.strength);
    const a = acp[timesteps[tEnc]];
    const sa = f(Math.sqrt(a));
    const s1a = f(Math.sqrt(f(1 - a)));
    const init = job.init.latents;
    x = init.map((v, i) => f(v * sa) + f(job.start[i] * s1a));
    timesteps = timesteps.slice(0, tEnc);
  }
  return { x, timesteps, alphasCumprod: acp, predict, img2img: job.init !== undefined };
}

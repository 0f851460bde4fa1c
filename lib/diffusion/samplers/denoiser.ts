// The model wrappers A1111 puts between a sampler and the CFG-guided UNet: k-diffusion's CompVisDenoiser
// (epsilon) and CompVisVDenoiser (v-prediction) turn "UNet output at timestep t" into "denoised estimate at
// noise level sigma", LCM's wrapper does the same on its 50-step schedule, and the timestep samplers (DDIM,
// PLMS) get the noise prediction itself.
import type { PredictionType } from "../schedulers/scheduler.ts";
import type { Denoise } from "./types.ts";
import { linspace32, ModelSigmas } from "./model_sigmas.ts";

const f = Math.fround;

/** The UNet's output for one call, classifier-free guided; `uncond` is the negative prompt's half alone. */
export interface GuidedOutput {
  guided: Float32Array;
  uncond?: Float32Array;
}

/**
 * What the pipeline provides: the CFG-guided UNet run on `input` (the whole batch, already scaled) at the
 * (possibly fractional) training timestep t; the k-diffusion wrappers also say the noise level sigma it came
 * from (A1111's refiner switch reads it). The output is what the model predicts (epsilon or v).
 */
export type ModelCall = (input: Float32Array, t: number, sigma?: number) => Promise<GuidedOutput>;

/** 1 / sqrt(sigma² + 1): the input scaling every wrapper here applies. */
function cIn(sigma: number): number {
  return f(1 / f(Math.sqrt(f(f(sigma * sigma) + 1))));
}

function scaled(x: Float32Array, c: number): Float32Array {
  return x.map((v) => v * c);
}

function checkPrediction(prediction: PredictionType): void {
  if (prediction !== "epsilon" && prediction !== "v_prediction") {
    throw new Error(`these samplers support epsilon and v_prediction models, not ${prediction}`);
  }
}

/** k-diffusion's CompVisDenoiser / CompVisVDenoiser over the model's sigmas. */
export function compVisDenoiser(sigmas: ModelSigmas, prediction: PredictionType, call: ModelCall): Denoise {
  checkPrediction(prediction);
  return async (x, sigma) => {
    const out = (await call(scaled(x, cIn(sigma)), sigmas.sigmaToT(sigma), sigma)).guided;
    const result = new Float32Array(x.length);
    if (prediction === "epsilon") {
      const cOut = f(-sigma);
      for (let i = 0; i < x.length; i++) result[i] = x[i] + f(out[i] * cOut);
    } else {
      const s2 = f(f(sigma * sigma) + 1);
      const cSkip = f(1 / s2);
      const cOut = f(f(-sigma) / f(Math.sqrt(s2)));
      for (let i = 0; i < x.length; i++) result[i] = f(out[i] * cOut) + f(x[i] * cSkip);
    }
    return result;
  };
}

/** LCM's schedule (A1111's LCMCompVisDenoiser): the 50 training steps 19, 39, …, 999, nearest-step lookups. */
export class LcmSigmas extends ModelSigmas {
  static readonly SKIP = 20;

  constructor(alphasCumprod: Float32Array) {
    const n = alphasCumprod.length / LcmSigmas.SKIP;
    super(Float32Array.from({ length: n }, (_, k) => alphasCumprod[LcmSigmas.SKIP - 1 + LcmSigmas.SKIP * k]));
  }

  /** The training timestep of the nearest of the 50 sigmas. */
  override sigmaToT(sigma: number): number {
    const logSigma = f(Math.log(sigma));
    let best = 0;
    for (let i = 1; i < this.logSigmas.length; i++) {
      if (Math.abs(f(logSigma - this.logSigmas[i])) < Math.abs(f(logSigma - this.logSigmas[best]))) best = i;
    }
    return best * LcmSigmas.SKIP + (LcmSigmas.SKIP - 1);
  }

  override tToSigma(t: number): number {
    const k = Math.min(Math.max(f(f(t - (LcmSigmas.SKIP - 1)) / LcmSigmas.SKIP), 0), this.sigmas.length - 1);
    return super.tToSigma(k);
  }

  override uniform(n: number): Float32Array {
    const start = this.sigmaToT(this.sigmaMax);
    const end = this.sigmaToT(this.sigmaMin);
    const out = new Float32Array(n + 1);
    linspace32(start, end, n).forEach((t, i) => out[i] = this.tToSigma(t));
    return out;
  }
}

/**
 * LCM's denoiser: the output is read as epsilon (whatever the model's prediction type, as A1111 does), then
 * the consistency model's boundary scalings at timestep·10 are applied.
 */
export function lcmDenoiser(sigmas: LcmSigmas, call: ModelCall): Denoise {
  return async (x, sigma) => {
    const t = sigmas.sigmaToT(sigma);
    const eps = (await call(scaled(x, cIn(sigma)), t)).guided;
    const ts = f(t * 10);
    const ts2 = f(ts * ts);
    const cSkip = f(0.25 / f(ts2 + 0.25));
    const cOut = f(ts / f(Math.sqrt(f(ts2 + 0.25))));
    const cEps = f(-sigma);
    const result = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) result[i] = f(cOut * f(x[i] + f(eps[i] * cEps))) + f(cSkip * x[i]);
    return result;
  };
}

/** The noise prediction at integer timestep t, and the negative prompt's alone (DDIM CFG++ needs it). */
export type PredictNoise = (
  x: Float32Array,
  t: number,
) => Promise<{ eps: Float32Array; uncond?: Float32Array }>;

/** A1111's CompVisTimestepsDenoiser / CompVisTimestepsVDenoiser: epsilon, converted from v when needed. */
export function noisePredictor(
  alphasCumprod: Float32Array,
  prediction: PredictionType,
  call: ModelCall,
): PredictNoise {
  checkPrediction(prediction);
  return async (x, t) => {
    const out = await call(x, t);
    if (prediction === "epsilon") return { eps: out.guided, uncond: out.uncond };
    const a = alphasCumprod[Math.trunc(t)];
    const sa = f(Math.sqrt(a));
    const s1a = f(Math.sqrt(f(1 - a)));
    const toEps = (v: Float32Array) => {
      const e = new Float32Array(v.length);
      for (let i = 0; i < v.length; i++) e[i] = f(sa * v[i]) + f(s1a * x[i]);
      return e;
    };
    return { eps: toEps(out.guided), uncond: out.uncond && toEps(out.uncond) };
  };
}

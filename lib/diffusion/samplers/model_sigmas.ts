// The model's discrete noise levels as A1111 hands them to k-diffusion: alphas_cumprod computed as the CompVis
// LatentDiffusion does (float64 betas and product, stored as float32), sigma = sqrt((1 − ᾱ) / ᾱ) per training
// step, and k-diffusion's DiscreteSchedule maps between sigma and a fractional timestep by interpolating
// log sigma. Every tensor operation is rounded to float32 as torch does.
import { type BetaConfig, linspaceF32 } from "../schedulers/betas.ts";

/** torch.linspace(start, end, steps) in float32. */
export const linspace32 = linspaceF32;

const f = Math.fround;

/** torch.linspace(start, end, steps, dtype=float64): each half counted from its own end. */
function linspaceF64(start: number, end: number, steps: number): Float64Array {
  const out = new Float64Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const step = (end - start) / (steps - 1);
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? start + step * i : end - step * (steps - i - 1);
  return out;
}

/** ldm's make_beta_schedule in float64 ("linear" there is diffusers' scaled_linear). */
function betasF64(c: BetaConfig): Float64Array {
  const n = c.num_train_timesteps;
  if (c.trained_betas != null) return Float64Array.from(c.trained_betas);
  switch (c.beta_schedule) {
    case "scaled_linear":
      return linspaceF64(Math.sqrt(c.beta_start), Math.sqrt(c.beta_end), n).map((b) => b * b);
    case "linear":
      return linspaceF64(c.beta_start, c.beta_end, n);
    case "squaredcos_cap_v2": {
      const bar = (t: number) => Math.cos((t + 0.008) / 1.008 * Math.PI / 2) ** 2;
      return Float64Array.from({ length: n }, (_, i) => Math.min(1 - bar((i + 1) / n) / bar(i / n), 0.999));
    }
  }
  throw new Error(
    `beta_schedule "${c.beta_schedule}" is not one of linear, scaled_linear, squaredcos_cap_v2`,
  );
}

/** The model's alphas_cumprod buffer: float64 cumulative product of (1 − β), stored as float32. */
export function modelAlphasCumprod(c: BetaConfig): Float32Array {
  if (c.rescale_betas_zero_snr) {
    throw new Error(
      "zero-terminal-SNR schedules (rescale_betas_zero_snr) are not supported by these samplers",
    );
  }
  const b = betasF64(c);
  const out = new Float32Array(b.length);
  let acc = 1;
  for (let i = 0; i < b.length; i++) {
    acc *= 1 - b[i];
    out[i] = acc;
  }
  return out;
}

/** k-diffusion's DiscreteSchedule over a model's alphas_cumprod. */
export class ModelSigmas {
  /** Ascending: sigmas[t] for training step t. */
  readonly sigmas: Float32Array;
  readonly logSigmas: Float32Array;
  readonly alphasCumprod: Float32Array;

  constructor(alphasCumprod: Float32Array) {
    this.alphasCumprod = alphasCumprod;
    this.sigmas = alphasCumprod.map((a) => f(Math.sqrt(f(f(1 - a) / a))));
    this.logSigmas = this.sigmas.map((s) => f(Math.log(s)));
  }

  get sigmaMin(): number {
    return this.sigmas[0];
  }

  get sigmaMax(): number {
    return this.sigmas[this.sigmas.length - 1];
  }

  /** The fractional timestep of sigma: linear interpolation of log sigma between neighbouring steps. */
  sigmaToT(sigma: number): number {
    const ls = this.logSigmas;
    const logSigma = f(Math.log(sigma));
    let low = 0;
    for (let i = 0; i < ls.length; i++) if (f(logSigma - ls[i]) >= 0) low = i;
    low = Math.min(low, ls.length - 2);
    const lo = ls[low];
    const hi = ls[low + 1];
    const w = Math.min(Math.max(f(f(lo - logSigma) / f(lo - hi)), 0), 1);
    return f(f(f(1 - w) * low) + f(w * (low + 1)));
  }

  /** The sigma of a fractional timestep: log sigma interpolated between floor(t) and ceil(t). */
  tToSigma(t: number): number {
    const tf = f(t);
    const low = Math.floor(tf);
    const high = Math.ceil(tf);
    const w = f(tf - low);
    return f(Math.exp(f(f(f(1 - w) * this.logSigmas[low]) + f(w * this.logSigmas[high]))));
  }

  /** get_sigmas(n): n timesteps evenly spaced from the last training step to 0, then a final 0. */
  uniform(n: number): Float32Array {
    const t = linspace32(this.sigmas.length - 1, 0, n);
    const out = new Float32Array(n + 1);
    t.forEach((v, i) => out[i] = this.tToSigma(v));
    return out;
  }
}

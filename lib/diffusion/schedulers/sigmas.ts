// Noise levels (sigma = sqrt((1 - ᾱ) / ᾱ)) for the k-diffusion style samplers, and the Karras / exponential
// respacings, computed with the same float32 / float64 split as diffusers (torch tensors / numpy).
import { combine } from "./scheduler.ts";
import { linspace } from "./timesteps.ts";
import { alphasCumprod, type BetaConfig, betas } from "./betas.ts";

/**
 * alphas_cumprod for the sigma-based schedulers. With zero terminal SNR the last value is 0, whose sigma would
 * be infinite; diffusers clamps it to 2^-24 there, so do we.
 */
export function sigmaCumprod(config: BetaConfig): Float32Array {
  const acp = alphasCumprod(betas(config));
  if (config.rescale_betas_zero_snr) acp[acp.length - 1] = 2 ** -24;
  return acp;
}

const f = Math.fround;

/** sqrt((1 - ᾱ_t) / ᾱ_t) per training step, in float32 as the torch expression gives it. */
export function trainSigmas(acp: Float32Array): Float32Array {
  return acp.map((a) => f(Math.sqrt(f(f(1 - a) / a))));
}

/** np.log of a float32 array: float32 results. */
export function logF32(x: Float32Array): Float32Array {
  return x.map((v) => f(Math.log(v)));
}

/**
 * The (fractional) training timestep whose sigma is `sigma`, by linear interpolation in log-sigma between the
 * two neighbouring training steps, as diffusers' _sigma_to_t.
 */
export function sigmaToT(sigma: number, logSigmas: Float32Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i] >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lo = logSigmas[low];
  const hi = logSigmas[low + 1];
  const w = Math.min(Math.max((lo - logSigma) / (lo - hi), 0), 1);
  return (1 - w) * low + w * (low + 1);
}

/** Karras et al. 2022 (rho = 7): evenly spaced in sigma^(1/rho) from sigmaMax down to sigmaMin. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, steps: number): number[] {
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return linspace(0, 1, steps).map((r) => (maxInv + r * (minInv - maxInv)) ** rho);
}

/** Evenly spaced in log sigma from sigmaMax down to sigmaMin. */
export function exponentialSigmas(sigmaMin: number, sigmaMax: number, steps: number): number[] {
  return linspace(Math.log(sigmaMax), Math.log(sigmaMin), steps).map(Math.exp);
}

/** Model input scaling of the k-diffusion samplers: x / sqrt(sigma² + 1), in float32. */
export function scaleBySigma(sample: Float32Array, sigma: number): Float32Array {
  const d = f(Math.sqrt(f(f(sigma * sigma) + 1)));
  return sample.map((v) => v / d);
}

/** init_noise_sigma: the largest sigma, or sqrt(max² + 1) for "leading" spacing, as diffusers. */
export function initSigma(sigmas: Float32Array, spacing: string): number {
  let max = 0;
  for (const s of sigmas) max = Math.max(max, s);
  return spacing === "linspace" || spacing === "trailing" ? max : f(Math.sqrt(f(f(max * max) + 1)));
}

/** The denoised estimate x0 from the model output at noise level sigma (k-diffusion parameterization). */
export function predictOriginal(
  prediction: "epsilon" | "v_prediction" | "sample",
  modelOutput: Float32Array,
  sample: Float32Array,
  sigma: number,
): Float32Array {
  if (prediction === "epsilon") return combine([[1, sample], [-sigma, modelOutput]]);
  if (prediction === "sample") return modelOutput;
  const s2p1 = f(f(sigma * sigma) + 1);
  const c = f(-sigma / f(Math.sqrt(s2p1)));
  const out = new Float32Array(sample.length);
  for (let i = 0; i < out.length; i++) out[i] = f(modelOutput[i] * c) + f(sample[i] / s2p1);
  return out;
}

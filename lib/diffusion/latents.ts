// The latent-space arithmetic of the diffusers pipelines, with torch's float32 rounding: starting noise
// (randn_tensor on the CPU generator), classifier-free guidance, the VAE posterior sample img2img starts from
// (DiagonalGaussianDistribution.sample), and img2img's cut of the schedule (get_timesteps).
import type { TorchGenerator } from "./torch_rng.ts";

const f = Math.fround;

/** txt2img's first latents: randn(shape) from the image's generator, times the scheduler's initial sigma. */
export function initialLatents(
  rng: TorchGenerator,
  shape: readonly number[],
  initNoiseSigma: number,
): Float32Array {
  const noise = rng.randn(shape);
  if (initNoiseSigma !== 1) {
    const s = f(initNoiseSigma);
    for (let i = 0; i < noise.length; i++) noise[i] = f(noise[i] * s);
  }
  return noise;
}

/** uncond + scale·(cond − uncond) into `out`, as diffusers combines the two halves of the UNet batch. */
export function guide(uncond: Float32Array, cond: Float32Array, scale: number, out: Float32Array): void {
  const g = f(scale);
  for (let i = 0; i < out.length; i++) out[i] = f(uncond[i] + f(g * f(cond[i] - uncond[i])));
}

/**
 * A sample of the VAE posterior: the encoder's moments are [mean; logvar] along the channels (1 × 2C × h × w);
 * logvar is clamped to [−30, 20] and x = mean + exp(logvar / 2)·ε with ε ~ randn from `rng`, then scaled.
 */
export function sampleLatentDist(
  moments: Float32Array,
  rng: Pick<TorchGenerator, "randn">,
  shape: readonly [number, number, number, number],
  scalingFactor: number,
): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (moments.length !== 2 * n) {
    throw new Error(`the VAE encoder returned ${moments.length} values, expected ${2 * n} (mean and logvar)`);
  }
  const eps = rng.randn(shape);
  const sf = f(scalingFactor);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const logvar = Math.min(Math.max(moments[n + i], -30), 20);
    const std = f(Math.exp(f(0.5 * logvar)));
    out[i] = f(sf * f(moments[i] + f(std * eps[i])));
  }
  return out;
}

/**
 * The timesteps img2img runs: the last min(⌊steps·strength⌋, steps) of the schedule (diffusers' get_timesteps
 * for first-order samplers). Empty when the strength is too low for one step.
 */
export function img2imgTimesteps(timesteps: readonly number[], steps: number, strength: number): number[] {
  const init = Math.min(Math.trunc(steps * strength), steps);
  const start = Math.max(steps - init, 0);
  return timesteps.slice(start);
}

/** The index of the first NaN or infinity, or −1. */
export function firstNonFinite(x: Float32Array): number {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return i;
  return -1;
}

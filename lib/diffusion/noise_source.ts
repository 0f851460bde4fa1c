// Where an image's random numbers come from, as A1111's "Random number generator source" setting
// (modules/rng.py): one generator per image, seeded with the image's seed, that draws its starting noise and
// then every sampler noise (ancestral samplers, DDIM with eta > 0) in order.
//
//  - "CPU": torch.Generator("cpu"), the Mersenne Twister stream (torch_rng.ts).
//  - "GPU": torch.randn on a CUDA device: Philox4x32-10 + Box–Muller (philox.ts). A1111's default.
//  - "NV":  A1111's own numpy imitation of the GPU stream, for machines without an NVIDIA card. Both compute
//           the same numbers (the GPU's fast float32 sin/log differ in the last bits), so both use philox.ts.
import { PhiloxGenerator } from "./philox.ts";
import { TorchGenerator } from "./torch_rng.ts";

export const RNG_SOURCES = ["CPU", "GPU", "NV"] as const;
export type RngSource = typeof RNG_SOURCES[number];

/** A1111's default source; its infotext names the source only when it differs ("RNG: CPU"). */
export const A1111_DEFAULT_RNG: RngSource = "GPU";

/**
 * One image's random stream: each call draws the next standard normal tensor (row-major) of `shape`. This is
 * all the samplers see, so a new source needs no change to them.
 */
export interface NoiseGenerator {
  randn(shape: readonly number[]): Float32Array;
}

/** A fresh generator of `source` seeded with `seed` (a whole number in [0, 2^64)). */
export function createGenerator(source: RngSource, seed: number | bigint): NoiseGenerator {
  return source === "CPU" ? new TorchGenerator(seed) : new PhiloxGenerator(seed);
}

export function isRngSource(v: unknown): v is RngSource {
  return (RNG_SOURCES as readonly unknown[]).includes(v);
}

// The random streams of image k of a job, the same for every sampler: its seed and variation seed (A1111's
// all_seeds / all_subseeds), its generator of the request's noise source, where img2img's VAE posterior sample
// comes from, and its starting noise (variation seed and seed resize applied). With A1111's Eta noise seed
// delta (ENSD) the stream that follows the starting noise is a fresh generator seeded with seed + ENSD, as
// A1111's ImageRNG.first swaps its generators once the starting noise is drawn (modules/rng.py).
import { createGenerator, type NoiseGenerator } from "./noise_source.ts";
import type { ResolvedRequest } from "./request.ts";
import { TorchGenerator } from "./torch_rng.ts";
import { startingNoise } from "./variation.ts";

export interface ImageNoise {
  seed: number;
  subseed: number;
  /**
   * The image's stream: its starting noise, then the sampler's per-step noise (from seed + ENSD's generator
   * once the starting noise is drawn, when the request has an ENSD).
   */
  rng: NoiseGenerator;
  /**
   * img2img's posterior sample: with "CPU" the image's own stream, drawn before the noise as diffusers does;
   * with "GPU"/"NV" a CPU generator seeded with the seed (A1111 draws it from torch's global CPU generator,
   * which its torch.manual_seed(seed) leaves seeded that way), so the noise stays the stream's first draw.
   */
  posterior: NoiseGenerator;
  /** Draws the starting noise (C × H × W) from `rng`. */
  startingNoise(): Float32Array;
}

/** Image k's seed: seed + k, or the seed itself when variation seeds vary the images (A1111's all_seeds). */
export function imageSeed(r: ResolvedRequest, k: number): number {
  return r.subseedStrength === 0 ? r.seed + k : r.seed;
}

/** Image k's variation seed (A1111's all_subseeds). */
export function imageSubseed(r: ResolvedRequest, k: number): number {
  return r.subseed + k;
}

/** torch's manual_seed takes [−2^63, 2^64) and maps negative seeds to seed + 2^64. */
function generatorSeed(seed: number): bigint {
  const s = BigInt(seed);
  return s < 0n ? s + (1n << 64n) : s;
}

/** A generator that draws from one generator until `swap` hands its draws to another. */
class SwappableGenerator implements NoiseGenerator {
  constructor(private current: NoiseGenerator) {}
  swap(next: NoiseGenerator): void {
    this.current = next;
  }
  randn(shape: readonly number[]): Float32Array {
    return this.current.randn(shape);
  }
}

export function imageNoise(
  r: ResolvedRequest,
  k: number,
  latentShape: readonly [number, number, number],
  vaeScaleFactor: number,
): ImageNoise {
  const seed = imageSeed(r, k);
  const subseed = imageSubseed(r, k);
  const rng = new SwappableGenerator(createGenerator(r.rngSource, seed));
  return {
    seed,
    subseed,
    rng,
    posterior: r.rngSource === "CPU" ? rng : new TorchGenerator(seed),
    startingNoise: () => {
      const noise = startingNoise(r.rngSource, rng, seed, latentShape, { ...r, subseed }, vaeScaleFactor);
      const delta = r.etaNoiseSeedDelta;
      if (delta !== 0) rng.swap(createGenerator(r.rngSource, generatorSeed(seed + delta)));
      return noise;
    },
  };
}

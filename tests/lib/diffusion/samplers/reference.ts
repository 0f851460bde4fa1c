// Shared by the sampler tests: replays tests/fixtures/fx_samplers.py's analytic model and A1111's per-image
// noise, and reads refs/samplers/.
import { join } from "node:path";
import type { GuidedOutput, ModelCall } from "../../../../lib/diffusion/samplers/denoiser.ts";
import { concat } from "../../../../lib/diffusion/samplers/ops.ts";
import type { NoiseFn } from "../../../../lib/diffusion/samplers/types.ts";
import { TorchGenerator } from "../../../../lib/diffusion/torch_rng.ts";
import { FIXTURES, type Manifest, readRef } from "../../../fixtures.ts";

const f = Math.fround;

let manifest: Manifest | undefined;

export function samplerRefs(): Manifest {
  manifest ??= JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "samplers", "manifest.json")));
  return manifest!;
}

/** The fixture's guided model: u + scale·(c − u), c = 0.3·x + 0.8·cos(t/1000·π)·base, u with base2. */
export function fakeCall(scale: number): ModelCall {
  const m = samplerRefs();
  const base = readRef(m.base);
  const base2 = readRef(m.base2);
  const s = f(scale);
  return (input: Float32Array, t: number): Promise<GuidedOutput> => {
    const k = f(f(0.8) * f(Math.cos(f(f(f(t) / 1000) * f(Math.PI)))));
    const guided = new Float32Array(input.length);
    const uncond = new Float32Array(input.length);
    for (let i = 0; i < input.length; i++) {
      const j = i % base.length;
      const x = f(0.3 * input[i]);
      const c = x + f(k * base[j]);
      const u = x + f(k * base2[j]);
      uncond[i] = u;
      guided[i] = u + f(f(c - u) * s);
    }
    return Promise.resolve({ guided, uncond });
  };
}

/** A1111's ImageRNG on the CPU: one generator per seed; the first draw is the starting noise. */
export function imageNoise(): { start: Float32Array; noise: NoiseFn } {
  const m = samplerRefs();
  const gens = (m.seeds as number[]).map((s) => new TorchGenerator(s));
  const draw = () => concat(gens.map((g) => g.randn(m.shape)));
  return { start: draw(), noise: draw };
}

/** Largest difference over the largest reference magnitude. */
export function relError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return Number.isNaN(diff) ? Infinity : diff / scale;
}

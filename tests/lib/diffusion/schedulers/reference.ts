// Shared by the scheduler tests: replays tests/fixtures/fx_refs.py scheduler_refs (a fake model, eight steps,
// noise from a generator seeded 42) and compares every step's latents with diffusers'.
import { createScheduler } from "../../../../lib/diffusion/schedulers/index.ts";
import type { Scheduler } from "../../../../lib/diffusion/schedulers/scheduler.ts";
import { TorchGenerator } from "../../../../lib/diffusion/torch_rng.ts";
import { readRef, refs } from "../../../fixtures.ts";

const f = Math.fround;

export interface ReferenceCase {
  scheduler: string;
  prediction_type: string;
  config: Record<string, unknown>;
  steps: number;
  generator_seed: number;
  timesteps: number[];
  sigmas: number[];
  init_noise_sigma: number;
  latents: { file: string; shape: number[] };
}

export function referenceCases(fixtureName: string): ReferenceCase[] {
  const cases = (refs().schedulers.cases as ReferenceCase[]).filter((c) => c.scheduler === fixtureName);
  if (cases.length !== 2) throw new Error(`expected epsilon and v_prediction cases for ${fixtureName}`);
  return cases;
}

/** The fixture's stand-in UNet, 0.3 * sample + 0.8 * cos(t / 1000 * pi) * base, in float32 like torch. */
export function fakeModel(sample: Float32Array, t: number, base: Float32Array): Float32Array {
  const k = f(f(0.8) * f(Math.cos(f(f(f(t) / 1000) * f(Math.PI)))));
  const out = new Float32Array(sample.length);
  for (let i = 0; i < out.length; i++) out[i] = f(f(0.3) * sample[i]) + f(k * base[i]);
  return out;
}

/** Runs the case's loop; returns the worst per-step error relative to that step's largest |value|. */
export function replay(c: ReferenceCase, scheduler: Scheduler): number {
  const s = refs().schedulers;
  const base = readRef(s.base);
  const noise = readRef(s.noise);
  const expected = readRef(c.latents);
  scheduler.setTimesteps(c.steps);
  const per = expected.length / scheduler.timesteps.length;
  if (!Number.isInteger(per) || per !== noise.length) {
    throw new Error(
      `${c.scheduler}: ${scheduler.timesteps.length} timesteps do not fit latents [${c.latents.shape}]`,
    );
  }
  const rng = new TorchGenerator(c.generator_seed);
  let latents: Float32Array = noise.map((v) => v * scheduler.initNoiseSigma);
  let worst = 0;
  scheduler.timesteps.forEach((t, k) => {
    const input = scheduler.scaleModelInput(latents, t);
    latents = scheduler.step(fakeModel(input, t, base), t, latents, rng);
    const want = expected.subarray(k * per, (k + 1) * per);
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < per; i++) {
      diff = Math.max(diff, Math.abs(latents[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    const rel = diff / scale;
    if (!(rel <= 1e-4)) {
      throw new Error(`${c.scheduler} ${c.prediction_type} step ${k} (t=${t}): rel error ${rel}`);
    }
    worst = Math.max(worst, rel);
  });
  return worst;
}

/** Registers the standard checks of one fixture scheduler: schedule, init sigma, per-step latents. */
export function testAgainstDiffusers(fixtureName: string, className: string, eta = 0): void {
  for (const c of referenceCases(fixtureName)) {
    Deno.test(`${fixtureName} (${c.prediction_type}) follows diffusers step for step within 1e-4`, () => {
      const s = createScheduler(className, c.config, {}, { eta });
      s.setTimesteps(c.steps);
      if (JSON.stringify(s.timesteps) !== JSON.stringify(c.timesteps)) {
        throw new Error(`timesteps [${s.timesteps}] != diffusers [${c.timesteps}]`);
      }
      if (Math.abs(s.initNoiseSigma - c.init_noise_sigma) > 1e-6 * c.init_noise_sigma) {
        throw new Error(`initNoiseSigma ${s.initNoiseSigma} != ${c.init_noise_sigma}`);
      }
      const sigmas = (s as { sigmas?: Float32Array }).sigmas;
      if (c.sigmas.length) {
        c.sigmas.forEach((want, i) => {
          if (Math.abs(sigmas![i] - want) > 1e-6 * Math.max(1, want)) {
            throw new Error(`sigma ${i}: ${sigmas![i]} != ${want}`);
          }
        });
      }
      const worst = replay(c, createScheduler(className, c.config, {}, { eta }));
      console.log(
        `  ${fixtureName} ${c.prediction_type}: max per-step relative error ${worst.toExponential(2)}`,
      );
    });
  }
}

export function assertThrows(fn: () => unknown, pattern: RegExp, what: string): void {
  try {
    fn();
  } catch (e) {
    const msg = (e as Error).message;
    if (!pattern.test(msg)) throw new Error(`${what}: error "${msg}" does not match ${pattern}`);
    return;
  }
  throw new Error(`${what}: no error thrown`);
}

export function assertNear(actual: number, expected: number, tol: number, what: string): void {
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new Error(`${what}: ${actual} != ${expected} (tol ${tol})`);
  }
}

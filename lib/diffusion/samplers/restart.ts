// Restart sampling (Xu et al. 2023), A1111's restart_sampler: Heun steps on a Karras schedule, with the
// interval near sigma = 0.1 re-noised to sigma ≈ 2 and re-solved once (twice from 36 steps on).
import { heunCorrect } from "./heun.ts";
import { addNoise, axpy, toD } from "./ops.ts";
import { karras } from "./schedules.ts";
import type { SigmaRun } from "./types.ts";

/** The index of the sigma nearest `value` (torch.argmin: the first on ties). */
function nearest(sigmas: Float32Array, value: number): number {
  let best = 0;
  for (let i = 1; i < sigmas.length; i++) {
    if (Math.abs(Math.fround(sigmas[i] - value)) < Math.abs(Math.fround(sigmas[best] - value))) best = i;
  }
  return best;
}

/** The (from, to) pairs to step through, restart segments included. */
export function restartPlan(given: Float32Array): Array<[number, number]> {
  let sigmas = given;
  const steps = sigmas.length - 1;
  const restarts = new Map<number, [number, number, number]>();
  if (steps >= 20) {
    const restartSteps = steps >= 36 ? Math.floor(steps / 4) : 9;
    const times = steps >= 36 ? 2 : 1;
    sigmas = karras(steps - restartSteps * times, sigmas[sigmas.length - 2], sigmas[0]);
    restarts.set(nearest(sigmas, 0.1), [restartSteps + 1, times, 2]);
  }
  const plan: Array<[number, number]> = [];
  for (let i = 0; i < sigmas.length - 1; i++) {
    plan.push([sigmas[i], sigmas[i + 1]]);
    const restart = restarts.get(i + 1);
    if (!restart) continue;
    const [restartSteps, times, restartMax] = restart;
    const maxIdx = nearest(sigmas, restartMax);
    if (maxIdx >= i + 1) continue;
    const segment = karras(restartSteps, sigmas[i + 1], sigmas[maxIdx]).subarray(0, -1);
    for (let k = 0; k < times; k++) {
      for (let j = 0; j + 1 < segment.length; j++) plan.push([segment[j], segment[j + 1]]);
    }
  }
  return plan;
}

export async function sampleRestart(run: SigmaRun): Promise<Float32Array> {
  let x = run.x;
  let last: number | undefined;
  let step = 0;
  for (const [from, to] of restartPlan(run.sigmas)) {
    if (last !== undefined && last < from) {
      x = addNoise(x, run.noise(), run.settings.sNoise * Math.sqrt(from ** 2 - last ** 2));
    }
    const denoised = await run.denoise(x, from);
    const d = toD(x, denoised, from);
    run.onStep(step++, denoised);
    x = to === 0 ? axpy(x, to - from, d) : await heunCorrect(run, x, d, to - from, to);
    last = to;
  }
  return x;
}

// Heun's second-order method (Karras et al. 2022, Algorithm 2), k-diffusion's sample_heun: an Euler step, the
// derivative again at its end, and the step redone with their mean (plain Euler onto sigma = 0).
import { churnedStep } from "./churn.ts";
import { axpy, mean2, toD } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

export async function sampleHeun(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  let x = run.x;
  for (let i = 0; i < s.length - 1; i++) {
    const c = await churnedStep(run, i, x);
    const dt = s[i + 1] - c.sigmaHat;
    x = s[i + 1] === 0 ? axpy(c.x, dt, c.d) : await heunCorrect(run, c.x, c.d, dt, s[i + 1]);
  }
  return x;
}

/** The corrector half of a Heun step from x with derivative d over dt, ending at sigmaNext. */
export async function heunCorrect(
  run: Pick<SigmaRun, "denoise">,
  x: Float32Array,
  d: Float32Array,
  dt: number,
  sigmaNext: number,
): Promise<Float32Array> {
  const x2 = axpy(x, dt, d);
  const d2 = toD(x2, await run.denoise(x2, sigmaNext), sigmaNext);
  return axpy(x, dt, mean2(d, d2));
}

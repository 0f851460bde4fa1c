// DPM-Solver-2 inspired steps (k-diffusion's sample_dpm_2): the derivative at the log-midpoint of sigma_hat
// and the next sigma carries the whole step.
import { churnedStep } from "./churn.ts";
import { axpy, toD } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

const f = Math.fround;

/** exp(lerp(log a, log b, 0.5)) in float32, as torch's lerp computes it for weight 0.5. */
export function logMidpoint(a: number, b: number): number {
  const la = f(Math.log(a));
  const lb = f(Math.log(b));
  return f(Math.exp(f(lb - f(f(lb - la) * 0.5))));
}

/** From x with derivative d at sigma: a half step to the log-midpoint, then the full step with its derivative. */
export async function midpointStep(
  run: Pick<SigmaRun, "denoise">,
  x: Float32Array,
  d: Float32Array,
  sigma: number,
  sigmaNext: number,
): Promise<Float32Array> {
  const mid = logMidpoint(sigma, sigmaNext);
  const x2 = axpy(x, mid - sigma, d);
  const d2 = toD(x2, await run.denoise(x2, mid), mid);
  return axpy(x, sigmaNext - sigma, d2);
}

export async function sampleDpm2(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  let x = run.x;
  for (let i = 0; i < s.length - 1; i++) {
    const c = await churnedStep(run, i, x);
    x = s[i + 1] === 0
      ? axpy(c.x, s[i + 1] - c.sigmaHat, c.d)
      : await midpointStep(run, c.x, c.d, c.sigmaHat, s[i + 1]);
  }
  return x;
}

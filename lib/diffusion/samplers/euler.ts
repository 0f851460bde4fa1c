// Euler steps on the probability-flow ODE (Karras et al. 2022, Algorithm 2), k-diffusion's sample_euler.
import { churnedStep } from "./churn.ts";
import { axpy } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

export async function sampleEuler(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  let x = run.x;
  for (let i = 0; i < s.length - 1; i++) {
    const c = await churnedStep(run, i, x);
    x = axpy(c.x, s[i + 1] - c.sigmaHat, c.d);
  }
  return x;
}

// Euler steps on the probability-flow ODE (Karras et al. 2022, Algorithm 2), k-diffusion's sample_euler.
import { churn } from "./churn.ts";
import { axpy, toD } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

export async function sampleEuler(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  let x = run.x;
  for (let i = 0; i < s.length - 1; i++) {
    const c = churn(run, i, x);
    x = c.x;
    const denoised = await run.denoise(x, c.sigmaHat);
    const d = toD(x, denoised, c.sigmaHat);
    run.onStep(i, denoised);
    x = axpy(x, s[i + 1] - c.sigmaHat, d);
  }
  return x;
}

// The start of a step of Euler, Heun and DPM2 (Karras et al. 2022, Algorithm 2): the optional stochastic
// "churn" that raises the noise level from sigma to sigma_hat with fresh noise (when s_churn > 0 and sigma lies
// in [s_tmin, s_tmax]), then the denoised estimate and the ODE derivative there.
import { addNoise, scale, toD } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

export interface ChurnedStep {
  x: Float32Array;
  sigmaHat: number;
  denoised: Float32Array;
  d: Float32Array;
}

export async function churnedStep(run: SigmaRun, i: number, x: Float32Array): Promise<ChurnedStep> {
  const { sChurn, sTmin, sTmax, sNoise } = run.settings;
  const sigma = run.sigmas[i];
  const gamma = sTmin <= sigma && sigma <= sTmax
    ? Math.min(sChurn / (run.sigmas.length - 1), Math.SQRT2 - 1)
    : 0;
  // k-diffusion draws this noise every step, used or not; with churn off nothing ever uses it, so skip it.
  const eps = sChurn > 0 ? scale(run.noise(), sNoise) : undefined;
  const sigmaHat = Math.fround(sigma * (gamma + 1));
  if (gamma > 0 && eps) x = addNoise(x, eps, Math.sqrt(sigmaHat ** 2 - sigma ** 2));
  const denoised = await run.denoise(x, sigmaHat);
  const d = toD(x, denoised, sigmaHat);
  run.onStep(i, denoised);
  return { x, sigmaHat, denoised, d };
}

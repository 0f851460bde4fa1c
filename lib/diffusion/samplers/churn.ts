// The stochastic "churn" of Karras et al. (2022) Algorithm 2 that Euler, Heun and DPM2 share: raise the noise
// level from sigma to sigma_hat by adding fresh noise, when s_churn > 0 and sigma lies in [s_tmin, s_tmax].
import { addNoise, scale } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

export function churn(run: SigmaRun, i: number, x: Float32Array): { x: Float32Array; sigmaHat: number } {
  const { sChurn, sTmin, sTmax, sNoise } = run.settings;
  const sigma = run.sigmas[i];
  const gamma = sTmin <= sigma && sigma <= sTmax
    ? Math.min(sChurn / (run.sigmas.length - 1), Math.SQRT2 - 1)
    : 0;
  // k-diffusion draws this noise every step, used or not; with churn off nothing ever uses it, so skip it.
  const eps = sChurn > 0 ? scale(run.noise(), sNoise) : undefined;
  const sigmaHat = Math.fround(sigma * (gamma + 1));
  if (gamma > 0 && eps) return { x: addNoise(x, eps, Math.sqrt(sigmaHat ** 2 - sigma ** 2)), sigmaHat };
  return { x, sigmaHat };
}

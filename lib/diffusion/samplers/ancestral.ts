// The start of every ancestral step (Euler a, DPM2 a, DPM++ 2S a): the denoised estimate at sigma_i and how
// far to step down (sigma_down) before adding fresh noise of size sigma_up.
import { ancestralStep } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

export async function ancestralDenoise(
  run: SigmaRun,
  i: number,
  x: Float32Array,
): Promise<{ denoised: Float32Array; down: number; up: number }> {
  const denoised = await run.denoise(x, run.sigmas[i]);
  const { down, up } = ancestralStep(run.sigmas[i], run.sigmas[i + 1], run.settings.eta);
  run.onStep(i, denoised);
  return { denoised, down, up };
}

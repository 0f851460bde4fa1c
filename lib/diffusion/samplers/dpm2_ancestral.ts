// Ancestral DPM2 ("DPM2 a"), k-diffusion's sample_dpm_2_ancestral: a DPM-Solver-2 step down to sigma_down,
// then fresh noise of size sigma_up.
import { midpointStep } from "./dpm2.ts";
import { ancestralDenoise } from "./ancestral.ts";
import { addNoise, axpy, toD } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

export async function sampleDpm2Ancestral(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  let x = run.x;
  for (let i = 0; i < s.length - 1; i++) {
    const { denoised, down, up } = await ancestralDenoise(run, i, x);
    const d = toD(x, denoised, s[i]);
    if (down === 0) {
      x = axpy(x, down - s[i], d);
    } else {
      x = await midpointStep(run, x, d, s[i], down);
      x = addNoise(x, run.noise(), run.settings.sNoise * up);
    }
  }
  return x;
}

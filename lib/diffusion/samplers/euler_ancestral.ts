// Ancestral Euler ("Euler a"), k-diffusion's sample_euler_ancestral: an Euler step down to sigma_down, then
// fresh noise of size sigma_up.
import { ancestralDenoise } from "./ancestral.ts";
import { addNoise, axpy, toD } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

export async function sampleEulerAncestral(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  let x = run.x;
  for (let i = 0; i < s.length - 1; i++) {
    const { denoised, down, up } = await ancestralDenoise(run, i, x);
    x = axpy(x, down - s[i], toD(x, denoised, s[i]));
    if (s[i + 1] > 0) x = addNoise(x, run.noise(), run.settings.sNoise * up);
  }
  return x;
}

// Latent consistency sampling ("LCM", A1111's sample_lcm): jump to the denoised estimate, then re-noise to the
// next sigma with fresh noise.
import { addNoise } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

export async function sampleLcm(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  let x = run.x;
  for (let i = 0; i < s.length - 1; i++) {
    const denoised = await run.denoise(x, s[i]);
    run.onStep(i, denoised);
    x = s[i + 1] > 0 ? addNoise(denoised, run.noise(), s[i + 1]) : denoised;
  }
  return x;
}

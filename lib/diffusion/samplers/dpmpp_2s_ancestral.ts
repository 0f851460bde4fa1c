// DPM-Solver++(2S) with ancestral noise ("DPM++ 2S a"), k-diffusion's sample_dpmpp_2s_ancestral: a
// single-step second-order update in log-sigma time down to sigma_down, then noise of size sigma_up.
import { ancestralDenoise } from "./ancestral.ts";
import { addNoise, axpy, lincomb, toD } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

export async function sampleDpmpp2sAncestral(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  let x = run.x;
  for (let i = 0; i < s.length - 1; i++) {
    const { denoised, down, up } = await ancestralDenoise(run, i, x);
    if (down === 0) {
      x = axpy(x, down - s[i], toD(x, denoised, s[i]));
    } else {
      // t = −log sigma; the midpoint s of [t, t_next] in log-sigma time.
      const t = -Math.log(s[i]);
      const h = -Math.log(down) - t;
      const sigmaS = Math.exp(-(t + h / 2));
      const x2 = lincomb(sigmaS / s[i], x, -Math.expm1(-h / 2), denoised);
      const denoised2 = await run.denoise(x2, Math.fround(sigmaS));
      x = lincomb(down / s[i], x, -Math.expm1(-h), denoised2);
    }
    if (s[i + 1] > 0) x = addNoise(x, run.noise(), run.settings.sNoise * up);
  }
  return x;
}

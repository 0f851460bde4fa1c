// DPM-Solver++(2M) ("DPM++ 2M"), k-diffusion's sample_dpmpp_2m: a multistep second-order update in log-sigma
// time, first order on the first step and onto sigma = 0.
import { lincomb } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

export async function sampleDpmpp2m(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  let x = run.x;
  let old: Float32Array | undefined;
  for (let i = 0; i < s.length - 1; i++) {
    const denoised = await run.denoise(x, s[i]);
    run.onStep(i, denoised);
    const t = -Math.log(s[i]);
    const h = -Math.log(s[i + 1]) - t;
    let target = denoised;
    if (old && s[i + 1] !== 0) {
      const r = (t + Math.log(s[i - 1])) / h;
      target = lincomb(1 + 1 / (2 * r), denoised, -1 / (2 * r), old);
    }
    x = lincomb(s[i + 1] / s[i], x, -Math.expm1(-h), target);
    old = denoised;
  }
  return x;
}

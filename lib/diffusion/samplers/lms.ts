// Linear multistep (k-diffusion's sample_lms, order 4): each step integrates the Lagrange polynomial through
// the last (up to four) derivatives over [sigma_i, sigma_{i+1}].
import { lagrangeIntegral } from "../schedulers/lms.ts";
import { toD } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

const ORDER = 4;
const f = Math.fround;

export async function sampleLms(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  let x = run.x;
  const ds: Float32Array[] = [];
  for (let i = 0; i < s.length - 1; i++) {
    const denoised = await run.denoise(x, s[i]);
    ds.push(toD(x, denoised, s[i]));
    if (ds.length > ORDER) ds.shift();
    run.onStep(i, denoised);
    const order = Math.min(i + 1, ORDER);
    const nodes = Array.from({ length: order }, (_, k) => s[i - k]);
    const sum = new Float32Array(x.length);
    for (let j = 0; j < order; j++) {
      const c = f(lagrangeIntegral(nodes, j, s[i], s[i + 1]));
      const d = ds[ds.length - 1 - j];
      for (let k = 0; k < sum.length; k++) sum[k] += f(c * d[k]);
    }
    const next = new Float32Array(x.length);
    for (let k = 0; k < next.length; k++) next[k] = x[k] + sum[k];
    x = next;
  }
  return x;
}

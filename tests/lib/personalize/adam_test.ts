// The in-graph Adam equals torch.optim.Adam's update formulas, written out here in float64.
import { ok } from "node:assert";
import { AdamKernel, BETA1, BETA2, EPS, FlatAdam } from "../../../lib/personalize/adam.ts";
import { assertClose } from "../../fixtures.ts";

Deno.test("FlatAdam follows torch's Adam for several steps with changing gradients", async () => {
  const n = 700_000; // more than one chunk
  const p = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const g = new Float32Array(n);
  const kernel = await AdamKernel.create();
  const adam = new FlatAdam(kernel, p, g);
  const ref = Float64Array.from(p);
  const m = new Float64Array(n);
  const v = new Float64Array(n);
  const lr = 1e-2;
  for (let step = 1; step <= 5; step++) {
    for (let i = 0; i < n; i++) g[i] = Math.cos(i * step) * (i % 7 === 0 ? 0 : 1);
    await adam.step(lr);
    const bc1 = 1 - BETA1 ** step;
    const bc2 = 1 - BETA2 ** step;
    for (let i = 0; i < n; i++) {
      m[i] = m[i] + (g[i] - m[i]) * (1 - BETA1);
      v[i] = v[i] * BETA2 + g[i] * g[i] * (1 - BETA2);
      ref[i] -= (lr / bc1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + EPS);
    }
    assertClose(p, ref, 1e-6, `step ${step}`);
  }
  adam.reset();
  ok(!(adam.m.some((x) => x !== 0) || adam.v.some((x) => x !== 0)), "reset left moments");
  await kernel.release();
});

import { deepStrictEqual as assertEquals } from "node:assert";
import { createGenerator, isRngSource } from "../../../lib/diffusion/noise_source.ts";
import { PhiloxGenerator } from "../../../lib/diffusion/philox.ts";
import { TorchGenerator } from "../../../lib/diffusion/torch_rng.ts";

Deno.test("CPU is torch's CPU generator; GPU and NV are the Philox stream", () => {
  assertEquals(createGenerator("CPU", 9).randn([20]), new TorchGenerator(9).randn([20]));
  const philox = new PhiloxGenerator(9);
  const first = philox.randn([20]);
  const second = philox.randn([20]);
  for (const source of ["GPU", "NV"] as const) {
    const g = createGenerator(source, 9);
    assertEquals(g.randn([20]), first);
    assertEquals(g.randn([20]), second);
  }
});

Deno.test("isRngSource accepts A1111's three names only", () => {
  assertEquals(["CPU", "GPU", "NV", "cpu", "", 1].map(isRngSource), [true, true, true, false, false, false]);
});

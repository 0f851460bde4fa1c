// A1111's variation seeds and seed resize (ImageRNG.first) against tests/fixtures/fx_noise.py, which runs
// A1111's algorithm in torch with the CPU generator and with the numpy Philox stream.
import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { join } from "node:path";
import { createGenerator, type RngSource } from "../../../lib/diffusion/noise_source.ts";
import { NO_VARIATION, slerp, startingNoise } from "../../../lib/diffusion/variation.ts";
import { assertClose, FIXTURES, type Manifest, readRef } from "../../fixtures.ts";

const rng: Manifest = JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "rng", "manifest.json")));

for (const c of rng.variation) {
  const label = `${c.source} seed ${c.seed}, subseed ${c.subseed} × ${c.subseed_strength}, ` +
    `resize from ${c.seed_resize_from_w}x${c.seed_resize_from_h} to latents ${c.shape.join("×")}`;
  Deno.test(`starting noise: ${label}`, () => {
    const source = c.source as RngSource;
    const gen = createGenerator(source, c.seed);
    const noise = startingNoise(source, gen, c.seed, c.shape, {
      subseed: c.subseed,
      subseedStrength: c.subseed_strength,
      seedResizeFromW: c.seed_resize_from_w,
      seedResizeFromH: c.seed_resize_from_h,
    });
    assertClose(noise, readRef(c.noise), 2e-6, "noise");
    // The image's own stream has drawn exactly one latent-shaped tensor, as without the options.
    assertClose(gen.randn(c.shape), readRef(c.next), 1e-6, "next draw");
  });
}

Deno.test("without options the starting noise is the generator's first draw", () => {
  for (const source of ["CPU", "GPU", "NV"] as const) {
    const noise = startingNoise(source, createGenerator(source, 3), 3, [4, 5, 6], NO_VARIATION);
    assertEquals(noise, createGenerator(source, 3).randn([4, 5, 6]));
  }
});

Deno.test("slerp: strength 0 keeps the seed's noise, 1 gives the subseed's", () => {
  const a = createGenerator("NV", 1).randn([2, 3, 4]);
  const b = createGenerator("NV", 2).randn([2, 3, 4]);
  assertClose(slerp(0, a, b, [2, 3, 4]), a, 1e-6, "0");
  assertClose(slerp(1, a, b, [2, 3, 4]), b, 1e-6, "1");
  throws(() => slerp(0.5, a, b.subarray(1), [2, 3, 4]), /slerp: tensors of 24 and 23 values/);
});

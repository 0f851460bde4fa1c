// CUDA's Philox stream as A1111's "NV" source computes it, against tests/fixtures/fx_noise.py (a numpy version of
// A1111's rng_philox.py) and the values A1111's docstring prints for seed 0.
import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { join } from "node:path";
import { philox4x32, PhiloxGenerator } from "../../../lib/diffusion/philox.ts";
import { assertClose, FIXTURES, type Manifest, readRef } from "../../fixtures.ts";

const rng: Manifest = JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "rng", "manifest.json")));

Deno.test("seed 0, shape (3, 4): the twelve values A1111's rng_philox.py prints", () => {
  const got = new PhiloxGenerator(0).randn([3, 4]);
  const expected = [
    -0.92466259,
    -0.42534415,
    -2.6438457,
    0.14518388,
    -0.12086647,
    -0.57972564,
    -0.62285122,
    -0.32838709,
    -1.07454231,
    -0.36314407,
    -1.67105067,
    2.26550497,
  ];
  assertClose(got, expected, 5e-7, "seed 0");
});

for (const c of rng.philox) {
  Deno.test(`seed ${c.seed}: successive randn calls match the reference`, () => {
    const g = new PhiloxGenerator(BigInt(c.seed));
    for (const [i, d] of c.draws.entries()) {
      // float64 libm sin/log may differ in the last bit before rounding to float32.
      assertClose(g.randn(d.shape), readRef(d), 1e-6, `draw ${i}`);
    }
  });
}

Deno.test("Philox4x32-10 known-answer vector (Random123: counter 0, key 0)", () => {
  const out = new Uint32Array(4);
  philox4x32([0, 0, 0, 0], [0, 0], out);
  assertEquals(Array.from(out), [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
  philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], out);
  assertEquals(Array.from(out), [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
});

Deno.test("bad seeds and shapes are refused", () => {
  throws(() => new PhiloxGenerator(-1), /outside \[0, 2\^64\)/);
  throws(() => new PhiloxGenerator(1.5), /integer/);
  throws(() => new PhiloxGenerator(0).randn([2, -1]), /non-negative integers/);
});

// Adam in parts on several threads gives the same bits as one thread, slot for slot, and its threads end.
import { deepStrictEqual as assertEquals, equal, throws } from "node:assert";
import { AdamKernel, FlatAdam } from "../../../lib/personalize/adam.ts";
import { PartedAdam } from "../../../lib/personalize/parted_adam.ts";

const SIZES = [70_001, 3, 120_000, 50_000, 9_999, 64_000];
const SPARSE = 4; // index of a slot the caller updates itself

function fill(a: Float32Array, seed: number) {
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * 0.37 + seed);
}

Deno.test("PartedAdam on three threads matches one FlatAdam bit for bit, over several steps", async () => {
  const slots = SIZES.map((size, i) => ({ size, sparse: i === SPARSE }));
  const parted = new PartedAdam(slots, 3, 1);
  equal(parted.parts, 3);
  const dense = SIZES.filter((_, i) => i !== SPARSE);
  const total = dense.reduce((a, b) => a + b, 0);
  const kernel = AdamKernel.create(4 * total);
  const [p, g] = [kernel.alloc(total), kernel.alloc(total)];
  const single = new FlatAdam(kernel, p, g);
  const offsets: number[] = [];
  dense.reduce((o, n) => (offsets.push(o), o + n), 0);
  const denseIndex = SIZES.map((_, i) => i).filter((i) => i !== SPARSE);
  denseIndex.forEach((i, k) => {
    fill(parted.weights(i), i);
    fill(p.subarray(offsets[k], offsets[k] + SIZES[i]), i);
  });
  parted.start();
  try {
    for (let step = 1; step <= 3; step++) {
      denseIndex.forEach((i, k) => {
        fill(parted.grad(i), step * 10 + i);
        fill(g.subarray(offsets[k], offsets[k] + SIZES[i]), step * 10 + i);
      });
      await parted.step(1e-3);
      single.step(1e-3);
      denseIndex.forEach((i, k) => {
        assertEquals(
          parted.weights(i),
          p.subarray(offsets[k], offsets[k] + SIZES[i]),
          `slot ${i}, step ${step}`,
        );
      });
    }
  } finally {
    parted.stop();
  }
  throws(() => parted.grad(SPARSE), /updated sparsely/);
});

Deno.test("small models stay on one thread, and a new start zeroes the moments", async () => {
  const parted = new PartedAdam([{ size: 1000 }], 2);
  equal(parted.parts, 1);
  const run = async () => {
    parted.weights(0).fill(1);
    parted.grad(0).fill(0.5);
    parted.start();
    await parted.step(0.1);
    parted.stop();
    return parted.weights(0).slice();
  };
  assertEquals(await run(), await run());
});

// Adam in parts on several threads gives the same bits as one thread, slot for slot; its threads serve one
// optimization after another and never keep the process alive.
import { deepStrictEqual as assertEquals, equal, throws } from "node:assert";
import { AdamKernel, FlatAdam } from "../../../lib/personalize/adam.ts";
import { MAIN_SHARE, PartedAdam } from "../../../lib/personalize/parted_adam.ts";

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
    await parted.close();
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

/** Three parts over small slots: one optimization of `steps` steps from fixed weights and gradients. */
async function optimize(parted: PartedAdam, steps: number): Promise<Float32Array[]> {
  parted.slots.forEach((_, i) => fill(parted.weights(i), i));
  parted.start();
  try {
    for (let step = 1; step <= steps; step++) {
      parted.slots.forEach((_, i) => fill(parted.grad(i), step * 10 + i));
      await parted.step(1e-3);
    }
  } finally {
    parted.stop();
  }
  return parted.slots.map((_, i) => parted.weights(i).slice());
}

Deno.test("the threads outlive an optimization, and the next one starts from zero moments", async () => {
  const slots = [{ size: 90_000 }, { size: 80_000 }, { size: 70_000 }];
  const reused = new PartedAdam(slots, 3, 1);
  const fresh = new PartedAdam(slots, 3, 1);
  try {
    const first = await optimize(reused, 3);
    // Same threads, moments left over from the first run unless the first step zeroes them.
    assertEquals(await optimize(reused, 3), first);
    assertEquals(await optimize(fresh, 3), first);
  } finally {
    await reused.close();
    await fresh.close();
  }
});

Deno.test("a step given up mid-flight (stop before its reply) leaves the next optimization intact", async () => {
  const slots = [{ size: 90_000 }, { size: 80_000 }, { size: 70_000 }];
  const parted = new PartedAdam(slots, 3, 1);
  const reference = new PartedAdam(slots, 3, 1);
  try {
    parted.slots.forEach((_, i) => fill(parted.weights(i), i));
    parted.start();
    const abandoned = parted.step(1e-3);
    parted.stop();
    await abandoned; // settles quietly: the caller gave it up
    assertEquals(await optimize(parted, 2), await optimize(reference, 2));
  } finally {
    await parted.close();
    await reference.close();
  }
});

Deno.test("an idle pool never closed does not keep the process alive", async () => {
  const script = `
    import { PartedAdam } from ${
    JSON.stringify(new URL("../../../lib/personalize/parted_adam.ts", import.meta.url).href)
  };
    const parted = new PartedAdam([{ size: 50_000 }, { size: 50_000 }], 2, 1);
    parted.start();
    parted.grad(1).fill(1);
    await parted.step(1e-3);
    parted.stop();
    console.log(parted.weights(1)[0] !== 0 ? "stepped" : "not stepped");
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const out = await child.output();
  clearTimeout(timer);
  equal(new TextDecoder().decode(out.stderr), "");
  equal(out.code, 0, "the process was killed: its idle Adam threads kept it alive");
  equal(new TextDecoder().decode(out.stdout).trim(), "stepped");
});

Deno.test("the main thread's part is MAIN_SHARE times each other part, to the nearest whole slot", () => {
  const slots = Array.from({ length: 200 }, () => ({ size: 10_000 }));
  for (const threads of [2, 3]) {
    const parted = new PartedAdam(slots, threads, 1);
    const [main, ...others] = parted.partSizes;
    equal(main + others.reduce((a, b) => a + b, 0), 2_000_000);
    for (const other of others) {
      const ratio = main / other;
      equal(Math.abs(ratio - MAIN_SHARE) < 0.05, true, `${threads} threads: ${main} : ${other}`);
    }
  }
});

import { deepStrictEqual as assertEquals, rejects, throws } from "node:assert";
import { join } from "node:path";
import { readImageProcessorConfig } from "../../../lib/clip/image_processor.ts";
import { PreprocessPool } from "../../../lib/embed/preprocess_pool.ts";
import { FIXTURES, maxAbsDiff, MODELS, readRef, refs } from "../../fixtures.ts";

const PER_IMAGE = 3 * 64 * 64;

Deno.test("PreprocessPool: a batch split over workers lands in its slots, skips reported in order", async () => {
  const config = await readImageProcessorConfig(join(MODELS, "tiny-sd1-clip"));
  const dir = await Deno.makeTempDir();
  const pool = new PreprocessPool(config, { workers: 3, slots: 16, perImage: PER_IMAGE });
  try {
    const cases = refs().images.cases.slice(0, 6);
    await Deno.writeFile(join(dir, "empty.jpg"), new Uint8Array(0));
    await Deno.writeTextFile(join(dir, "notes.png"), "not an image");
    const paths = cases.map((c: { file: string }) => join(FIXTURES, "images", c.file));
    paths.splice(2, 0, join(dir, "empty.jpg"));
    paths.push(join(dir, "notes.png"));
    // Two batches in flight at once, in different slots, as makeEmbedding keeps them.
    const [first, second] = await Promise.all([pool.prepare(paths, 1), pool.prepare(paths.slice(0, 2), 12)]);
    assertEquals(first.map((s) => s?.code ?? null), [
      null,
      null,
      "empty",
      null,
      null,
      null,
      null,
      "not-an-image",
    ]);
    assertEquals(second, [null, null]);
    const slotOf = [1, 2, 4, 5, 6, 7];
    cases.forEach((c: { file: string; pixel_values: { file: string; shape: number[] } }, i: number) => {
      assertEquals(maxAbsDiff(pool.pixels(slotOf[i]), readRef(c.pixel_values)), 0, c.file);
    });
    assertEquals(maxAbsDiff(pool.pixels(12), pool.pixels(1)), 0);
    assertEquals(pool.pixels(0).every((v) => v === 0), true, "slot 0 was never written");
  } finally {
    pool.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PreprocessPool: slots outside the pool and use after close are refused", async () => {
  const config = await readImageProcessorConfig(join(MODELS, "tiny-sd1-clip"));
  const pool = new PreprocessPool(config, { workers: 1, slots: 4, perImage: PER_IMAGE });
  throws(() => pool.prepare(["a.jpg", "b.jpg"], 3), /slots 3..4 are outside the pool's 4/);
  throws(() => pool.pixels(4), /no slot 4/);
  pool.close();
  await rejects(pool.prepare(["a.jpg"], 0), /closed/);
});

Deno.test("PreprocessPool: an image preprocessing refuses is skipped as unprocessable, and the next one still runs", async () => {
  const { default: sharp } = await import("sharp");
  const config = await readImageProcessorConfig(join(MODELS, "tiny-sd1-clip"));
  const dir = await Deno.makeTempDir();
  const pool = new PreprocessPool(config, { workers: 1, slots: 2, perImage: PER_IMAGE });
  try {
    // 1×20000 resizes to 64×1280000: refused as too extreme an aspect ratio.
    const sliver = join(dir, "sliver.png");
    await sharp({ create: { width: 1, height: 20000, channels: 3, background: "#808080" } }).png().toFile(
      sliver,
    );
    const ok = join(FIXTURES, "images", refs().images.cases[0].file);
    const skips = await pool.prepare([sliver, ok], 0);
    assertEquals(skips[0]?.code, "unprocessable");
    assertEquals(/aspect ratio too extreme/.test(skips[0]?.message ?? ""), true, skips[0]?.message);
    assertEquals(skips[1], null);
  } finally {
    pool.close();
    await Deno.remove(dir, { recursive: true });
  }
});

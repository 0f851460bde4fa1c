import { deepStrictEqual as assertEquals, rejects } from "node:assert";
import { join } from "node:path";
import { openClipVision } from "../../../lib/clip/vision.ts";
import { preprocessImage, readImageProcessorConfig } from "../../../lib/clip/image_processor.ts";
import { loadImage } from "../../../lib/io/image.ts";
import { assertClose, FIXTURES, maxAbsDiff, MODELS, readRef, refs } from "../../fixtures.ts";

const CLIP = join(MODELS, "tiny-sd1-clip");

Deno.test("image_embeds of every fixture image match PyTorch within 1e-4, in one batch", async () => {
  const vision = await openClipVision(CLIP);
  try {
    assertEquals(vision.imageSize, { height: 64, width: 64 });
    assertEquals(vision.embedDim, 16);
    const cases = refs().images.cases;
    const cfg = await readImageProcessorConfig(CLIP);
    const per = 3 * 64 * 64;
    const batch = new Float32Array(cases.length * per);
    for (const [i, c] of cases.entries()) {
      const r = await loadImage(join(FIXTURES, "images", c.file));
      if (!r.ok) throw new Error(r.skip.message);
      preprocessImage(r.image, cfg, batch, i * per);
    }
    const embeds = await vision.embed(batch, cases.length, 64, 64);
    let worst = 0;
    for (const [i, c] of cases.entries()) {
      const got = embeds.subarray(i * 16, (i + 1) * 16);
      const ref = readRef(c.image_embeds);
      worst = Math.max(worst, maxAbsDiff(got, ref));
      assertClose(got, ref, 1e-4, `${c.file} image_embeds`);
    }
    console.log(`image_embeds max abs diff over ${cases.length} images: ${worst}`);
  } finally {
    await vision.release();
  }
});

Deno.test("a batch of one gives the same embedding as the reference pixel values", async () => {
  const vision = await openClipVision(CLIP);
  try {
    const c = refs().images.cases[0];
    assertClose(
      await vision.embed(readRef(c.pixel_values), 1, 64, 64),
      readRef(c.image_embeds),
      1e-4,
      c.file,
    );
    await rejects(vision.embed(new Float32Array(10), 1, 64, 64), /expected 1×3×64×64/);
    await rejects(vision.embed(new Float32Array(3 * 32 * 32), 1, 32, 32), /takes 64×64 images/);
  } finally {
    await vision.release();
  }
});

Deno.test("a folder without onnx/vision_model.onnx is refused by name", async () => {
  await rejects(
    openClipVision(join(MODELS, "tiny-sd1")),
    /no CLIP vision model at .*onnx\/vision_model\.onnx/,
  );
});

Deno.test("micro-batches give the embeddings of one whole batch; bad micro-batch sizes are refused", async () => {
  const n = 11;
  const pixels = new Float32Array(n * 3 * 64 * 64).map((_, i) => Math.sin(i * 0.37));
  const whole = await openClipVision(CLIP, { microBatch: Infinity });
  const three = await openClipVision(CLIP, { microBatch: 3 });
  const byDefault = await openClipVision(CLIP);
  try {
    const a = await whole.embed(pixels, n, 64, 64);
    assertEquals(a.length, n * 16);
    for (const v of [three, byDefault]) {
      const b = await v.embed(pixels, n, 64, 64);
      if (!(maxAbsDiff(a, b) <= 1e-6)) {
        throw new Error(`micro-batched embeddings differ by ${maxAbsDiff(a, b)}`);
      }
    }
    await rejects(whole.embed(pixels.subarray(0, 0), 0, 64, 64), /batch must be a positive integer/);
  } finally {
    await Promise.all([whole.release(), three.release(), byDefault.release()]);
  }
  await rejects(openClipVision(CLIP, { microBatch: 0 }), /micro-batch size must be at least 1/);
});

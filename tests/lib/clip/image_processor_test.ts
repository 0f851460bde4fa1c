import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { join } from "node:path";
import {
  centerCrop,
  parseImageProcessorConfig,
  preprocessImage,
  readImageProcessorConfig,
  resizeOutputSize,
} from "../../../lib/clip/image_processor.ts";
import { loadImage, type RgbImage } from "../../../lib/io/image.ts";
import { FIXTURES, maxAbsDiff, MODELS, readRef, refs } from "../../fixtures.ts";

Deno.test("pixel_values of every fixture image equal transformers' CLIPImageProcessor", async () => {
  const cfg = await readImageProcessorConfig(join(MODELS, "tiny-sd1-clip"));
  const cases = refs().images.cases;
  let worst = 0;
  for (const c of cases) {
    const r = await loadImage(join(FIXTURES, "images", c.file));
    if (!r.ok) throw new Error(`${c.file}: ${r.skip.message}`);
    const px = preprocessImage(r.image, cfg);
    assertEquals(c.pixel_values.shape, [1, 3, 64, 64]);
    const d = maxAbsDiff(px, readRef(c.pixel_values));
    console.log(`${c.file}: pixel_values max abs diff ${d}`);
    worst = Math.max(worst, d);
  }
  // PIL's uint8 rounding reproduced exactly, lossy formats included (libjpeg-turbo/libwebp decode identically).
  if (!(worst <= 1e-6)) throw new Error(`pixel_values max abs diff ${worst} > 1e-6`);
});

Deno.test("resizeOutputSize follows get_resize_output_image_size (shortest edge, long side truncated)", () => {
  assertEquals(resizeOutputSize(97, 75, { shortestEdge: 64 }), { width: 82, height: 64 });
  assertEquals(resizeOutputSize(70, 120, { shortestEdge: 64 }), { width: 64, height: 109 });
  assertEquals(resizeOutputSize(90, 90, { shortestEdge: 224 }), { width: 224, height: 224 });
  assertEquals(resizeOutputSize(640, 427, { shortestEdge: 224 }), { width: 335, height: 224 });
  assertEquals(resizeOutputSize(5, 9, { height: 7, width: 3 }), { width: 3, height: 7 });
});

Deno.test("centerCrop crops at floor((orig - crop) / 2) and zero-pads small images centred", () => {
  const img: RgbImage = {
    width: 5,
    height: 4,
    data: new Uint8Array(60).map((_, i) => Math.floor(i / 3) + 1),
  };
  // Pixel values are 1 + index; a 2×2 crop of 5×4 starts at (1, 1).
  assertEquals([...centerCrop(img, 2, 2).data].filter((_, i) => i % 3 === 0), [7, 8, 12, 13]);
  const padded = centerCrop({ width: 1, height: 1, data: new Uint8Array([9, 9, 9]) }, 3, 2);
  // Expected values from transformers' center_crop (channels_last).
  assertEquals([...padded.data].filter((_, i) => i % 3 === 0), [0, 0, 0, 0, 9, 0]);
  const tall = centerCrop({ width: 1, height: 2, data: new Uint8Array([9, 9, 9, 5, 5, 5]) }, 4, 5);
  assertEquals([...tall.data].filter((_, i) => i % 3 === 0), [
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    9,
    0,
    0,
    0,
    5,
    0,
    0,
    0,
    0,
    0,
  ]);
});

Deno.test("config parsing: legacy int sizes, defaults, and clear errors", () => {
  const c = parseImageProcessorConfig({ size: 224, crop_size: 224 });
  assertEquals(c.size, { shortestEdge: 224 });
  assertEquals(c.cropSize, { height: 224, width: 224 });
  assertEquals(c.resample, 3);
  throws(() => parseImageProcessorConfig({ image_std: [1, 0, 1] }), /image_std must not contain 0/);
  throws(() => parseImageProcessorConfig({ image_mean: [1, 2] }), /image_mean must list 3 numbers/);
  throws(() => parseImageProcessorConfig({ image_processor_type: "ViTImageProcessor" }), /not a CLIP/);
  throws(() => parseImageProcessorConfig({ size: { longest_edge: 3 } }), /shortest_edge or height and width/);
});

Deno.test("an image too thin to resize sanely is refused, not allocated", () => {
  const cfg = parseImageProcessorConfig({});
  const sliver: RgbImage = { width: 1, height: 400000, data: new Uint8Array(1200000) };
  throws(() => preprocessImage(sliver, cfg), /aspect ratio too extreme/);
});

import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert";
import sharp from "sharp";
import { gridImage } from "../../../lib/server/grid.ts";

async function solid(r: number, g: number, b: number): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp({ create: { width: 4, height: 3, channels: 3, background: { r, g, b } } }).png().toBuffer(),
  );
}

Deno.test("images are laid side by side in order, wrapping after `columns`", async () => {
  const grid = await gridImage([await solid(255, 0, 0), await solid(0, 255, 0), await solid(0, 0, 255)], 2);
  const { data, info } = await sharp(grid).raw().toBuffer({ resolveWithObject: true });
  assertEquals([info.width, info.height], [8, 6]);
  const c = info.channels;
  const px = (x: number, y: number) => Array.from(data.subarray((y * 8 + x) * c, (y * 8 + x) * c + 3));
  assertEquals([px(0, 0), px(4, 0), px(0, 3), px(4, 3)], [[255, 0, 0], [0, 255, 0], [0, 0, 255], [0, 0, 0]]);
});

Deno.test("an empty grid is refused", async () => {
  await rejects(gridImage([]), /at least one image/);
});

Deno.test("a labelled grid has a header with the axis name and each column's value above the images", async () => {
  const images = [await solid(255, 0, 0), await solid(0, 255, 0)];
  const grid = await gridImage(images, 2, { axis: "Aesthetic steps", columns: ["0", "20"] });
  const { data, info } = await sharp(grid).raw().toBuffer({ resolveWithObject: true });
  const top = info.height - 3;
  assertEquals([info.width, top], [8, 2 * Math.round(12 * 1.4)]);
  const c = info.channels;
  const px = (x: number, y: number) => Array.from(data.subarray((y * 8 + x) * c, (y * 8 + x) * c + 3));
  assertEquals([px(0, top), px(4, top)], [[255, 0, 0], [0, 255, 0]], "the images under the header");
  // The header is white with dark text drawn on it.
  const header = Array.from({ length: top * 8 }, (_, i) => data[i * c]);
  ok(header.some((v) => v < 128) && header.some((v) => v === 255), "text on white");
});

import { deepStrictEqual as assertEquals, rejects } from "node:assert";
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

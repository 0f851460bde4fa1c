import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert";
import sharp from "sharp";
import { annotatedGrid, fitLabels, gridImage, textWidth } from "../../../lib/server/grid.ts";

async function solid(r: number, g: number, b: number, w = 4, h = 3): Promise<Uint8Array> {
  return new Uint8Array(
    await sharp({ create: { width: w, height: h, channels: 3, background: { r, g, b } } }).png().toBuffer(),
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

Deno.test("an annotated grid: column labels above, row labels at the left, the images below and right", async () => {
  const images = [
    await solid(255, 0, 0, 64, 64),
    await solid(0, 255, 0, 64, 64),
    await solid(0, 0, 255, 64, 64),
    await solid(255, 255, 0, 64, 64),
  ];
  const grid = await annotatedGrid(images, 2, { top: ["Steps: 1", "Steps: 2"], left: ["Euler", "LMS"] });
  const { data, info } = await sharp(grid).raw().toBuffer({ resolveWithObject: true });
  const left = info.width - 128;
  const top = info.height - 128;
  ok(left >= 48 && top > 12, `margins for the labels: ${left}x${top}`);
  const c = info.channels;
  const px = (x: number, y: number) =>
    Array.from(data.subarray((y * info.width + x) * c, (y * info.width + x) * c + 3));
  assertEquals(
    [px(left, top), px(left + 64, top), px(left, top + 64), px(left + 64, top + 64)],
    [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0]],
  );
  // The margins are white with dark text drawn on them, above and at the left.
  const dark = (x0: number, y0: number, x1: number, y1: number) => {
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (px(x, y)[0] < 128) return true;
    return false;
  };
  ok(dark(left, 0, info.width, top), "column labels");
  ok(dark(0, top, left, info.height), "row labels");
  ok(!dark(0, 0, left, top), "the corner stays blank");
  // No row labels: no left margin.
  const onlyTop = await sharp(await annotatedGrid(images, 2, { top: ["a", "b"], left: ["", ""] })).metadata();
  assertEquals(onlyTop.width, 128);
});

Deno.test("labels wrap and shrink until every line fits its cell, even 50 of them on 64 px images", () => {
  const texts = Array.from({ length: 50 }, (_, i) => `Aesthetic learning rate: 0.000${i + 1}`);
  const { font, lines } = fitLabels(texts, 52, 12);
  ok(font >= 8 && font <= 12, `font ${font}`);
  for (const l of lines.flat()) ok(textWidth(l, font) <= 52, `${l} fits at ${font}px`);
  assertEquals(lines[0].join(" "), texts[0], "words are kept whole when they fit");
  // A word too long for the smallest font is broken, never left overflowing.
  const long = fitLabels(["Supercalifragilisticexpialidocious"], 40, 12);
  assertEquals(long.font, 8);
  assertEquals(long.lines[0].join(""), "Supercalifragilisticexpialidocious");
  for (const l of long.lines[0]) ok(textWidth(l, 8) <= 40);
  assertEquals(fitLabels(["Steps: 20"], 200, 16), { font: 16, lines: [["Steps: 20"]] });
});

// The demo world: seeded, every rule of issue 11 (sizes, colors, held-out pairs, styles) holds on many scenes.
import {
  deepStrictEqual as assertEquals,
  notDeepStrictEqual as assertNotEquals,
  ok as assert,
  throws,
} from "node:assert";
import { COLORS, luma, PALETTE, rgbToHsv } from "../../../lib/demo/color.ts";
import { itemRng } from "../../../lib/demo/rng.ts";
import { NEON_BACKGROUND_VALUE, PASTEL_TOWARD_WHITE, STYLES } from "../../../lib/demo/styles.ts";
import {
  combinations,
  coverage,
  EDGE_MARGIN,
  HELD_OUT,
  isHeldOut,
  MAX_SIZE,
  MIN_SIZE,
  renderScene,
  sampleScene,
  type Scene,
  SHAPES,
  WORLD_SIZE,
} from "../../../lib/demo/world.ts";

function scenes(n: number, seed: number, choices = {}): Scene[] {
  const combos = combinations(choices);
  return Array.from({ length: n }, (_, i) => sampleScene(itemRng(seed, i), combos));
}

Deno.test("the same seed and index give the same scene and pixels; another seed differs", () => {
  const a = scenes(20, 5);
  assertEquals(scenes(20, 5), a);
  assertNotEquals(scenes(20, 6), a);
  assertEquals(renderScene(a[3]).data, renderScene(scenes(20, 5)[3]).data);
  // Item k does not depend on how many items are drawn.
  assertEquals(scenes(4, 5)[3], a[3]);
});

Deno.test("the object never has the background's color, and every color, shape and style occurs", () => {
  const all = scenes(3000, 1);
  for (const s of all) assertNotEquals(s.color, s.background);
  assertEquals(new Set(all.map((s) => s.color)).size, COLORS.length);
  assertEquals(new Set(all.map((s) => s.background)).size, COLORS.length);
  assertEquals(new Set(all.map((s) => s.shape)).size, SHAPES.length);
  assertEquals(new Set(all.map((s) => s.style)).size, STYLES.length);
});

Deno.test("the object is 30–70 % of the width, inside the picture, and drawn antialiased", () => {
  for (const s of scenes(200, 2)) {
    assert(s.size >= MIN_SIZE && s.size <= MAX_SIZE, `size ${s.size}`);
    const cover = coverage(s, WORLD_SIZE, WORLD_SIZE);
    let minX = WORLD_SIZE, maxX = -1;
    for (let y = 0; y < WORLD_SIZE; y++) {
      for (let x = 0; x < WORLD_SIZE; x++) {
        if (cover[y * WORLD_SIZE + x] > 0) [minX, maxX] = [Math.min(minX, x), Math.max(maxX, x)];
      }
    }
    const width = (maxX - minX + 1) / WORLD_SIZE;
    assert(Math.abs(width - s.size) <= 2.5 / WORLD_SIZE, `${s.shape}: drawn ${width}, asked ${s.size}`);
    const margin = Math.floor(EDGE_MARGIN * WORLD_SIZE);
    for (let i = 0; i < WORLD_SIZE; i++) {
      for (const [x, y] of [[i, 0], [0, i], [i, WORLD_SIZE - 1], [WORLD_SIZE - 1, i]]) {
        assertEquals(cover[y * WORLD_SIZE + x], 0, `border pixel covered (margin ${margin})`);
      }
    }
    assert(cover.some((c) => c > 0 && c < 1), "edges are partly covered (antialiased)");
  }
});

Deno.test("the training split never shows a held-out pair; the held-out split shows only those", () => {
  assertEquals(HELD_OUT.length, COLORS.length);
  assertEquals(new Set(HELD_OUT.map((p) => p.color)).size, COLORS.length);
  assertEquals(new Set(HELD_OUT.map((p) => p.shape)).size, SHAPES.length);
  for (const s of scenes(2000, 3, { split: "train" })) assert(!isHeldOut(s.color, s.shape));
  for (const s of scenes(500, 3, { split: "held-out" })) assert(isHeldOut(s.color, s.shape));
});

Deno.test("choices that leave a style nothing to draw are refused by name", () => {
  throws(() => combinations({ styles: ["neon"], colors: ["black"] }), /no scene fits: style neon/);
  throws(() => combinations({ colors: ["red"], shapes: ["star"], split: "train" }), /split train/);
});

/** Pixels of the image's border (background only, by EDGE_MARGIN) and of its fully covered object. */
function regions(s: Scene) {
  const img = renderScene(s);
  const cover = coverage(s, WORLD_SIZE, WORLD_SIZE);
  const px = (i: number) => [0, 1, 2].map((c) => img.data[i * 3 + c] / 255) as [number, number, number];
  const border: [number, number, number][] = [];
  const object: [number, number, number][] = [];
  const all: [number, number, number][] = [];
  for (let i = 0; i < WORLD_SIZE * WORLD_SIZE; i++) {
    const [x, y] = [i % WORLD_SIZE, Math.floor(i / WORLD_SIZE)];
    if (x === 0 || y === 0 || x === WORLD_SIZE - 1 || y === WORLD_SIZE - 1) border.push(px(i));
    if (cover[i] === 1) object.push(px(i));
    all.push(px(i));
  }
  return { border, object, all };
}

Deno.test("plain draws the palette's colors exactly", () => {
  for (const s of scenes(50, 4, { styles: ["plain"] })) {
    const { border, object } = regions(s);
    const close = (p: number[], q: readonly number[]) => p.every((v, c) => Math.abs(v - q[c]) <= 0.5 / 255);
    assert(border.every((p) => close(p, PALETTE[s.background])));
    assert(object.every((p) => close(p, PALETTE[s.color])));
  }
});

Deno.test("pastel lifts every pixel 60 % toward white", () => {
  for (const s of scenes(50, 5, { styles: ["pastel"] })) {
    for (const p of regions(s).all) assert(Math.min(...p) >= PASTEL_TOWARD_WHITE - 0.5 / 255, `${p}`);
  }
});

Deno.test("neon: background value below 0.15, the object fully saturated and bright, with a glow", () => {
  for (const s of scenes(50, 6, { styles: ["neon"] })) {
    const img = renderScene(s);
    const cover = coverage(s, WORLD_SIZE, WORLD_SIZE);
    const value = (i: number) => Math.max(img.data[i * 3], img.data[i * 3 + 1], img.data[i * 3 + 2]) / 255;
    // The glow fades out within a few pixels: beyond 8 pixels from the object the background is untouched.
    const far = (i: number) => {
      const [x, y] = [i % WORLD_SIZE, Math.floor(i / WORLD_SIZE)];
      for (let dy = -8; dy <= 8; dy++) {
        for (let dx = -8; dx <= 8; dx++) {
          const [xx, yy] = [x + dx, y + dy];
          const inside = xx >= 0 && yy >= 0 && xx < WORLD_SIZE && yy < WORLD_SIZE;
          if (inside && cover[yy * WORLD_SIZE + xx] > 0) return false;
        }
      }
      return true;
    };
    let lit = 0;
    for (let i = 0; i < WORLD_SIZE * WORLD_SIZE; i++) {
      if (cover[i] === 0 && far(i)) assert(value(i) <= NEON_BACKGROUND_VALUE + 0.5 / 255, `${value(i)}`);
      if (cover[i] === 0 && value(i) > 0.2) lit++;
    }
    for (const p of regions(s).object) {
      const hsv = rgbToHsv(...p);
      assert(hsv.v === 1, `object value ${hsv.v}`);
      if (s.color !== "white") assert(hsv.s === 1, `object saturation ${hsv.s}`);
    }
    assert(lit > 0, "some uncovered pixels are lit by the glow");
  }
});

Deno.test("sepia: every hue between brown and cream, low saturation spread, object and background apart", () => {
  for (const s of scenes(50, 7, { styles: ["sepia"] })) {
    for (const p of regions(s).all) {
      const hsv = rgbToHsv(...p);
      assert(hsv.h >= 20 && hsv.h <= 45, `hue ${hsv.h}`);
    }
    assert(Math.abs(luma(PALETTE[s.color]) - luma(PALETTE[s.background])) >= 0.15);
  }
});

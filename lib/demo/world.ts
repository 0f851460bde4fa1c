// The demo world of issue 11: one object on a flat background, 64×64 by default, drawn antialiased (4×4
// supersampling) in one of four styles. Everything is a function of a seed, so anyone can remake a data set.
import type { RgbImage } from "../io/image.ts";
import { type ColorName, COLORS, luma, PALETTE } from "./color.ts";
import { compose, type StyleName, STYLES } from "./styles.ts";
import { pick, type Rng, uniform } from "./rng.ts";

export const SHAPES = ["circle", "square", "triangle", "star", "ring", "cross"] as const;
export type ShapeName = typeof SHAPES[number];

export const WORLD_SIZE = 64;
/** The object's width as a fraction of the image width. */
export const MIN_SIZE = 0.3;
export const MAX_SIZE = 0.7;
/** The object's bounding box stays this far (fraction of the width) from the edges, so the border is background. */
export const EDGE_MARGIN = 0.03;
/** Sepia keeps only luma: object and background closer than this would vanish, so such scenes are not drawn. */
export const SEPIA_MIN_CONTRAST = 0.15;

export interface Pair {
  color: ColorName;
  shape: ShapeName;
}

/**
 * Object color × shape pairs never shown in training (any background, any style), one per color and each shape
 * at least once: they measure whether the model composes a color and a shape it has only seen apart.
 * Training data and the eval prompts both come from here.
 */
export const HELD_OUT: readonly Pair[] = [
  { color: "red", shape: "star" },
  { color: "orange", shape: "ring" },
  { color: "yellow", shape: "cross" },
  { color: "green", shape: "triangle" },
  { color: "blue", shape: "square" },
  { color: "purple", shape: "circle" },
  { color: "white", shape: "ring" },
  { color: "black", shape: "cross" },
];

export function isHeldOut(color: ColorName, shape: ShapeName): boolean {
  return HELD_OUT.some((p) => p.color === color && p.shape === shape);
}

export const SPLITS = ["train", "held-out", "all"] as const;
export type Split = typeof SPLITS[number];

export interface Scene {
  shape: ShapeName;
  color: ColorName;
  background: ColorName;
  style: StyleName;
  /** Center of the object's bounding box, as fractions of the width and height. */
  x: number;
  y: number;
  /** Width of the object's bounding box as a fraction of the image width. */
  size: number;
}

export interface SceneChoices {
  styles?: readonly StyleName[];
  shapes?: readonly ShapeName[];
  colors?: readonly ColorName[];
  split?: Split;
}

/** Whether a style can draw an object color on a background (neon cannot make black bright; sepia needs contrast). */
export function drawable(style: StyleName, color: ColorName, background: ColorName): boolean {
  if (color === background) return false;
  if (style === "neon" && color === "black") return false;
  if (style === "sepia" && Math.abs(luma(PALETTE[color]) - luma(PALETTE[background])) < SEPIA_MIN_CONTRAST) {
    return false;
  }
  return true;
}

type Combo = readonly [ShapeName, ColorName, ColorName];

/** Every (shape, color, background) each style may draw under the choices; throws if a style has none. */
export function combinations(choices: SceneChoices = {}): Map<StyleName, Combo[]> {
  const split = choices.split ?? "all";
  const out = new Map<StyleName, Combo[]>();
  for (const style of choices.styles ?? STYLES) {
    const list: Combo[] = [];
    for (const shape of choices.shapes ?? SHAPES) {
      for (const color of choices.colors ?? COLORS) {
        const held = isHeldOut(color, shape);
        if ((split === "train" && held) || (split === "held-out" && !held)) continue;
        for (const background of COLORS) {
          if (drawable(style, color, background)) list.push([shape, color, background]);
        }
      }
    }
    if (list.length === 0) {
      throw new Error(
        `no scene fits: style ${style}, shapes ${(choices.shapes ?? SHAPES).join(",")}, ` +
          `colors ${(choices.colors ?? COLORS).join(",")}, split ${split}`,
      );
    }
    out.set(style, list);
  }
  return out;
}

/** A random scene: the style uniformly, then a drawable combination uniformly, then position and size. */
export function sampleScene(rng: Rng, combos: Map<StyleName, Combo[]>): Scene {
  const style = pick(rng, [...combos.keys()]);
  const [shape, color, background] = pick(rng, combos.get(style)!);
  const size = uniform(rng, MIN_SIZE, MAX_SIZE);
  const lo = size / 2 + EDGE_MARGIN;
  return { shape, color, background, style, size, x: uniform(rng, lo, 1 - lo), y: uniform(rng, lo, 1 - lo) };
}

/** Draws a scene at `size`×`size` pixels. */
export function renderScene(scene: Scene, size = WORLD_SIZE): RgbImage {
  const cover = coverage(scene, size, size);
  const data = compose(scene.style, cover, size, size, PALETTE[scene.color], PALETTE[scene.background]);
  return { width: size, height: size, data };
}

const SUPERSAMPLE = 4;

/** The fraction of each pixel the object covers, from 4×4 samples per pixel. */
export function coverage(scene: Scene, width: number, height: number): Float32Array {
  const inside = insideTest(scene.shape);
  const half = (scene.size * width) / 2; // the shape's half-width in pixels
  const cx = scene.x * width;
  const cy = scene.y * height;
  const out = new Float32Array(width * height);
  const step = 1 / SUPERSAMPLE;
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      let hits = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          // Shape coordinates: the bounding box spans [-1, 1] horizontally, y grows downwards.
          const u = (px + (sx + 0.5) * step - cx) / half;
          const v = (py + (sy + 0.5) * step - cy) / half;
          if (inside(u, v)) hits++;
        }
      }
      out[py * width + px] = hits / (SUPERSAMPLE * SUPERSAMPLE);
    }
  }
  return out;
}

type Inside = (u: number, v: number) => boolean;

const TRIANGLE_H = Math.sqrt(3) / 2; // an equilateral triangle of width 2 is √3 tall
const TRIANGLE: readonly [number, number][] = [[0, -TRIANGLE_H], [1, TRIANGLE_H], [-1, TRIANGLE_H]];
const STAR: readonly [number, number][] = starPolygon();

function starPolygon(): [number, number][] {
  // Five points; the outer radius makes the star exactly 2 wide (its widest points are at ±18°).
  const outer = 1 / Math.cos((18 * Math.PI) / 180);
  const inner = outer * 0.45;
  const pts: [number, number][] = [];
  for (let k = 0; k < 10; k++) {
    const a = ((-90 + 36 * k) * Math.PI) / 180;
    const r = k % 2 === 0 ? outer : inner;
    pts.push([r * Math.cos(a), r * Math.sin(a)]);
  }
  return pts;
}

function insideTest(shape: ShapeName): Inside {
  switch (shape) {
    case "circle":
      return (u, v) => u * u + v * v <= 1;
    case "square":
      return (u, v) => Math.abs(u) <= 1 && Math.abs(v) <= 1;
    case "triangle":
      return (u, v) => inPolygon(TRIANGLE, u, v);
    case "star":
      return (u, v) => inPolygon(STAR, u, v);
    case "ring":
      return (u, v) => {
        const r2 = u * u + v * v;
        return r2 <= 1 && r2 >= 0.36;
      };
    case "cross":
      return (u, v) => (Math.abs(u) <= 1 && Math.abs(v) <= 0.3) || (Math.abs(v) <= 1 && Math.abs(u) <= 0.3);
  }
}

/** Even-odd rule ray casting (the star is concave). */
function inPolygon(poly: readonly [number, number][], u: number, v: number): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i];
    const [xj, yj] = poly[j];
    if ((yi > v) !== (yj > v) && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

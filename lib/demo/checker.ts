// Measures of demo-world images that do not use CLIP (`--checker demo` in issue 11): the object's color from the
// hue of the object region, checked against the prompt, and each style's pixel statistic.
import type { RgbImage } from "../io/image.ts";
import { type ColorName, COLORS, PALETTE, type Rgb, rgbToHsv } from "./color.ts";
import { SEPIA_DARK, SEPIA_LIGHT, type StyleName } from "./styles.ts";
import { type ShapeName, SHAPES } from "./world.ts";

/** What a prompt asks for, as far as the demo world's words go. */
export interface PromptSubject {
  color?: ColorName;
  shape?: ShapeName;
  background?: ColorName;
}

/** The object color is the color word right before a shape; the background is the one before "background". */
export function parsePrompt(prompt: string): PromptSubject {
  const words: string[] = prompt.toLowerCase().match(/[a-z]+/g) ?? [];
  const out: PromptSubject = {};
  const isColor = (w: string): w is ColorName => (COLORS as readonly string[]).includes(w);
  const isShape = (w: string): w is ShapeName => (SHAPES as readonly string[]).includes(w);
  words.forEach((w, i) => {
    if (isShape(w) && out.shape === undefined) {
      out.shape = w;
      if (i > 0 && isColor(words[i - 1])) out.color = words[i - 1] as ColorName;
    }
    if (w === "background" && i > 0 && isColor(words[i - 1])) out.background = words[i - 1] as ColorName;
  });
  if (out.background === undefined) {
    // "… on blue": a color word after "on" that is not the object's.
    const on = words.lastIndexOf("on");
    if (on >= 0 && isColor(words[on + 1] ?? "")) out.background = words[on + 1] as ColorName;
  }
  return out;
}

export interface DemoMeasures {
  /** The background color: per-channel median of the one-pixel border. */
  background: Rgb;
  /** Fraction of the pixels found to be the object (its core: the antialiased edge and neon glow excluded). */
  objectFraction: number;
  /** Mean color of the object's core, its hue (degrees) and the palette color it is read as; null: no object. */
  objectRgb: Rgb | null;
  objectHue: number | null;
  objectColor: ColorName | null;
  /** Pastel: mean HSV saturation and value over the whole image. */
  meanSaturation: number;
  meanValue: number;
  /** Neon: the background's value and the object core's mean saturation. */
  backgroundValue: number;
  objectSaturation: number;
  /** Sepia: circular standard deviation of the hue (degrees), each pixel weighted by its saturation. */
  hueSpread: number;
  /**
   * Sepia: mean RGB distance of the pixels from sepia's brown-to-cream ramp. Hue spread alone cannot tell sepia
   * from a plain picture whose only chromatic pixels are one object on white; this can.
   */
  rampDistance: number;
}

/** A pixel belongs to the object's core when it is at least this share of the way from the background color. */
const CORE_SHARE = 0.6;
/** Below this distance (RGB in [0, 1], Euclidean) nothing stands out from the background: no object. */
const MIN_CONTRAST = 0.08;

export function measureDemo(image: RgbImage): DemoMeasures {
  const { width, height, data } = image;
  const n = width * height;
  const px = (i: number): Rgb => [data[i * 3] / 255, data[i * 3 + 1] / 255, data[i * 3 + 2] / 255];
  const border: number[] = [];
  for (let x = 0; x < width; x++) border.push(x, (height - 1) * width + x);
  for (let y = 1; y < height - 1; y++) border.push(y * width, y * width + width - 1);
  const background = [0, 1, 2].map((c) => median(border.map((i) => data[i * 3 + c] / 255))) as unknown as Rgb;

  const dist = new Float32Array(n);
  let sumS = 0, sumV = 0, hx = 0, hy = 0, hw = 0, ramp = 0;
  for (let i = 0; i < n; i++) {
    const p = px(i);
    dist[i] = Math.hypot(p[0] - background[0], p[1] - background[1], p[2] - background[2]);
    const hsv = rgbToHsv(...p);
    sumS += hsv.s;
    sumV += hsv.v;
    const a = (hsv.h * Math.PI) / 180;
    hx += hsv.s * Math.cos(a);
    hy += hsv.s * Math.sin(a);
    hw += hsv.s;
    ramp += distanceToRamp(p);
  }
  // The far end of the distances (98th percentile, robust to a few stray pixels) is the object's own color.
  const far = percentile(dist, 0.98);
  const core: number[] = [];
  if (far >= MIN_CONTRAST) { for (let i = 0; i < n; i++) if (dist[i] >= CORE_SHARE * far) core.push(i); }
  let objectRgb: Rgb | null = null;
  let objectSaturation = 0;
  if (core.length > 0) {
    objectRgb = [0, 1, 2].map((c) =>
      core.reduce((s, i) => s + data[i * 3 + c], 0) / core.length / 255
    ) as unknown as Rgb;
    objectSaturation = core.reduce((s, i) => s + rgbToHsv(...px(i)).s, 0) / core.length;
  }
  const r = hw > 0 ? Math.hypot(hx, hy) / hw : 1;
  return {
    background,
    objectFraction: core.length / n,
    objectRgb,
    objectHue: objectRgb ? rgbToHsv(...objectRgb).h : null,
    objectColor: objectRgb ? colorName(objectRgb) : null,
    meanSaturation: sumS / n,
    meanValue: sumV / n,
    backgroundValue: Math.max(...background),
    objectSaturation,
    hueSpread: (Math.sqrt(-2 * Math.log(Math.max(r, 1e-12))) * 180) / Math.PI,
    rampDistance: ramp / n,
  };
}

/**
 * Chromatic colors by nearest palette hue (pastel leaves them a saturation of 0.2–0.3, so the line is at 0.1);
 * grays by value (pastel lifts black to a middle gray, so 0.8).
 */
export function colorName(rgb: Rgb): ColorName {
  const hsv = rgbToHsv(...rgb);
  if (hsv.s < 0.1 || hsv.v < 0.15) return hsv.v >= 0.8 ? "white" : "black";
  let best: ColorName = "red";
  let bestD = Infinity;
  for (const c of COLORS) {
    const ref = rgbToHsv(...PALETTE[c]);
    if (ref.s < 0.1) continue;
    const d = Math.abs(((hsv.h - ref.h + 540) % 360) - 180);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

/** Whether the object's color is the prompt's; undefined when the prompt names no color or no object is seen. */
export function colorMatches(m: DemoMeasures, prompt: string): boolean | undefined {
  const want = parsePrompt(prompt).color;
  if (want === undefined) return undefined;
  return m.objectColor === want;
}

/**
 * One number per style that grows as an image looks more like it, for "the statistic moves toward the style":
 * pastel: value minus saturation; neon: object saturation minus background value; sepia: minus the distance
 * from the sepia ramp.
 */
export function styleScore(style: Exclude<StyleName, "plain">, m: DemoMeasures): number {
  switch (style) {
    case "pastel":
      return m.meanValue - m.meanSaturation;
    case "neon":
      return m.objectSaturation - m.backgroundValue;
    case "sepia":
      return -m.rampDistance;
  }
}

function distanceToRamp(p: Rgb): number {
  const d = [0, 1, 2].map((c) => SEPIA_LIGHT[c] - SEPIA_DARK[c]);
  const q = [0, 1, 2].map((c) => p[c] - SEPIA_DARK[c]);
  const t = Math.min(
    1,
    Math.max(0, (q[0] * d[0] + q[1] * d[1] + q[2] * d[2]) / (d[0] ** 2 + d[1] ** 2 + d[2] ** 2)),
  );
  return Math.hypot(q[0] - t * d[0], q[1] - t * d[1], q[2] - t * d[2]);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function percentile(values: Float32Array, q: number): number {
  const s = Float32Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

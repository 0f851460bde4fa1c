// The four styles of the demo world, each a transform of the whole image (issue 11): plain, pastel (60 % toward
// white), neon (near-black background, saturated bright object with a soft glow), sepia (luma on a brown-cream
// ramp). The constants are exported because the checker measures against them.
import { hsvToRgb, luma, type Rgb, rgbToHsv } from "./color.ts";

export const STYLES = ["plain", "pastel", "neon", "sepia"] as const;
export type StyleName = typeof STYLES[number];

/** Pastel blends every pixel this far toward white. */
export const PASTEL_TOWARD_WHITE = 0.6;
/** Neon's background keeps its hue with its value capped here (the issue asks for < 0.15). */
export const NEON_BACKGROUND_VALUE = 0.1;
/** How strongly the glow lights the background next to the object, and its radius as a fraction of the width. */
const NEON_GLOW = 0.7;
const NEON_GLOW_SIGMA = 0.035;
/** Sepia's ramp: luma 0 → dark brown, luma 1 → cream. */
export const SEPIA_DARK: Rgb = [0.3, 0.18, 0.08];
export const SEPIA_LIGHT: Rgb = [1.0, 0.94, 0.78];

/** The object color neon draws: fully saturated (grays stay gray) at full value. */
export function neonColor(c: Rgb): Rgb {
  const hsv = rgbToHsv(...c);
  return hsvToRgb({ h: hsv.h, s: hsv.s > 0.2 ? 1 : 0, v: 1 });
}

/** Neon's background: the same hue, dimmed below NEON_BACKGROUND_VALUE. */
export function neonBackground(c: Rgb): Rgb {
  const hsv = rgbToHsv(...c);
  return hsvToRgb({ ...hsv, v: Math.min(hsv.v, NEON_BACKGROUND_VALUE) });
}

export function sepia(c: Rgb): Rgb {
  const y = luma(c);
  return [0, 1, 2].map((i) => SEPIA_DARK[i] + (SEPIA_LIGHT[i] - SEPIA_DARK[i]) * y) as unknown as Rgb;
}

export function pastel(c: Rgb): Rgb {
  return c.map((v) => v + (1 - v) * PASTEL_TOWARD_WHITE) as unknown as Rgb;
}

/**
 * Composes an object (coverage in [0, 1] per pixel, row-major) over a flat background in a style, to 8-bit RGB.
 * Pastel and sepia are affine in the pixel, so mapping the two colors before blending equals mapping each pixel.
 */
export function compose(
  style: StyleName,
  cover: Float32Array,
  width: number,
  height: number,
  object: Rgb,
  background: Rgb,
): Uint8Array {
  let obj = object;
  let bg = background;
  let weight = cover;
  if (style === "pastel") [obj, bg] = [pastel(obj), pastel(bg)];
  else if (style === "sepia") [obj, bg] = [sepia(obj), sepia(bg)];
  else if (style === "neon") {
    [obj, bg] = [neonColor(obj), neonBackground(bg)];
    const glow = gaussianBlur(cover, width, height, NEON_GLOW_SIGMA * width);
    weight = cover.map((a, i) => a + (1 - a) * NEON_GLOW * glow[i]);
  }
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const w = weight[i];
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round(255 * (bg[c] + (obj[c] - bg[c]) * w));
  }
  return out;
}

/** Separable Gaussian blur with zero padding (light does not come from outside the picture). */
export function gaussianBlur(src: Float32Array, width: number, height: number, sigma: number): Float32Array {
  const r = Math.ceil(3 * sigma);
  const k = new Float32Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  k.forEach((v, i) => k[i] = v / sum);
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) {
        const xx = x + i;
        if (xx >= 0 && xx < width) acc += k[i + r] * src[y * width + xx];
      }
      tmp[y * width + x] = acc;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let i = -r; i <= r; i++) {
        const yy = y + i;
        if (yy >= 0 && yy < height) acc += k[i + r] * tmp[yy * width + x];
      }
      out[y * width + x] = acc;
    }
  }
  return out;
}

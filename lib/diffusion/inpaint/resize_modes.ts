// A1111's images.resize_image for its resize modes, with Pillow's Lanczos (the img2img upscaler "None"), on RGB
// and on single-channel (mode "L") images.
import type { RgbImage } from "../../io/image.ts";
import { Resample, resizeRgb } from "../../clip/pil_resample.ts";
import type { GrayImage } from "./mask.ts";

export enum ResizeMode {
  /** "Just resize". */
  Resize = 0,
  /** "Crop and resize": scaled to cover, centred, the excess cut. */
  CropAndResize = 1,
  /** "Resize and fill": scaled to fit, centred, the bands filled by stretching the edges. */
  ResizeAndFill = 2,
}

function lanczos(im: RgbImage, w: number, h: number): RgbImage {
  return im.width === w && im.height === h ? im : resizeRgb(im, w, h, Resample.LANCZOS);
}

/** `src` pasted at (x, y) onto `dst` (clipped to dst). */
function paste(dst: RgbImage, src: RgbImage, x: number, y: number): void {
  for (let sy = 0; sy < src.height; sy++) {
    const dy = y + sy;
    if (dy < 0 || dy >= dst.height) continue;
    for (let sx = 0; sx < src.width; sx++) {
      const dx = x + sx;
      if (dx < 0 || dx >= dst.width) continue;
      dst.data.set(
        src.data.subarray((sy * src.width + sx) * 3, (sy * src.width + sx) * 3 + 3),
        (dy * dst.width + dx) * 3,
      );
    }
  }
}

function lanczosWeight(x: number): number {
  const sinc = (v: number) => (v === 0 ? 1 : Math.sin(v * Math.PI) / (v * Math.PI));
  return -3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0;
}

/**
 * Pillow's resize of `im` with a box of zero thickness at `at` (a row when `horizontal`, else a column):
 * every output line is the same Lanczos mix of the lines next to `at` (22-bit fixed point, as Resample.c).
 */
function stretchEdge(im: RgbImage, w: number, h: number, at: number, horizontal: boolean): RgbImage {
  const inSize = horizontal ? im.height : im.width;
  const xmin = Math.max(Math.trunc(at - 3 + 0.5), 0);
  const count = Math.min(Math.trunc(at + 3 + 0.5), inSize) - xmin;
  const k = Array.from({ length: count }, (_, x) => lanczosWeight(x + xmin - at + 0.5));
  const ww = k.reduce((a, b) => a + b, 0);
  const fixed = k.map((v) => {
    const x = (ww !== 0 ? v / ww : v) * (1 << 22);
    return Math.trunc(x < 0 ? x - 0.5 : x + 0.5);
  });
  const len = horizontal ? im.width : im.height;
  const line = new Uint8Array(len * 3);
  for (let i = 0; i < len; i++) {
    for (let c = 0; c < 3; c++) {
      let s = 1 << 21;
      for (let j = 0; j < count; j++) {
        const p = horizontal ? (xmin + j) * im.width + i : i * im.width + xmin + j;
        s += im.data[p * 3 + c] * fixed[j];
      }
      line[i * 3 + c] = Math.min(Math.max(s >> 22, 0), 255);
    }
  }
  // The line is as long as the output side it spans (the branch that calls this keeps that side's size).
  const out: RgbImage = { width: w, height: h, data: new Uint8Array(w * h * 3) };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = horizontal ? x : y;
      out.data.set(line.subarray(i * 3, i * 3 + 3), (y * w + x) * 3);
    }
  }
  return out;
}

export function resizeImage(mode: ResizeMode, im: RgbImage, width: number, height: number): RgbImage {
  if (mode === ResizeMode.Resize) return lanczos(im, width, height);
  const ratio = width / height;
  const srcRatio = im.width / im.height;
  const cover = mode === ResizeMode.CropAndResize;
  const srcW = (cover ? ratio > srcRatio : ratio < srcRatio)
    ? width
    : Math.floor(im.width * height / im.height);
  const srcH = (cover ? ratio <= srcRatio : ratio >= srcRatio)
    ? height
    : Math.floor(im.height * width / im.width);
  const resized = lanczos(im, srcW, srcH);
  const res: RgbImage = { width, height, data: new Uint8Array(width * height * 3) };
  const x0 = Math.floor(width / 2) - Math.floor(srcW / 2);
  const y0 = Math.floor(height / 2) - Math.floor(srcH / 2);
  paste(res, resized, x0, y0);
  if (!cover) {
    if (ratio < srcRatio && y0 > 0) {
      paste(res, stretchEdge(resized, width, y0, 0, true), 0, 0);
      paste(res, stretchEdge(resized, width, y0, resized.height, true), 0, y0 + srcH);
    } else if (ratio > srcRatio && x0 > 0) {
      paste(res, stretchEdge(resized, x0, height, 0, false), 0, 0);
      paste(res, stretchEdge(resized, x0, height, resized.width, false), x0 + srcW, 0);
    }
  }
  return res;
}

export function grayToRgb(g: GrayImage): RgbImage {
  const data = new Uint8Array(g.data.length * 3);
  for (let p = 0; p < g.data.length; p++) data[3 * p] = data[3 * p + 1] = data[3 * p + 2] = g.data[p];
  return { width: g.width, height: g.height, data };
}

export function rgbToGray(im: RgbImage): GrayImage {
  const data = new Uint8Array(im.width * im.height);
  for (let p = 0; p < data.length; p++) data[p] = im.data[3 * p];
  return { width: im.width, height: im.height, data };
}

/** resize_image on a mode "L" image (per channel the same arithmetic, so through RGB). */
export function resizeGray(mode: ResizeMode, g: GrayImage, width: number, height: number): GrayImage {
  return rgbToGray(resizeImage(mode, grayToRgb(g), width, height));
}

/** A box of an RGB or gray image (Pillow's crop; the box lies inside). */
export function crop<T extends { width: number; height: number; data: Uint8Array }>(
  im: T,
  [x1, y1, x2, y2]: [number, number, number, number],
): T {
  const ch = im.data.length / (im.width * im.height);
  const w = x2 - x1;
  const data = new Uint8Array(w * (y2 - y1) * ch);
  for (let y = y1; y < y2; y++) {
    data.set(im.data.subarray((y * im.width + x1) * ch, (y * im.width + x2) * ch), (y - y1) * w * ch);
  }
  return { ...im, width: w, height: y2 - y1, data };
}

// A1111's overlay (processing.py apply_overlay): the source image with the inverted mask as alpha
// (Image "RGBa" paste, then "RGBA"), alpha-composited over the generated image, so every pixel outside the mask
// is the source's own, bit for bit. Pillow's integer formulas throughout, so the blurred edge matches too.
import type { RgbImage } from "../../io/image.ts";
import type { GrayImage } from "./mask.ts";
import { resizeImage, ResizeMode } from "./resize_modes.ts";

/** An RGBA image, not premultiplied (Pillow's "RGBA"). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** DIV255 of Pillow's ImagingPaste: (a + 128 + ((a + 128) >> 8)) >> 8. */
function div255(a: number): number {
  const t = a + 128;
  return ((t >> 8) + t) >> 8;
}

/** The image pasted into a transparent "RGBa" image (premultiplied) through mask' = 255 − mask. */
export function premultipliedMasked(image: RgbImage, mask: GrayImage): RgbaImage {
  const n = image.width * image.height;
  const data = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    const a = 255 - mask.data[p];
    for (let c = 0; c < 3; c++) data[4 * p + c] = div255(image.data[3 * p + c] * a);
    data[4 * p + 3] = div255(255 * a);
  }
  return { width: image.width, height: image.height, data };
}

/** Pillow's "RGBa" → "RGBA": each colour times 255 over alpha, clipped (unchanged at alpha 0 and 255). */
export function unpremultiply(im: RgbaImage): RgbaImage {
  const data = im.data.slice();
  for (let p = 0; p < data.length; p += 4) {
    const a = data[p + 3];
    if (a === 0 || a === 255) continue;
    for (let c = 0; c < 3; c++) data[p + c] = Math.min(Math.trunc((255 * data[p + c]) / a), 255);
  }
  return { ...im, data };
}

/** image_masked as the overlay keeps it: premultiplied through the inverted mask, then back to "RGBA". */
export function maskedOverlay(image: RgbImage, mask: GrayImage): RgbaImage {
  return unpremultiply(premultipliedMasked(image, mask));
}

const PRECISION_BITS = 7;
const shiftDiv255 = (a: number) => ((a >>> 8) + a) >>> 8;

/** Image.alpha_composite(dst, src) for one pixel of each, into dst (Pillow's AlphaComposite.c). */
export function compositePixel(dst: Uint8Array, d: number, src: Uint8Array, s: number): void {
  const sa = src[s + 3];
  if (sa === 0) return;
  const blend = dst[d + 3] * (255 - sa);
  const outa255 = sa * 255 + blend;
  const coef1 = Math.floor((sa * 255 * 255 * (1 << PRECISION_BITS)) / outa255);
  const coef2 = 255 * (1 << PRECISION_BITS) - coef1;
  for (let c = 0; c < 3; c++) {
    const t = src[s + c] * coef1 + dst[d + c] * coef2;
    dst[d + c] = shiftDiv255(t + (0x80 << PRECISION_BITS)) >>> PRECISION_BITS;
  }
  dst[d + 3] = shiftDiv255(outa255 + 0x80);
}

/**
 * apply_overlay: with `pasteTo` (only masked), the generated image is fitted to the crop (resize mode 1) and
 * pasted at its place on a transparent canvas of the overlay's size first; then the overlay goes on top.
 */
export function applyOverlay(
  image: RgbImage,
  overlay: RgbaImage,
  pasteTo?: [number, number, number, number],
): RgbImage {
  const { width, height } = overlay;
  const canvas = new Uint8Array(width * height * 4);
  if (pasteTo) {
    const [x0, y0, w, h] = pasteTo;
    const fitted = resizeImage(ResizeMode.CropAndResize, image, w, h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const d = ((y0 + y) * width + x0 + x) * 4;
        canvas.set(fitted.data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3), d);
        canvas[d + 3] = 255;
      }
    }
  } else {
    if (image.width !== width || image.height !== height) {
      throw new Error(`the overlay is ${width}x${height} but the image ${image.width}x${image.height}`);
    }
    for (let p = 0; p < width * height; p++) {
      canvas.set(image.data.subarray(3 * p, 3 * p + 3), 4 * p);
      canvas[4 * p + 3] = 255;
    }
  }
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    compositePixel(canvas, 4 * p, overlay.data, 4 * p);
    out.set(canvas.subarray(4 * p, 4 * p + 3), 3 * p);
  }
  return { width, height, data: out };
}

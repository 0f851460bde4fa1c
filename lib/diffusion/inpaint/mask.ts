// The inpainting mask as A1111's StableDiffusionProcessingImg2Img.init prepares it: made binary from the
// image's luminance (create_binary_mask), inverted for "inpaint not masked", blurred with OpenCV's Gaussian
// (one pass along x, one along y, each rounded to 8 bits as cv2.GaussianBlur does on uint8), and for "only
// masked" the rectangle around it, grown by the padding and to the output's aspect ratio.
import type { RgbImage } from "../../io/image.ts";

/** An 8-bit single-channel image (Pillow's mode "L"). */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Pillow's RGB → L: (R·19595 + G·38470 + B·7471 + 0x8000) >> 16. */
export function luminance(image: RgbImage): GrayImage {
  const n = image.width * image.height;
  const data = new Uint8Array(n);
  const d = image.data;
  for (let p = 0; p < n; p++) {
    data[p] = (d[3 * p] * 19595 + d[3 * p + 1] * 38470 + d[3 * p + 2] * 7471 + 0x8000) >> 16;
  }
  return { width: image.width, height: image.height, data };
}

/** create_binary_mask: 255 where the luminance is above 128, else 0; `invert` flips it (ImageOps.invert). */
export function binaryMask(image: RgbImage, invert: boolean): GrayImage {
  const gray = luminance(image);
  for (let p = 0; p < gray.data.length; p++) gray.data[p] = (gray.data[p] > 128) !== invert ? 255 : 0;
  return gray;
}

/**
 * OpenCV's bit-exact Gaussian kernel for 8-bit images (getGaussianKernelBitExact, then the fixed-point taps
 * with 8 fractional bits, rounded with error diffusion from the ends and the centre taking the rest).
 */
export function gaussianTaps(sigma: number): Int32Array {
  const n = 2 * Math.trunc(2.5 * sigma + 0.5) + 1;
  const half = (n - 1) / 2;
  const scale2X = -0.125 / (sigma * sigma);
  const values: number[] = [];
  let sum = 0;
  for (let i = 0, x = 1 - n; i < half; i++, x += 2) {
    const t = Math.exp(x * x * scale2X);
    values.push(t);
    sum += t;
  }
  sum = 1 / (sum * 2 + 1);
  const taps = new Int32Array(n);
  let err = 0;
  let total = 0;
  for (let i = 0; i < half; i++) {
    const adj = values[i] * sum * 256 + err;
    const v = Math.round(adj);
    err = adj - v;
    taps[i] = taps[n - 1 - i] = v;
    total += v;
  }
  taps[half] = 256 - 2 * total;
  return taps;
}

/** BORDER_REFLECT_101: …, 2, 1 | 0, 1, 2, …, n−1 | n−2, … */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/** One cv2.GaussianBlur pass along x (`horizontal`) or y with sigma, in place of a copy. */
function blurPass(img: GrayImage, sigma: number, horizontal: boolean): GrayImage {
  const taps = gaussianTaps(sigma);
  const half = (taps.length - 1) / 2;
  const { width, height, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < taps.length; k++) {
        const src = horizontal
          ? y * width + reflect101(x + k - half, width)
          : reflect101(y + k - half, height) * width + x;
        s += data[src] * taps[k];
      }
      out[y * width + x] = Math.min((s + 128) >> 8, 255);
    }
  }
  return { width, height, data: out };
}

/** A1111's mask blur: along x with mask_blur_x, then along y with mask_blur_y (0 skips a pass). */
export function blurMask(mask: GrayImage, blurX: number, blurY: number): GrayImage {
  let out = mask;
  if (blurX > 0) out = blurPass(out, blurX, true);
  if (blurY > 0) out = blurPass(out, blurY, false);
  return out;
}

/** x1, y1, x2, y2 (exclusive ends), as Pillow's boxes. */
export type Box = [number, number, number, number];

/** get_crop_region_v2: the bounding box of the mask's non-zero pixels grown by `pad`; undefined when blank. */
export function cropRegion(mask: GrayImage, pad: number): Box | undefined {
  let x1 = mask.width, y1 = mask.height, x2 = 0, y2 = 0;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x] === 0) continue;
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x + 1);
      y2 = Math.max(y2, y + 1);
    }
  }
  if (x2 === 0) return undefined;
  return [
    Math.max(x1 - pad, 0),
    Math.max(y1 - pad, 0),
    Math.min(x2 + pad, mask.width),
    Math.min(y2 + pad, mask.height),
  ];
}

/** expand_crop_region: the box grown along one side to the processing size's aspect ratio, kept inside. */
export function expandCropRegion(
  box: Box,
  width: number,
  height: number,
  imageWidth: number,
  imageHeight: number,
): Box {
  let [x1, y1, x2, y2] = box;
  const ratio = width / height;
  const grow = (a: number, b: number, desired: number, limit: number): [number, number] => {
    const diff = Math.trunc(desired - (b - a));
    a -= Math.floor(diff / 2);
    b += diff - Math.floor(diff / 2);
    if (b >= limit) {
      a -= b - limit;
      b = limit;
    }
    if (a < 0) {
      b -= a;
      a = 0;
    }
    if (b >= limit) b = limit;
    return [a, b];
  };
  if ((x2 - x1) / (y2 - y1) > ratio) [y1, y2] = grow(y1, y2, (x2 - x1) / ratio, imageHeight);
  else [x1, x2] = grow(x1, x2, (y2 - y1) * ratio, imageWidth);
  return [x1, y1, x2, y2];
}

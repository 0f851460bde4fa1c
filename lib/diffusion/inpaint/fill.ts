// A1111's "fill" masked content (masking.fill): the masked area painted with ever sharper blurs of what
// surrounds it, Pillow's GaussianBlur (three box blurs per axis, BoxBlur.c's fixed point) on the premultiplied
// image, composited radius 256, 64, 16 (twice), 4 (four times), 2 (twice), then the unblurred image.
import type { RgbImage } from "../../io/image.ts";
import type { GrayImage } from "./mask.ts";
import { compositePixel, premultipliedMasked, type RgbaImage, unpremultiply } from "./overlay.ts";

const f = Math.fround;

/** Pillow's _gaussian_blur_radius: the box radius of `passes` box blurs matching a Gaussian (float math). */
function boxRadius(radius: number, passes: number): number {
  const sigma2 = f(f(radius * radius) / passes);
  const L = f(Math.sqrt(12.0 * sigma2 + 1.0));
  const l = f(Math.floor((L - 1.0) / 2.0));
  let a = f(f(2 * l + 1) * f(f(l * f(l + 1)) - f(3 * sigma2)));
  a = f(a / f(6 * f(sigma2 - f(f(l + 1) * f(l + 1)))));
  return f(l + a);
}

/** ImagingLineBoxBlur32 on one line of 4-channel pixels read through `at(i)` and written through `put(i)`. */
function blurLine(line: Uint8Array, len: number, floatRadius: number): Uint8Array {
  const radius = Math.trunc(floatRadius);
  const ww = Math.trunc(f((1 << 24) / f(f(floatRadius * 2) + 1)));
  const fw = Math.trunc(((1 << 24) - (radius * 2 + 1) * ww) / 2);
  const lastx = len - 1;
  const edgeA = Math.min(radius + 1, len);
  const edgeB = Math.max(len - radius - 1, 0);
  const out = new Uint8Array(len * 4);
  for (let c = 0; c < 4; c++) {
    const px = (i: number) => line[i * 4 + c];
    let acc = px(0) * (radius + 1);
    for (let x = 0; x < edgeA - 1; x++) acc += px(x);
    acc += px(lastx) * (radius - edgeA + 1);
    const step = (x: number, sub: number, add: number, left: number, right: number) => {
      acc += px(add) - px(sub);
      const bulk = acc * ww + (px(left) + px(right)) * fw;
      out[x * 4 + c] = Math.floor((bulk + (1 << 23)) / (1 << 24)) & 255;
    };
    if (edgeA <= edgeB) {
      for (let x = 0; x < edgeA; x++) step(x, 0, x + radius, 0, x + radius + 1);
      for (let x = edgeA; x < edgeB; x++) step(x, x - radius - 1, x + radius, x - radius - 1, x + radius + 1);
      for (let x = edgeB; x <= lastx; x++) step(x, x - radius - 1, lastx, x - radius - 1, lastx);
    } else {
      for (let x = 0; x < edgeB; x++) step(x, 0, x + radius, 0, x + radius + 1);
      for (let x = edgeB; x < edgeA; x++) step(x, 0, lastx, 0, lastx);
      for (let x = edgeA; x <= lastx; x++) step(x, x - radius - 1, lastx, x - radius - 1, lastx);
    }
  }
  return out;
}

/** Image.filter(GaussianBlur(radius)) of a 4-channel image: three box blurs along x, then three along y. */
export function gaussianBlur4(im: RgbaImage, radius: number): RgbaImage {
  if (radius === 0) return { ...im, data: im.data.slice() };
  const r = boxRadius(radius, 3);
  const { width, height } = im;
  const data = im.data.slice();
  for (let y = 0; y < height; y++) {
    let line: Uint8Array = data.slice(y * width * 4, (y + 1) * width * 4);
    for (let i = 0; i < 3; i++) line = blurLine(line, width, r);
    data.set(line, y * width * 4);
  }
  const column = new Uint8Array(height * 4);
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      column.set(data.subarray((y * width + x) * 4, (y * width + x) * 4 + 4), y * 4);
    }
    let line: Uint8Array = column;
    for (let i = 0; i < 3; i++) line = blurLine(line, height, r);
    for (let y = 0; y < height; y++) data.set(line.subarray(y * 4, y * 4 + 4), (y * width + x) * 4);
  }
  return { width, height, data };
}

/** masking.fill(image, mask): the masked pixels replaced by the blurred surroundings. */
export function fillMasked(image: RgbImage, mask: GrayImage): RgbImage {
  const masked = premultipliedMasked(image, mask);
  const n = image.width * image.height;
  const mod = new Uint8Array(n * 4);
  for (const [radius, repeats] of [[256, 1], [64, 1], [16, 2], [4, 4], [2, 2], [0, 1]]) {
    const blurred = unpremultiply(gaussianBlur4(masked, radius));
    for (let k = 0; k < repeats; k++) {
      for (let p = 0; p < n; p++) compositePixel(mod, 4 * p, blurred.data, 4 * p);
    }
  }
  const data = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) data.set(mod.subarray(4 * p, 4 * p + 3), 3 * p);
  return { width: image.width, height: image.height, data };
}

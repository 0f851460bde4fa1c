// Pillow's Image.resize for 8-bit RGB, bit for bit (src/libImaging/Resample.c): a separable convolution whose
// support widens with the downscale factor (antialiasing), horizontal pass then vertical, 22-bit fixed-point
// coefficients, and each pass rounded and clamped to uint8 as Pillow does. CLIP's preprocessing resizes this way,
// so matching it makes our pixel values equal to transformers' CLIPImageProcessor.
import type { RgbImage } from "../io/image.ts";
import { release } from "../io/release.ts";

/** Pillow's resampling filter numbers, as preprocessor_config.json's `resample` stores them. */
export enum Resample {
  NEAREST = 0,
  LANCZOS = 1,
  BILINEAR = 2,
  BICUBIC = 3,
  BOX = 4,
  HAMMING = 5,
}

interface Filter {
  support: number;
  weight: (x: number) => number;
}

const FILTERS: Partial<Record<Resample, Filter>> = {
  [Resample.BOX]: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  [Resample.BILINEAR]: {
    support: 1,
    weight: (x) => {
      x = Math.abs(x);
      return x < 1 ? 1 - x : 0;
    },
  },
  [Resample.HAMMING]: {
    support: 1,
    weight: (x) => {
      x = Math.abs(x);
      if (x === 0) return 1;
      if (x >= 1) return 0;
      x *= Math.PI;
      // Pillow writes 0.54f and 0.46f: float constants promoted to double.
      return Math.sin(x) / x * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(x));
    },
  },
  [Resample.BICUBIC]: {
    support: 2,
    weight: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  [Resample.LANCZOS]: {
    support: 3,
    weight: (x) => (-3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0),
  },
};

function sinc(x: number): number {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}

const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);

/** For each output index: the first input index, the tap count, and fixed-point weights (ksize per output). */
interface Coefficients {
  ksize: number;
  start: Int32Array;
  count: Int32Array;
  weights: Int32Array;
}

function coefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = filter.weight((x + xmin - center + 0.5) / filterscale);
      ww += k[x];
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      // Round half away from zero into 22-bit fixed point, as normalize_coeffs_8bpc does.
      weights[xx * ksize + x] = Math.trunc(
        w < 0 ? w * (1 << PRECISION_BITS) - 0.5 : w * (1 << PRECISION_BITS) + 0.5,
      );
    }
    start[xx] = xmin;
    count[xx] = Math.max(xmax, 0);
  }
  return { ksize, start, count, weights };
}

function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function horizontal(src: RgbImage, outWidth: number, c: Coefficients): RgbImage {
  const { width, height, data } = src;
  const out = new Uint8Array(outWidth * height * 3);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    const orow = y * outWidth * 3;
    for (let xx = 0; xx < outWidth; xx++) {
      const kbase = xx * c.ksize;
      let p = row + c.start[xx] * 3;
      let s0 = HALF, s1 = HALF, s2 = HALF;
      for (let x = 0, n = c.count[xx]; x < n; x++, p += 3) {
        const w = c.weights[kbase + x];
        s0 += data[p] * w;
        s1 += data[p + 1] * w;
        s2 += data[p + 2] * w;
      }
      const o = orow + xx * 3;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
    }
  }
  return { width: outWidth, height, data: out };
}

function vertical(src: RgbImage, outHeight: number, c: Coefficients): RgbImage {
  const { width, data } = src;
  const stride = width * 3;
  const out = new Uint8Array(width * outHeight * 3);
  for (let yy = 0; yy < outHeight; yy++) {
    const kbase = yy * c.ksize;
    const first = c.start[yy] * stride;
    const n = c.count[yy];
    for (let i = 0; i < stride; i++) {
      let s = HALF;
      for (let y = 0, p = first + i; y < n; y++, p += stride) s += data[p] * c.weights[kbase + y];
      out[yy * stride + i] = clip8(s);
    }
  }
  return { width, height: outHeight, data: out };
}

/** Image.resize((width, height), resample) of an RGB image; returns the input itself when the size is unchanged. */
export function resizeRgb(
  img: RgbImage,
  width: number,
  height: number,
  resample = Resample.BICUBIC,
): RgbImage {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`cannot resize to ${width}×${height}: sizes must be positive integers`);
  }
  const filter = FILTERS[resample];
  if (!filter) {
    throw new Error(`unsupported resampling filter ${resample} (${Resample[resample] ?? "unknown"})`);
  }
  let out = img;
  if (width !== img.width) out = horizontal(out, width, coefficients(img.width, width, filter));
  if (height !== img.height) {
    const pass = out;
    out = vertical(pass, height, coefficients(img.height, height, filter));
    if (pass !== img) release(pass.data);
  }
  return out;
}

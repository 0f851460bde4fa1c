// The hires fix's upscalers as A1111 lists them: the latent ones (shared.latent_upscale_modes: torch
// interpolate on the latents) and the pixel ones built in without a model (None, Lanczos, Nearest), which
// resize the decoded first-pass image as images.resize_image(0, …, upscaler_name) does.
import type { RgbImage } from "../../io/image.ts";
import { Resample, resizeRgb } from "../../clip/pil_resample.ts";
import type { LatentResizeMode } from "./latent_resize.ts";

export interface LatentUpscaler {
  kind: "latent";
  mode: LatentResizeMode;
  antialias: boolean;
}

export interface PixelUpscaler {
  kind: "pixel";
  /** The upscaler's own filter (Upscaler.do_upscale); None has none: the image goes straight to Lanczos. */
  filter?: Resample.LANCZOS | Resample.NEAREST;
}

export type Upscaler = LatentUpscaler | PixelUpscaler;

export const UPSCALERS: Readonly<Record<string, Upscaler>> = {
  "Latent": { kind: "latent", mode: "bilinear", antialias: false },
  "Latent (antialiased)": { kind: "latent", mode: "bilinear", antialias: true },
  "Latent (bicubic)": { kind: "latent", mode: "bicubic", antialias: false },
  "Latent (bicubic antialiased)": { kind: "latent", mode: "bicubic", antialias: true },
  "Latent (nearest)": { kind: "latent", mode: "nearest", antialias: false },
  "Latent (nearest-exact)": { kind: "latent", mode: "nearest-exact", antialias: false },
  "None": { kind: "pixel" },
  "Lanczos": { kind: "pixel", filter: Resample.LANCZOS },
  "Nearest": { kind: "pixel", filter: Resample.NEAREST },
};

/** A1111's default when hr_upscaler is not given (latent_upscale_default_mode). */
export const DEFAULT_UPSCALER = "Latent";

/** Pillow's positions for a NEAREST resize (ImagingScaleAffine): a running sum from the first pixel's centre. */
function nearestPositions(inSize: number, outSize: number): Int32Array {
  const step = inSize / outSize;
  const out = new Int32Array(outSize);
  let pos = step * 0.5;
  for (let i = 0; i < outSize; i++, pos += step) out[i] = Math.min(Math.trunc(pos), inSize - 1);
  return out;
}

/** Pillow's NEAREST resize: the source pixel under each output pixel's centre. */
function nearest(img: RgbImage, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  const xs = nearestPositions(img.width, width);
  const ys = nearestPositions(img.height, height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const src = (ys[y] * img.width + xs[x]) * 3;
      data.set(img.data.subarray(src, src + 3), (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

function pilResize(img: RgbImage, width: number, height: number, filter: Resample): RgbImage {
  if (img.width === width && img.height === height) return img;
  return filter === Resample.NEAREST ? nearest(img, width, height) : resizeRgb(img, width, height, filter);
}

/**
 * images.resize_image(0, img, width, height, upscaler_name): the upscaler's Upscaler.upscale (its filter at
 * int(side·scale), repeated while smaller than the target rounded down to 8, at most three times, then Lanczos
 * to that size) when the image grows, then Lanczos to the exact size.
 */
export function upscalePixels(
  img: RgbImage,
  width: number,
  height: number,
  upscaler: PixelUpscaler,
): RgbImage {
  const filter = upscaler.filter;
  if (filter === undefined) return pilResize(img, width, height, Resample.LANCZOS);
  const scale = Math.max(width / img.width, height / img.height);
  let im = img;
  if (scale > 1) {
    const destW = Math.floor(Math.floor(im.width * scale) / 8) * 8;
    const destH = Math.floor(Math.floor(im.height * scale) / 8) * 8;
    for (let i = 0; i < 3; i++) {
      if (im.width >= destW && im.height >= destH && (i > 0 || scale !== 1)) break;
      const before = im;
      im = pilResize(im, Math.trunc(im.width * scale), Math.trunc(im.height * scale), filter);
      if (before.width === im.width && before.height === im.height) break;
    }
    im = pilResize(im, destW, destH, Resample.LANCZOS);
  }
  return pilResize(im, width, height, Resample.LANCZOS);
}

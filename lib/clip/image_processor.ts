// transformers' CLIPImageProcessor (the PIL-based one), configured by a model folder's preprocessor_config.json:
// resize the shortest edge with Pillow's resampling, center crop (zero padding when too small), rescale,
// normalize, channels first. Arithmetic follows numpy's float32 steps so pixel values match bit for bit.
import { join } from "node:path";
import type { RgbImage } from "../io/image.ts";
import { release } from "../io/release.ts";
import { Resample, resizeRgb } from "./pil_resample.ts";

export type ResizeTarget = { shortestEdge: number } | { height: number; width: number };

export interface ClipImageConfig {
  /** Always satisfied: lib/io/image.ts decodes every image to RGB. Kept so configs round-trip. */
  doConvertRgb: boolean;
  doResize: boolean;
  size: ResizeTarget;
  resample: Resample;
  doCenterCrop: boolean;
  cropSize: { height: number; width: number };
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
}

/** Reads `<dir>/preprocessor_config.json`. */
export async function readImageProcessorConfig(dir: string): Promise<ClipImageConfig> {
  const path = join(dir, "preprocessor_config.json");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new Error(`cannot read the CLIP image preprocessing config ${path}: ${(e as Error).message}`);
  }
  try {
    return parseImageProcessorConfig(JSON.parse(text));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
}

/** Validates a preprocessor_config.json object, filling CLIPImageProcessor's defaults for missing keys. */
export function parseImageProcessorConfig(json: unknown): ClipImageConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new Error("config is not an object");
  }
  const c = json as Record<string, unknown>;
  const type = c.image_processor_type ?? c.feature_extractor_type;
  if (type !== undefined && !/^CLIP(ImageProcessor|FeatureExtractor)(Fast)?$/.test(String(type))) {
    throw new Error(`image_processor_type ${JSON.stringify(type)} is not a CLIP image processor`);
  }
  const resample = c.resample === undefined ? Resample.BICUBIC : positiveInt(c.resample, "resample", true);
  if (Resample[resample] === undefined) throw new Error(`resample ${resample} is not a Pillow filter`);
  return {
    doConvertRgb: bool(c.do_convert_rgb, true, "do_convert_rgb"),
    doResize: bool(c.do_resize, true, "do_resize"),
    size: resizeTarget(c.size ?? { shortest_edge: 224 }),
    resample,
    doCenterCrop: bool(c.do_center_crop, true, "do_center_crop"),
    cropSize: cropSize(c.crop_size ?? { height: 224, width: 224 }),
    doRescale: bool(c.do_rescale, true, "do_rescale"),
    rescaleFactor: c.rescale_factor === undefined ? 1 / 255 : finite(c.rescale_factor, "rescale_factor"),
    doNormalize: bool(c.do_normalize, true, "do_normalize"),
    imageMean: triple(c.image_mean ?? [0.48145466, 0.4578275, 0.40821073], "image_mean"),
    imageStd: triple(c.image_std ?? [0.26862954, 0.26130258, 0.27577711], "image_std"),
  };
}

function bool(v: unknown, fallback: boolean, what: string): boolean {
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") throw new Error(`${what} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function finite(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${what} must be a number`);
  return v;
}

function positiveInt(v: unknown, what: string, allowZero = false): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) {
    throw new Error(
      `${what} must be a ${allowZero ? "non-negative" : "positive"} integer, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

function triple(v: unknown, what: string): [number, number, number] {
  if (!Array.isArray(v) || v.length !== 3) throw new Error(`${what} must list 3 numbers (R, G, B)`);
  const [a, b, c] = v.map((x, i) => finite(x, `${what}[${i}]`));
  if (what === "image_std" && (a === 0 || b === 0 || c === 0)) {
    throw new Error("image_std must not contain 0");
  }
  return [a, b, c];
}

// transformers' get_size_dict: a bare int for `size` means the shortest edge, for `crop_size` a square.
function resizeTarget(v: unknown): ResizeTarget {
  if (typeof v === "number") return { shortestEdge: positiveInt(v, "size") };
  const s = v as Record<string, unknown>;
  if (s && typeof s === "object" && "shortest_edge" in s) {
    return { shortestEdge: positiveInt(s.shortest_edge, "size.shortest_edge") };
  }
  if (s && typeof s === "object" && "height" in s && "width" in s) {
    return { height: positiveInt(s.height, "size.height"), width: positiveInt(s.width, "size.width") };
  }
  throw new Error(`size must hold shortest_edge or height and width, got ${JSON.stringify(v)}`);
}

function cropSize(v: unknown): { height: number; width: number } {
  if (typeof v === "number") return { height: positiveInt(v, "crop_size"), width: v };
  const s = v as Record<string, unknown>;
  if (s && typeof s === "object" && "height" in s && "width" in s) {
    return {
      height: positiveInt(s.height, "crop_size.height"),
      width: positiveInt(s.width, "crop_size.width"),
    };
  }
  throw new Error(`crop_size must hold height and width, got ${JSON.stringify(v)}`);
}

/** transformers' get_resize_output_image_size with default_to_square=False: the long side is truncated. */
export function resizeOutputSize(
  width: number,
  height: number,
  target: ResizeTarget,
): { width: number; height: number } {
  if ("height" in target) return { width: target.width, height: target.height };
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  // Python's int(size * long / short): float division, then truncation.
  const newLong = Math.trunc(target.shortestEdge * long / short);
  return width <= height
    ? { width: target.shortestEdge, height: newLong }
    : { width: newLong, height: target.shortestEdge };
}

/** transformers' center_crop: offsets floor((orig - crop) / 2), zero padding (centred, ceil) when too small. */
export function centerCrop(img: RgbImage, width: number, height: number): RgbImage {
  if (img.width === width && img.height === height) return img;
  const padTop = Math.max(0, Math.ceil((height - img.height) / 2));
  const padLeft = Math.max(0, Math.ceil((width - img.width) / 2));
  const top = Math.floor((img.height - height) / 2) + padTop;
  const left = Math.floor((img.width - width) / 2) + padLeft;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = y + top - padTop;
    if (sy < 0 || sy >= img.height) continue;
    for (let x = 0; x < width; x++) {
      const sx = x + left - padLeft;
      if (sx < 0 || sx >= img.width) continue;
      const s = (sy * img.width + sx) * 3;
      const d = (y * width + x) * 3;
      out[d] = img.data[s];
      out[d + 1] = img.data[s + 1];
      out[d + 2] = img.data[s + 2];
    }
  }
  return { width, height, data: out };
}

/** The processed image's (height, width), fixed when the config crops or resizes to a fixed size. */
export function outputSize(cfg: ClipImageConfig): { height: number; width: number } | undefined {
  if (cfg.doCenterCrop) return cfg.cropSize;
  if (cfg.doResize && "height" in cfg.size) return { height: cfg.size.height, width: cfg.size.width };
  return undefined;
}

const MAX_RESIZED_PIXELS = 1 << 26;

/** The resized and cropped uint8 image, before rescaling. */
export function resizeAndCrop(img: RgbImage, cfg: ClipImageConfig): RgbImage {
  let out = img;
  if (cfg.doResize) {
    const size = resizeOutputSize(img.width, img.height, cfg.size);
    // A sliver such as 1×100000 would resize to billions of pixels; refuse instead of exhausting memory.
    if (size.width * size.height > MAX_RESIZED_PIXELS) {
      throw new Error(
        `a ${img.width}×${img.height} image resizes to ${size.width}×${size.height}: aspect ratio too extreme`,
      );
    }
    out = resizeRgb(out, size.width, size.height, cfg.resample);
  }
  if (cfg.doCenterCrop) {
    const resized = out;
    out = centerCrop(resized, cfg.cropSize.width, cfg.cropSize.height);
    if (resized !== img && resized !== out) release(resized.data);
  }
  return out;
}

/**
 * pixel_values for one image: float32, channels first (3, H, W). Writes into `out` at `offset` when given
 * (to fill a batch without copying) and returns the (sub)array written.
 */
export function preprocessImage(
  img: RgbImage,
  cfg: ClipImageConfig,
  out?: Float32Array,
  offset = 0,
): Float32Array {
  const small = resizeAndCrop(img, cfg);
  const plane = small.width * small.height;
  const dst = out ? out.subarray(offset, offset + 3 * plane) : new Float32Array(3 * plane);
  if (dst.length !== 3 * plane) {
    throw new Error(`output buffer too small for a 3×${small.height}×${small.width} image`);
  }
  const table = valueTable(cfg);
  for (let ch = 0; ch < 3; ch++) {
    const base = ch * plane;
    const t = ch * 256;
    for (let i = 0; i < plane; i++) dst[base + i] = table[t + small.data[i * 3 + ch]];
  }
  if (small !== img) release(small.data);
  return dst;
}

const tables = new WeakMap<ClipImageConfig, Float32Array>();

/** Per channel, the float every uint8 value becomes: 3 × 256 entries, computed once per config. */
function valueTable(cfg: ClipImageConfig): Float32Array {
  let table = tables.get(cfg);
  if (table) return table;
  table = new Float32Array(3 * 256);
  for (let ch = 0; ch < 3; ch++) {
    // numpy: rescale in float64 then cast to float32; normalize in float32 with float32 mean and std.
    const mean = Math.fround(cfg.imageMean[ch]);
    const std = Math.fround(cfg.imageStd[ch]);
    for (let v = 0; v < 256; v++) {
      let x = cfg.doRescale ? Math.fround(v * cfg.rescaleFactor) : v;
      if (cfg.doNormalize) x = Math.fround(Math.fround(x - mean) / std);
      table[ch * 256 + v] = x;
    }
  }
  tables.set(cfg, table);
  return table;
}

// Decodes the images a user drops into a folder to plain RGB8, with the semantics of the PIL reference
// (tests/fixtures/fx_refs.py load_rgb): EXIF orientation applied, first frame only, alpha dropped (not composited),
// embedded ICC profiles ignored, CMYK converted with PIL's formula, more than 8 bits per sample reduced to 8.
import sharp, { type Sharp } from "sharp";
import { release } from "./release.ts";

// Each image is decoded once: libvips' operation cache would only hold on to memory that grows with the number
// of images ingested (up to its 50 MB default).
sharp.cache(false);

/** Interleaved 8-bit RGB, row-major, `data.length === width * height * 3`. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export type SkipCode = "empty" | "unreadable" | "too-large" | "not-an-image" | "corrupt" | "unprocessable";

/** Why a file was not used; `message` is meant for the user and names the problem. */
export interface ImageSkip {
  code: SkipCode;
  message: string;
}

export type DecodeOutcome = { ok: true; image: RgbImage } | { ok: false; skip: ImageSkip };

/** PIL's decompression-bomb error threshold (2 × Image.MAX_IMAGE_PIXELS): bigger images are refused. */
export const DEFAULT_MAX_PIXELS = 178_956_970;

/** File name extensions treated as images when walking a folder (compared lower-case). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  ".jpg",
  ".jpeg",
  ".jpe",
  ".jfif",
  ".png",
  ".webp",
  ".gif",
  ".tif",
  ".tiff",
  ".avif",
  ".heic",
  ".heif",
  ".bmp",
]);

export function hasImageExtension(name: string): boolean {
  const dot = name.lastIndexOf(".");
  return dot >= 0 && IMAGE_EXTENSIONS.has(name.slice(dot).toLowerCase());
}

export interface DecodeOptions {
  /** Images whose header declares more pixels than this are refused before any pixel is decoded. */
  maxPixels?: number;
}

/** Reads and decodes one file; never throws for bad image content, only reports why it was skipped. */
export async function loadImage(path: string, opts: DecodeOptions = {}): Promise<DecodeOutcome> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    return skipped("unreadable", `cannot read the file: ${(e as Error).message}`);
  }
  try {
    return await decodeImage(bytes, opts);
  } finally {
    release(bytes);
  }
}

/** Decodes encoded image bytes (JPEG, PNG, WebP, GIF, TIFF, AVIF/HEIF) to RGB8. */
export async function decodeImage(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DecodeOutcome> {
  if (bytes.length === 0) return skipped("empty", "empty file (0 bytes)");
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  // One sharp instance reads the header, then decodes: its options object is large, and a second instance
  // per image doubled the garbage each image leaves in the worker's heap. ignoreIcc: PIL's convert("RGB") does
  // not colour-manage; pages: 1 is the first frame of an animation. limitInputPixels is off because the
  // header is checked here, before any pixel is decoded, with a reason the user can read.
  const input = sharp(bytes, {
    autoOrient: true,
    ignoreIcc: true,
    pages: 1,
    page: 0,
    limitInputPixels: false,
    failOn: "truncated",
  });
  const meta = await input.metadata().catch((e: unknown) => e as Error);
  if (meta instanceof Error) return skipped("not-an-image", `not a decodable image: ${cleanError(meta)}`);
  const { width, height } = meta;
  if (!width || !height) return skipped("not-an-image", "image header declares no dimensions");
  if (width * height > maxPixels) {
    return skipped(
      "too-large",
      `header declares ${width}×${height} = ${width * height} pixels, over the limit of ${maxPixels}; ` +
        "refused before decoding",
    );
  }
  try {
    return { ok: true, image: await decodePixels(input, meta.space === "cmyk") };
  } catch (e) {
    return skipped("corrupt", `cannot decode the image (truncated or corrupt): ${cleanError(e)}`);
  }
}

async function decodePixels(input: Sharp, cmyk: boolean): Promise<RgbImage> {
  if (cmyk) {
    // libvips would convert CMYK through an ICC profile; PIL uses plain arithmetic, so take the raw inks.
    const { data, info } = await input.pipelineColourspace("cmyk").toColourspace("cmyk").raw()
      .toBuffer({ resolveWithObject: true });
    const rgb = cmykToRgb(data, info.width * info.height, info.channels);
    release(data);
    return { width: info.width, height: info.height, data: rgb };
  }
  const { data, info } = await input.removeAlpha().toColourspace("srgb").raw({ depth: "uchar" })
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoder produced ${info.channels} channels, expected 3`);
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

/** PIL's cmyk2rgb: each colour is (255 - K) - C·(255 - K)/255, with PIL's rounded integer division by 255. */
export function cmykToRgb(cmyk: Uint8Array, pixels: number, channels: number): Uint8Array {
  if (channels < 4) throw new Error(`CMYK image with ${channels} channels`);
  const rgb = new Uint8Array(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const o = i * channels;
    const nk = 255 - cmyk[o + 3];
    for (let c = 0; c < 3; c++) {
      const t = cmyk[o + c] * nk + 128;
      rgb[i * 3 + c] = nk - (((t >> 8) + t) >> 8);
    }
  }
  return rgb;
}

function skipped(code: SkipCode, message: string): DecodeOutcome {
  return { ok: false, skip: { code, message } };
}

// libvips repeats its messages on several lines; keep each distinct one once.
function cleanError(e: unknown): string {
  const lines = (e instanceof Error ? e.message : String(e)).split("\n").map((l) => l.trim()).filter(Boolean);
  return [...new Set(lines)].join("; ");
}

/** Encodes 8-bit RGB pixels as a PNG (no text chunks). */
export async function encodePng(image: RgbImage): Promise<Uint8Array> {
  const buf = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

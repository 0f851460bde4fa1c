// The VAE's two ends: pixels → latent moments (img2img's source image) and latents → pixels, with diffusers'
// VaeImageProcessor conventions (pixels in [−1, 1] as 1 × 3 × H × W; output (x/2 + 0.5) clamped to [0, 1],
// then ×255 and rounded to 8 bits).
import sharp from "sharp";
import type { RgbImage } from "../io/image.ts";
import { type Session, Tensor } from "../onnx/session.ts";
import { needsTiles, type Planes, runTiled, type VaeTiling } from "./vae_tiling.ts";

const f = Math.fround;

/** The image at width × height, resized with Lanczos (A1111's "Just resize") when its size differs. */
export async function fitImage(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  if (image.width === width && image.height === height) return image;
  const { data, info } = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: 3 },
  }).resize(width, height, { fit: "fill", kernel: "lanczos3" }).raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

/** HWC RGB8 → 1 × 3 × H × W in [−1, 1] (pixel/255 in float32, then 2x − 1). */
export function imageToTensor(image: RgbImage): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(3 * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = f(f(2 * f(image.data[p * 3 + c] / 255)) - 1);
  }
  return out;
}

/**
 * The encoder's latent_parameters (mean and logvar, 1 × 2C × H/f × W/f) for one image; with `tiling`, encoded
 * in tiles when the image is larger than one.
 */
export function encodeImage(encoder: Session, image: RgbImage, tiling?: VaeTiling): Promise<Float32Array> {
  return encodePixels(encoder, imageToTensor(image), image.width, image.height, tiling);
}

/** One run of a VAE part on 1 × C × H × W. */
async function runPart(session: Session, x: Planes, part: string): Promise<Planes> {
  const input = new Tensor("float32", x.data, [1, x.channels, x.height, x.width]);
  const out = (await session.run({ [session.inputNames[0]]: input }))[session.outputNames[0]];
  if (out.type !== "float32") throw new Error(`the VAE ${part} returned ${out.type}, not float32`);
  if (out.dims.length !== 4 || out.dims[0] !== 1) {
    throw new Error(`the VAE ${part} returned shape [${out.dims.join(", ")}], expected [1, C, H, W]`);
  }
  const [, channels, height, width] = out.dims as number[];
  return { data: out.data as Float32Array, channels, height, width };
}

/** As encodeImage, for pixels already in [−1, 1] (1 × 3 × H × W). */
export async function encodePixels(
  encoder: Session,
  pixels: Float32Array,
  width: number,
  height: number,
  tiling?: VaeTiling,
): Promise<Float32Array> {
  const image = { data: pixels, channels: 3, height, width };
  const run = (x: Planes) => runPart(encoder, x, "encoder");
  if (tiling && needsTiles(height, width, tiling.sampleTile)) {
    return (await runTiled(image, tiling.sampleTile, tiling.latentTile, run)).data;
  }
  return (await run(image)).data;
}

/** The decoder's output (B × 3 × H × W) for scaled latents, one image after another in tiles. */
async function decodeTiled(
  decoder: Session,
  scaled: Float32Array,
  shape: readonly [number, number, number, number],
  tiling: VaeTiling,
): Promise<Planes> {
  const [batch, channels, height, width] = shape;
  const per = channels * height * width;
  const images: Planes[] = [];
  for (let b = 0; b < batch; b++) {
    const latent = { data: scaled.subarray(b * per, (b + 1) * per), channels, height, width };
    images.push(
      await runTiled(latent, tiling.latentTile, tiling.sampleTile, (x) => runPart(decoder, x, "decoder")),
    );
  }
  const one = images[0].data.length;
  const data = new Float32Array(batch * one);
  images.forEach((x, b) => data.set(x.data, b * one));
  return { ...images[0], data };
}

/**
 * Decodes B images' latents (B × C × h × w, already denoised, not yet divided by the scaling factor) to RGB8;
 * with `tiling`, in tiles when the latents are larger than one (each image on its own).
 * Also returns the decoder's float output in [0, 1] (B × H × W × 3) for callers that compare with references.
 */
export async function decodeLatents(
  decoder: Session,
  latents: Float32Array,
  shape: readonly [number, number, number, number],
  scalingFactor: number,
  tiling?: VaeTiling,
): Promise<{ images: RgbImage[]; float: Float32Array }> {
  const [batch] = shape;
  const sf = f(scalingFactor);
  const scaled = latents.map((v) => v / sf);
  let x: Float32Array, channels: number, height: number, width: number;
  if (tiling && needsTiles(shape[2], shape[3], tiling.latentTile)) {
    ({ data: x, channels, height, width } = await decodeTiled(decoder, scaled, shape, tiling));
  } else {
    const out = await decoder.run({ [decoder.inputNames[0]]: new Tensor("float32", scaled, [...shape]) });
    const sample = out[decoder.outputNames[0]];
    if (sample.type !== "float32") throw new Error(`the VAE decoder returned ${sample.type}, not float32`);
    if (sample.dims.length !== 4 || sample.dims[0] !== batch) {
      throw new Error(
        `the VAE decoder returned shape [${sample.dims.join(", ")}], expected [${batch}, 3, H, W]`,
      );
    }
    [, channels, height, width] = sample.dims as number[];
    x = sample.data as Float32Array;
  }
  if (channels !== 3) throw new Error(`the VAE decoder returned ${channels} channels, expected 3`);
  const plane = height * width;
  const float = new Float32Array(batch * plane * 3);
  const images: RgbImage[] = [];
  for (let b = 0; b < batch; b++) {
    const data = new Uint8Array(plane * 3);
    for (let c = 0; c < 3; c++) {
      const src = (b * 3 + c) * plane;
      for (let p = 0; p < plane; p++) {
        const v = Math.min(Math.max(f(f(x[src + p] / 2) + 0.5), 0), 1);
        float[(b * plane + p) * 3 + c] = v;
        data[p * 3 + c] = Math.round(f(v * 255));
      }
    }
    images.push({ width, height, data });
  }
  return { images, float };
}

// What an inpainting checkpoint's UNet reads beside the latents (A1111's inpainting_image_conditioning, the
// layout diffusers' StableDiffusionInpaintPipeline feeds): the mask, rounded and brought to the latent size by
// nearest interpolation, then the VAE latents of the image with the masked pixels zeroed. Without a mask (txt2img,
// plain img2img, the hires pass) the mask is all ones, so the image is all zeros (A1111's mid-grey).
import type { NoiseGenerator } from "../noise_source.ts";
import { sampleLatentDist } from "../latents.ts";
import type { SdModel } from "../sd_model.ts";
import { encodePixels, imageToTensor } from "../vae.ts";
import type { VaeTiling } from "../vae_tiling.ts";
import type { RgbImage } from "../../io/image.ts";
import type { GrayImage } from "./mask.ts";

/** The UNet's input channels beyond the latents: 1 + C for an inpainting checkpoint, else 0. */
export function extraUnetChannels(model: SdModel): number {
  const meta = model.unet.inputMetadata.find((m) => m.name === model.unetIO.sample);
  const channels = meta?.isTensor ? meta.shape[1] : undefined;
  if (typeof channels !== "number" || channels === model.latentChannels) return 0;
  if (channels !== 2 * model.latentChannels + 1) {
    throw new Error(
      `the UNet takes ${channels} input channels; ${model.latentChannels} (a regular checkpoint) or ` +
        `${2 * model.latentChannels + 1} (an inpainting checkpoint) are supported`,
    );
  }
  return channels - model.latentChannels;
}

/**
 * (1 + C) × h × w: the mask at latent size, then the masked image's latents (a posterior sample from
 * `posterior`, scaled). `masked` is the prepared image and its processed mask (255 = inpaint), both W × H.
 */
export async function inpaintingConditioning(
  model: SdModel,
  latentShape: readonly [number, number, number],
  posterior: NoiseGenerator,
  tiling: VaeTiling | undefined,
  masked?: { image: RgbImage; mask: GrayImage },
): Promise<Float32Array> {
  const [c, h, w] = latentShape;
  const f = model.vaeScaleFactor;
  const width = w * f;
  const height = h * f;
  const plane = width * height;
  const keep = new Float32Array(plane);
  const pixels = new Float32Array(3 * plane);
  if (masked) {
    const source = imageToTensor(masked.image);
    for (let p = 0; p < plane; p++) {
      keep[p] = Math.round(masked.mask.data[p] / 255);
      for (let k = 0; k < 3; k++) pixels[k * plane + p] = Math.fround(source[k * plane + p] * (1 - keep[p]));
    }
  } else {
    keep.fill(1);
  }
  const moments = await encodePixels(await model.vaeEncoder(), pixels, width, height, tiling);
  const latents = sampleLatentDist(moments, posterior, [1, c, h, w], model.scalingFactor);
  const out = new Float32Array((1 + c) * h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out[y * w + x] = keep[Math.floor(y * f) * width + Math.floor(x * f)];
  }
  out.set(latents, h * w);
  return out;
}

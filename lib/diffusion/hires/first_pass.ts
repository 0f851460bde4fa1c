// The hires fix between its two passes (A1111's sample_hr_pass): the first pass's latents upscaled, either
// in latent space (torch interpolate) or as pixels (decoded, 8-bit as A1111 keeps them, resized by the
// upscaler, encoded again), then cropped to the requested size; and the second pass's conditioning.
import type { RgbImage } from "../../io/image.ts";
import { type ConditioningHook, encodePromptPair, type PromptPair } from "../conditioning.ts";
import { sampleLatentDist } from "../latents.ts";
import type { NoiseGenerator } from "../noise_source.ts";
import type { ResolvedRequest } from "../request.ts";
import type { SdModel } from "../sd_model.ts";
import { decodeLatents, encodeImage } from "../vae.ts";
import type { VaeTiling } from "../vae_tiling.ts";
import { resizeLatents } from "./latent_resize.ts";
import type { ResolvedHires } from "./options.ts";
import { cropLatents } from "./target.ts";
import { upscalePixels } from "./upscalers.ts";

/**
 * The second pass's prompts: the first pass's (already hooked, so a personalized conditioning is reused, not
 * optimized again) unless hrPrompt or hrNegativePrompt differ, which are encoded and hooked like the first.
 */
export async function hiresConditioning(
  model: SdModel,
  r: ResolvedRequest,
  first: PromptPair,
  hooks: { conditioning?: readonly ConditioningHook[] },
): Promise<PromptPair> {
  const h = r.hires!;
  if (h.prompt === r.prompt && h.negativePrompt === r.negativePrompt) return first;
  return await encodePromptPair(model, h.prompt, h.negativePrompt, r.clipSkip, hooks.conditioning);
}

/** Decoded to 8 bits as A1111 does before a pixel upscaler: 255·clamp((x + 1)/2), truncated. */
async function decodeTruncated(
  model: SdModel,
  latents: Float32Array,
  shape: readonly number[],
  tiling: VaeTiling | undefined,
) {
  const decoded = await decodeLatents(
    model.vaeDecoder,
    latents,
    [1, shape[0], shape[1], shape[2]],
    model.scalingFactor,
    tiling,
  );
  const image: RgbImage = decoded.images[0];
  const data = new Uint8Array(decoded.float.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.trunc(Math.fround(decoded.float[i] * 255));
  return { width: image.width, height: image.height, data };
}

/**
 * Each image's first-pass latents (C × h × w) upscaled and cropped to the second pass's size. The pixel
 * upscalers' images are encoded again with a posterior sample from `posteriors[i]`; with `tiling`, the VAE
 * runs in tiles.
 */
export async function upscaleFirstPass(
  model: SdModel,
  hires: ResolvedHires,
  latents: readonly Float32Array[],
  shape: readonly [number, number, number],
  posteriors: readonly NoiseGenerator[],
  tiling?: VaeTiling,
): Promise<Float32Array[]> {
  const { target, upscaler } = hires;
  const f = model.vaeScaleFactor;
  const upH = Math.floor(target.upscaleHeight / f);
  const upW = Math.floor(target.upscaleWidth / f);
  const out: Float32Array[] = [];
  for (const [i, x] of latents.entries()) {
    let up: Float32Array;
    if (upscaler.kind === "latent") {
      up = resizeLatents(x, shape, upH, upW, upscaler.mode, upscaler.antialias);
    } else {
      const image = upscalePixels(
        await decodeTruncated(model, x, shape, tiling),
        target.upscaleWidth,
        target.upscaleHeight,
        upscaler,
      );
      const moments = await encodeImage(await model.vaeEncoder(), image, tiling);
      up = sampleLatentDist(moments, posteriors[i], [1, shape[0], upH, upW], model.scalingFactor);
    }
    out.push(cropLatents(up, [shape[0], upH, upW], target.truncateX, target.truncateY).latents);
  }
  return out;
}

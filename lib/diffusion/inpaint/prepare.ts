// What A1111's StableDiffusionProcessingImg2Img.init makes of an image and its mask before sampling, step for
// step: the mask made binary, inverted, blurred; for "only masked" the crop around it (grown to the output's
// aspect ratio) scaled to the output size, else everything resized to it; the overlay that later restores the
// pixels outside the mask; the masked area filled (all but "original"); and the latent mask.
import type { RgbImage } from "../../io/image.ts";
import { Resample, resizeRgb } from "../../clip/pil_resample.ts";
import { fillMasked } from "./fill.ts";
import { binaryMask, blurMask, type Box, cropRegion, expandCropRegion, type GrayImage } from "./mask.ts";
import { MaskedContent, type ResolvedInpaint } from "./options.ts";
import { maskedOverlay, type RgbaImage } from "./overlay.ts";
import { crop, grayToRgb, resizeGray, resizeImage, ResizeMode } from "./resize_modes.ts";

export interface InpaintPlan {
  /** The image the VAE encodes: width × height, cropped for "only masked", masked area filled. */
  image: RgbImage;
  /** The processed mask at width × height (A1111's image_mask / latent_mask), 255 = inpaint. */
  mask: GrayImage;
  /** Per latent cell: 1 where the sampler's result is kept (A1111's nmask), 0 where the source's latents are. */
  latentMask: Float32Array;
  overlay: RgbaImage;
  /** "Only masked": where the generated image goes back (x, y, w, h). */
  pasteTo?: [number, number, number, number];
}

/** A1111's latmask: the mask resized to the latent size (Pillow's default bicubic), /255, rounded. */
function latentMask(mask: GrayImage, latentW: number, latentH: number): Float32Array {
  const small = resizeRgb(grayToRgb(mask), latentW, latentH, Resample.BICUBIC);
  const out = new Float32Array(latentW * latentH);
  for (let p = 0; p < out.length; p++) out[p] = Math.round(small.data[3 * p] / 255);
  return out;
}

/** The plan for an image and its mask; undefined when "only masked" finds nothing masked (plain img2img). */
export function prepareInpaint(
  init: RgbImage,
  o: ResolvedInpaint,
  width: number,
  height: number,
  latentFactor: number,
): InpaintPlan | undefined {
  const blurred = blurMask(binaryMask(o.mask, o.invert), o.blurX, o.blurY);
  let region: Box | undefined = o.fullRes ? cropRegion(blurred, o.padding) : undefined;
  // A blank mask in "only masked" mode: A1111 drops the mask and runs plain img2img.
  if (o.fullRes && !region) return undefined;
  let mask: GrayImage;
  let overlayMask: GrayImage;
  let image: RgbImage;
  let pasteTo: InpaintPlan["pasteTo"];
  if (region) {
    region = expandCropRegion(region, width, height, blurred.width, blurred.height);
    const [x1, y1, x2, y2] = region;
    overlayMask = blurred;
    mask = resizeGray(ResizeMode.ResizeAndFill, crop(blurred, region), width, height);
    pasteTo = [x1, y1, x2 - x1, y2 - y1];
    image = init;
  } else {
    mask = resizeGray(ResizeMode.Resize, blurred, width, height);
    overlayMask = { ...mask, data: mask.data.map((v) => Math.min(v * 2, 255)) };
    image = resizeImage(ResizeMode.Resize, init, width, height);
  }
  const overlay = maskedOverlay(image, overlayMask);
  if (region) image = resizeImage(ResizeMode.ResizeAndFill, crop(image, region), width, height);
  if (o.fill !== MaskedContent.Original) image = fillMasked(image, mask);
  return {
    image,
    mask,
    latentMask: latentMask(mask, width / latentFactor, height / latentFactor),
    overlay,
    pasteTo,
  };
}

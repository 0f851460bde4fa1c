// The inpainting fields of an img2img request (A1111's img2img API names in camelCase), checked.
import type { RgbImage } from "../../io/image.ts";
import type { ParamValue } from "../../io/infotext.ts";

/** A1111's masked content (inpainting_fill). */
export enum MaskedContent {
  Fill = 0,
  Original = 1,
  LatentNoise = 2,
  LatentNothing = 3,
}

export interface InpaintFields {
  /** The mask, the init image's size: luminance above 128 is inpainted (A1111's create_binary_mask). */
  mask?: RgbImage;
  /** Gaussian blur of the mask in pixels; given, it sets both sides (else maskBlurX/Y, default 4 each). */
  maskBlur?: number;
  maskBlurX?: number;
  maskBlurY?: number;
  /** What the masked area starts from: 0 fill (default, as A1111's API), 1 original, 2 latent noise, 3 latent nothing. */
  inpaintingFill?: number;
  /** Inpaint area: true "only masked" (A1111's API default), false "whole picture". */
  inpaintFullRes?: boolean;
  /** Only masked padding, pixels. Default 0 (A1111's API; its UI sends 32). */
  inpaintFullResPadding?: number;
  /** Mask mode: 0 inpaint masked (default), 1 inpaint not masked. */
  inpaintingMaskInvert?: number;
}

export interface ResolvedInpaint {
  mask: RgbImage;
  blurX: number;
  blurY: number;
  fill: MaskedContent;
  fullRes: boolean;
  padding: number;
  invert: boolean;
  /** The infotext fields A1111 writes for them, in its order. */
  params: [string, ParamValue][];
}

const CONTENT_NAMES = ["fill", "original", "latent noise", "latent nothing"];

type FieldError = (message: string, field: string) => Error;

function whole(v: unknown, field: string, min: number, max: number, err: FieldError): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw err(`${field} must be a whole number from ${min} to ${max}, got ${v}`, field);
  }
  return v;
}

/** Checks the fields; undefined when the request has no mask (plain img2img). */
export function resolveInpaint(
  r: InpaintFields & { initImage?: RgbImage },
  err: FieldError,
): ResolvedInpaint | undefined {
  if (r.mask === undefined) return undefined;
  if (!r.initImage) throw err("a mask needs an init image (inpainting is img2img with a mask)", "mask");
  const { mask, initImage } = r;
  if (mask.width !== initImage.width || mask.height !== initImage.height) {
    throw err(
      `the mask is ${mask.width}x${mask.height} but the init image ${initImage.width}x${initImage.height}; ` +
        "they must be the same size",
      "mask",
    );
  }
  return { mask, ...inpaintSettings(r, err) };
}

/** The settings beside the mask, checked (the server checks them before the images are decoded). */
export function inpaintSettings(
  r: Omit<InpaintFields, "mask">,
  err: FieldError,
): Omit<ResolvedInpaint, "mask"> {
  // As A1111's mask_blur setter: a mask_blur given sets both sides.
  const blur = r.maskBlur === undefined ? undefined : whole(r.maskBlur, "maskBlur", 0, 64, err);
  if (r.inpaintFullRes !== undefined && typeof r.inpaintFullRes !== "boolean") {
    throw err(`inpaintFullRes must be true or false, got ${r.inpaintFullRes}`, "inpaintFullRes");
  }
  const blurX = blur ?? whole(r.maskBlurX ?? 4, "maskBlurX", 0, 64, err);
  const blurY = blur ?? whole(r.maskBlurY ?? 4, "maskBlurY", 0, 64, err);
  const fill: MaskedContent = whole(r.inpaintingFill ?? MaskedContent.Fill, "inpaintingFill", 0, 3, err);
  const fullRes = r.inpaintFullRes ?? true;
  const padding = whole(r.inpaintFullResPadding ?? 0, "inpaintFullResPadding", 0, 4096, err);
  const invert = whole(r.inpaintingMaskInvert ?? 0, "inpaintingMaskInvert", 0, 1, err) === 1;
  const settings = { blurX, blurY, fill, fullRes, padding, invert };
  return { ...settings, params: inpaintParams(settings) };
}

/** The infotext fields A1111 writes for inpainting settings, in its order (none that are off). */
export function inpaintParams(
  o: Pick<ResolvedInpaint, "blurX" | "blurY" | "fill" | "fullRes" | "padding" | "invert">,
): [string, ParamValue][] {
  return [
    ["Mask mode", o.invert ? "Inpaint not masked" : undefined],
    ["Mask blur", (o.blurX > 0 || o.blurY > 0) && o.blurX === o.blurY ? o.blurX : undefined],
    ["Inpaint area", o.fullRes ? "Only masked" : undefined],
    ["Masked area padding", o.fullRes ? o.padding : undefined],
    ["Masked content", o.fill !== MaskedContent.Original ? CONTENT_NAMES[o.fill] : undefined],
  ];
}

// The hires fix's request fields (A1111's enable_hr / hr_* names), checked into what the second pass runs
// with, and the infotext fields A1111 writes for them.
import type { ParamValue } from "../../io/infotext.ts";
import { type HiresTarget, hiresTarget } from "./target.ts";
import { DEFAULT_UPSCALER, type Upscaler, UPSCALERS } from "./upscalers.ts";

/** The request's hires fields; A1111's txt2img API names in camelCase. */
export interface HiresFields {
  /** Runs the hires fix (txt2img only). Default false. */
  enableHr?: boolean;
  /** Upscale factor when hrResizeX/Y are 0. Default 2. */
  hrScale?: number;
  /** An upscaler of UPSCALERS ("Latent", "Latent (bicubic antialiased)", "Lanczos", "None", …). Default "Latent". */
  hrUpscaler?: string;
  /** The second pass's sampling steps; 0 (default) uses the first pass's. */
  hrSecondPassSteps?: number;
  /** Target width/height; 0 (default) leaves the side to hrScale or the aspect ratio. */
  hrResizeX?: number;
  hrResizeY?: number;
  /** The second pass's sampler and schedule type; default the first pass's. */
  hrSamplerName?: string;
  hrScheduler?: string;
  /** The second pass's prompts; "" (default) uses the first pass's. */
  hrPrompt?: string;
  hrNegativePrompt?: string;
}

export interface ResolvedHires {
  target: HiresTarget;
  upscalerName: string;
  upscaler: Upscaler;
  /** Steps of the second pass's schedule (hrSecondPassSteps, or the first pass's steps). */
  steps: number;
  sampler: string;
  scheduler?: string;
  prompt: string;
  negativePrompt: string;
  /** The infotext fields, in A1111's order (after the standard ones and the extensions'). */
  params: [string, ParamValue][];
}

type FieldError = (message: string, field: string) => Error;

function wholeAtLeast(v: number, field: string, min: number, max: number, err: FieldError): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw err(`${field} must be a whole number from ${min} to ${max}, got ${v}`, field);
  }
  return v;
}

/** Checks the hires fields of a txt2img request (width × height, `steps` steps) and derives the second pass. */
export function resolveHires(
  r: HiresFields & {
    prompt: string;
    negativePrompt: string;
    sampler: string;
    scheduler?: string;
    steps: number;
    width: number;
    height: number;
  },
  err: FieldError,
): ResolvedHires | undefined {
  if (r.enableHr === undefined || r.enableHr === false) return undefined;
  if (r.enableHr !== true) throw err(`enableHr must be true or false, got ${r.enableHr}`, "enableHr");
  const scale = r.hrScale ?? 2;
  if (typeof scale !== "number" || !(scale >= 1 && scale <= 8)) {
    throw err(`hrScale must be a number from 1 to 8, got ${r.hrScale}`, "hrScale");
  }
  const resizeX = wholeAtLeast(r.hrResizeX ?? 0, "hrResizeX", 0, 16384, err);
  const resizeY = wholeAtLeast(r.hrResizeY ?? 0, "hrResizeY", 0, 16384, err);
  const upscalerName = r.hrUpscaler ?? DEFAULT_UPSCALER;
  const upscaler = Object.hasOwn(UPSCALERS, upscalerName) ? UPSCALERS[upscalerName] : undefined;
  if (!upscaler) {
    throw err(
      `hrUpscaler ${JSON.stringify(upscalerName)} is not an upscaler; use one of ${
        Object.keys(UPSCALERS).join(", ")
      }`,
      "hrUpscaler",
    );
  }
  const target = hiresTarget(r.width, r.height, scale, resizeX, resizeY);
  const field = resizeX || resizeY ? (resizeX ? "hrResizeX" : "hrResizeY") : "hrScale";
  for (const side of [target.upscaleWidth, target.upscaleHeight, target.width, target.height]) {
    if (side % 8 !== 0 || side < 8 || side > 16384) {
      throw err(
        `the hires fix would upscale ${r.width}x${r.height} to ${target.upscaleWidth}x${target.upscaleHeight}` +
          ` (final ${target.width}x${target.height}); each side must be a multiple of 8 from 8 to 16384`,
        field,
      );
    }
  }
  const secondSteps = wholeAtLeast(r.hrSecondPassSteps ?? 0, "hrSecondPassSteps", 0, 10000, err);
  for (const k of ["hrSamplerName", "hrScheduler", "hrPrompt", "hrNegativePrompt"] as const) {
    if (r[k] !== undefined && typeof r[k] !== "string") throw err(`${k} must be text`, k);
  }
  const sampler = r.hrSamplerName || r.sampler;
  const scheduler = r.hrScheduler || r.scheduler;
  const prompt = r.hrPrompt || r.prompt;
  const negativePrompt = r.hrNegativePrompt || r.negativePrompt;
  return {
    target,
    upscalerName,
    upscaler,
    steps: secondSteps || r.steps,
    sampler,
    scheduler,
    prompt,
    negativePrompt,
    params: [
      ["Hires sampler", sampler !== r.sampler ? sampler : undefined],
      ["Hires schedule type", scheduler !== r.scheduler ? scheduler : undefined],
      ["Hires prompt", prompt !== r.prompt ? prompt : undefined],
      ["Hires negative prompt", negativePrompt !== r.negativePrompt ? negativePrompt : undefined],
      ["Hires upscale", resizeX || resizeY ? undefined : scale],
      ["Hires resize", resizeX || resizeY ? `${resizeX}x${resizeY}` : undefined],
      ["Hires steps", secondSteps || undefined],
      ["Hires upscaler", r.hrUpscaler !== undefined ? upscalerName : undefined],
    ],
  };
}

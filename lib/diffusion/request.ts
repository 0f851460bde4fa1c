// What one generation asks for, with A1111's names and meanings, and the checks that turn bad values into one
// sentence naming the field before any model runs.
import type { RgbImage } from "../io/image.ts";
import type { ParamValue } from "../io/infotext.ts";
import { InputError } from "../io/input_error.ts";
import { rngParam, variationParams } from "./noise_infotext.ts";
import { isRngSource, RNG_SOURCES, type RngSource } from "./noise_source.ts";
import { findSchedule, resolveSampling, type SamplingChoice } from "./samplers/catalog.ts";
import type { SamplerSettings } from "./samplers/types.ts";
import { createScheduler } from "./schedulers/index.ts";
import { type HiresFields, type ResolvedHires, resolveHires } from "./hires/options.ts";
import { type InpaintFields, type ResolvedInpaint, resolveInpaint } from "./inpaint/options.ts";

export interface GenerationRequest extends HiresFields, InpaintFields {
  prompt: string;
  /** Default "". */
  negativePrompt?: string;
  /**
   * An A1111 sampler name or alias ("Euler a", "DPM++ 2M", "k_lms", "DPM++ 2M Karras", …; see
   * lib/diffusion/samplers/catalog.ts) or a diffusers scheduler class name.
   */
  sampler: string;
  /**
   * A1111's schedule type ("Automatic", "Karras", "Exponential", …, or its internal name "karras"). When it is
   * given, or the sampler is not one of the diffusers-backed names (PLMS, DDIM, Euler, Euler a, LMS, DPM++ 2M,
   * DPM++ 2M Karras and the diffusers class names), A1111's samplers run (lib/diffusion/samplers): k-diffusion
   * as A1111 1.10 runs it. Without it those names keep their diffusers schedulers.
   */
  scheduler?: string;
  /** Sampling steps, ≥ 1 (img2img runs about steps × denoisingStrength of them). */
  steps: number;
  /** Classifier-free guidance scale; ≤ 1 runs the prompt alone, as diffusers does. */
  cfgScale: number;
  /** Multiples of 8. */
  width: number;
  height: number;
  /**
   * Image k of the job (counting across batches) uses seed + k, as in A1111; with a variation strength other
   * than 0 every image uses `seed` and image k uses subseed + k instead.
   */
  seed: number;
  /** Where the noise comes from (noise_source.ts): "CPU" (default), "GPU" or "NV" (CUDA's Philox stream). */
  rngSource?: RngSource;
  /**
   * A1111's "Eta noise seed delta" (ENSD, option eta_noise_seed_delta): when not 0 (the default), the noise a
   * sampler draws after the starting noise comes from a generator seeded with the image's seed + this.
   */
  etaNoiseSeedDelta?: number;
  /** A1111's variation seed and strength in [0, 1] (0, the default, turns it off). */
  subseed?: number;
  subseedStrength?: number;
  /** A1111's "Resize seed from width/height": noise drawn for this size, pasted centred; ≤ 0 is off. */
  seedResizeFromW?: number;
  seedResizeFromH?: number;
  /** Images denoised together in one UNet batch; default 1. */
  batchSize?: number;
  /** Batches run one after another; default 1. */
  batchCount?: number;
  /**
   * Eta: DDIM's (0 = deterministic, the default) and, with A1111's samplers, the ancestral and DPM-Solver ones'
   * (default 1). Samplers without eta ignore it.
   */
  eta?: number;
  /** A1111's s_churn, s_tmin, s_tmax (0 = no limit) and s_noise, for the A1111 samplers that take them. */
  sChurn?: number;
  sTmin?: number;
  sTmax?: number;
  sNoise?: number;
  /** A1111's "Clip skip": 1 (last layer) or 2 (penultimate layer through the final norm). Default 1. */
  clipSkip?: number;
  /** img2img: the source image, resized to width × height (Lanczos, A1111's "Just resize"). */
  initImage?: RgbImage;
  /** img2img: how much of the schedule is re-run, in (0, 1]. Default 0.75. */
  denoisingStrength?: number;
  /**
   * Runs the VAE decoder and encoder in tiles (vae_tiling.ts) on images larger than one tile, so their memory
   * stays that of a tile; the results differ slightly from the whole-image VAE's. Default false. The server
   * sets it when the whole-image VAE would not fit its memory budget.
   */
  tiledVae?: boolean;
  /**
   * A1111's refiner_checkpoint: the SDXL refiner that takes over at refinerSwitchAt (its name and short hash as
   * the infotext shows them, "name [hash]"). The caller opens it and passes it to generate() (hooks.refiner).
   */
  refinerCheckpoint?: string;
  /** The fraction of the schedule the base model runs before the refiner takes over, in (0, 1]. Default 0.8. */
  refinerSwitchAt?: number;
}

/** A request that cannot run; the message names the field and what is accepted. */
export class RequestError extends InputError {
  constructor(message: string, readonly field: string) {
    super(message, field);
    this.name = "RequestError";
  }
}

type SamplingFields = "scheduler" | "sChurn" | "sTmin" | "sTmax" | "sNoise";

export interface Sampling {
  choice: SamplingChoice;
  settings: Partial<SamplerSettings>;
}

export interface ResolvedRequest extends
  Required<
    Omit<
      GenerationRequest,
      | "initImage"
      | SamplingFields
      | keyof HiresFields
      | keyof InpaintFields
      | "refinerCheckpoint"
      | "refinerSwitchAt"
    >
  > {
  initImage?: RgbImage;
  /** Set when A1111's samplers run the request; undefined: the diffusers scheduler named by `sampler`. */
  sampling?: Sampling;
  /** Inpainting (img2img with a mask); it always runs A1111's samplers, whose model calls the mask blends. */
  inpaint?: ResolvedInpaint;
  /** The hires fix's second pass (txt2img with enableHr), with its own sampler choice. */
  hires?: ResolvedHires & { sampling?: Sampling };
  /** The SDXL refiner's label and switch point, when one takes over. */
  refiner?: { label: string; switchAt: number };
}

function wholeNumber(v: number, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RequestError(`${field} must be a whole number from ${min} to ${max}, got ${v}`, field);
  }
  return v;
}

/** A seed-resize side: ≤ 0 (A1111 sends −1) is off, else a whole number of pixels from 8 to 16384. */
function seedResize(v: number | undefined, field: string): number {
  if (v === undefined) return 0;
  if (Number.isInteger(v) && v <= 0) return 0;
  if (!Number.isInteger(v) || v < 8 || v > 16384) {
    throw new RequestError(
      `${field} must be a whole number from 8 to 16384, or 0 or −1 (off), got ${v}`,
      field,
    );
  }
  return v;
}

/** Fills in defaults and checks every field; the sampler name is checked by building a scheduler. */
export function resolveRequest(r: GenerationRequest, latentMultiple = 8): ResolvedRequest {
  const size = (v: number, field: string) => {
    if (!Number.isInteger(v) || v <= 0 || v % latentMultiple !== 0) {
      throw new RequestError(`${field} must be a positive multiple of ${latentMultiple}, got ${v}`, field);
    }
    return v;
  };
  const out: ResolvedRequest = {
    prompt: r.prompt,
    negativePrompt: r.negativePrompt ?? "",
    sampler: r.sampler,
    steps: wholeNumber(r.steps, "steps", 1, 10000),
    cfgScale: r.cfgScale,
    width: size(r.width, "width"),
    height: size(r.height, "height"),
    seed: wholeNumber(r.seed, "seed", 0),
    rngSource: r.rngSource ?? "CPU",
    etaNoiseSeedDelta: wholeNumber(r.etaNoiseSeedDelta ?? 0, "etaNoiseSeedDelta", -(2 ** 52), 2 ** 52),
    subseed: wholeNumber(r.subseed ?? 0, "subseed", 0),
    subseedStrength: r.subseedStrength ?? 0,
    seedResizeFromW: seedResize(r.seedResizeFromW, "seedResizeFromW"),
    seedResizeFromH: seedResize(r.seedResizeFromH, "seedResizeFromH"),
    batchSize: wholeNumber(r.batchSize ?? 1, "batch size", 1, 64),
    batchCount: wholeNumber(r.batchCount ?? 1, "batch count", 1, 10000),
    eta: r.eta ?? 0,
    clipSkip: r.clipSkip ?? 1,
    denoisingStrength: r.denoisingStrength ?? 0.75,
    tiledVae: r.tiledVae ?? false,
    initImage: r.initImage,
  };
  if (!isRngSource(out.rngSource)) {
    throw new RequestError(
      `rngSource must be one of ${RNG_SOURCES.join(", ")}, got ${JSON.stringify(r.rngSource)}`,
      "rngSource",
    );
  }
  if (!(out.subseedStrength >= 0 && out.subseedStrength <= 1)) {
    throw new RequestError(
      `subseedStrength must be a number from 0 to 1, got ${r.subseedStrength}`,
      "subseedStrength",
    );
  }
  if (typeof out.prompt !== "string") throw new RequestError("prompt must be text", "prompt");
  if (!Number.isFinite(out.cfgScale)) {
    throw new RequestError(`CFG scale must be a number, got ${r.cfgScale}`, "cfgScale");
  }
  if (!(out.eta >= 0 && Number.isFinite(out.eta))) {
    throw new RequestError(`eta must be a number ≥ 0, got ${r.eta}`, "eta");
  }
  if (out.clipSkip !== 1 && out.clipSkip !== 2) {
    throw new RequestError(`Clip skip must be 1 or 2, got ${r.clipSkip}`, "clipSkip");
  }
  if ((out.initImage || r.enableHr) && !(out.denoisingStrength >= 0 && out.denoisingStrength <= 1)) {
    throw new RequestError(
      `denoising strength must be a number from 0 to 1, got ${r.denoisingStrength}`,
      "denoisingStrength",
    );
  }
  out.inpaint = resolveInpaint(r, (message, field) => new RequestError(message, field));
  out.sampling = resolveSampler(out.inpaint ? { ...r, scheduler: r.scheduler ?? "Automatic" } : r);
  out.hires = resolveHiresPass(r, out);
  out.refiner = resolveRefiner(r, out);
  // A1111's samplers run a strength of 0 as A1111 does (t_enc = 0: one step at the smallest sigma, A1111's
  // API default for the hires pass); diffusers' schedulers would run no step at all.
  const secondPass = r.enableHr ? out.hires?.sampling : out.sampling;
  if ((out.initImage || r.enableHr) && out.denoisingStrength === 0 && !secondPass) {
    throw new RequestError(
      "denoising strength 0 runs no step with this sampler; use above 0, or an A1111 schedule type",
      "denoisingStrength",
    );
  }
  return out;
}

/** The refiner fields: a name, and a switch point in (0, 1]; not with the hires fix or inpainting here. */
function resolveRefiner(r: GenerationRequest, out: ResolvedRequest): ResolvedRequest["refiner"] {
  const label = r.refinerCheckpoint;
  if (label === undefined || label === "") return undefined;
  if (typeof label !== "string") {
    throw new RequestError("refinerCheckpoint must be text", "refinerCheckpoint");
  }
  const switchAt = r.refinerSwitchAt ?? 0.8;
  if (typeof switchAt !== "number" || !(switchAt > 0 && switchAt <= 1)) {
    throw new RequestError(
      `refinerSwitchAt must be a number above 0 and at most 1, got ${r.refinerSwitchAt}`,
      "refinerSwitchAt",
    );
  }
  if (out.hires) {
    throw new RequestError("the refiner with the hires fix is not offered here", "refinerCheckpoint");
  }
  if (out.inpaint) {
    throw new RequestError("the refiner with inpainting is not offered here", "refinerCheckpoint");
  }
  return { label, switchAt };
}

function resolveHiresPass(r: GenerationRequest, out: ResolvedRequest): ResolvedRequest["hires"] {
  const hires = resolveHires(
    { ...r, ...out, scheduler: r.scheduler },
    (message, field) => new RequestError(message, field),
  );
  if (!hires) return undefined;
  if (out.initImage) {
    throw new RequestError("the hires fix (enableHr) is for txt2img, not img2img", "enableHr");
  }
  try {
    return {
      ...hires,
      sampling: resolveSampler({ ...r, sampler: hires.sampler, scheduler: hires.scheduler }),
    };
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    throw new RequestError(e.message, e.field === "scheduler" ? "hrScheduler" : "hrSamplerName");
  }
}

/** The second pass of the hires fix as a request of its own: its sampler, steps and size. */
export function hiresPassRequest(r: ResolvedRequest): ResolvedRequest {
  const h = r.hires;
  if (!h) throw new Error("hiresPassRequest needs a request with the hires fix");
  return {
    ...r,
    sampler: h.sampler,
    sampling: h.sampling,
    steps: h.steps,
    width: h.target.width,
    height: h.target.height,
    hires: undefined,
    inpaint: undefined,
  };
}

function optionalNumber(v: number | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !(v >= 0) || Number.isNaN(v)) {
    throw new RequestError(`${field} must be a number ≥ 0, got ${v}`, field);
  }
  return v;
}

/** Which samplers run the request: undefined for the diffusers schedulers, else A1111's choice and options. */
function resolveSampler(r: GenerationRequest): ResolvedRequest["sampling"] {
  if (typeof r.sampler !== "string") throw new RequestError("sampler must be text", "sampler");
  if (r.scheduler === undefined) {
    try {
      createScheduler(r.sampler);
      return undefined;
    } catch {
      // not a diffusers-backed name: A1111's samplers, if they know it
    }
  } else {
    if (typeof r.scheduler !== "string") throw new RequestError("scheduler must be text", "scheduler");
    try {
      findSchedule(r.scheduler);
    } catch (e) {
      throw new RequestError((e as Error).message, "scheduler");
    }
  }
  let choice: SamplingChoice;
  try {
    choice = resolveSampling(r.sampler, r.scheduler);
  } catch (e) {
    throw new RequestError((e as Error).message, "sampler");
  }
  const sTmax = optionalNumber(r.sTmax, "sTmax");
  return {
    choice,
    settings: {
      eta: r.eta,
      sChurn: optionalNumber(r.sChurn, "sChurn"),
      sTmin: optionalNumber(r.sTmin, "sTmin"),
      sTmax: sTmax === 0 ? Infinity : sTmax,
      sNoise: optionalNumber(r.sNoise, "sNoise"),
    },
  };
}

/** What the standard infotext fields say about the model, beside the request. */
export interface ModelLabel {
  name: string;
  /** A1111's short hash of the UNet weights. */
  hash?: string;
}

/**
 * A1111's standard infotext fields of one image, in its order; fields that do not apply (denoising strength
 * of a txt2img, Clip skip 1, the eta of a sampler without one, variation seeds that are off) are left out.
 */
export function generationParams(
  r: Omit<ResolvedRequest, "initImage"> & { initImage?: unknown },
  image: { seed: number; subseed: number },
  model: ModelLabel,
): [string, ParamValue][] {
  return [
    ["Steps", r.steps],
    ["Sampler", r.sampler],
    ["Schedule type", r.sampling?.choice.schedule?.label],
    ["CFG scale", r.cfgScale],
    ["Seed", image.seed],
    ["Size", `${r.width}x${r.height}`],
    ["Model hash", model.hash],
    ["Model", model.name],
    ...variationParams(r, image.subseed),
    ["Denoising strength", r.initImage || r.hires ? r.denoisingStrength : undefined],
    ["Clip skip", r.clipSkip > 1 ? r.clipSkip : undefined],
    ["ENSD", usesEnsd(r) ? r.etaNoiseSeedDelta : undefined],
    ...rngParam(r),
    ["Eta DDIM", r.sampler.toUpperCase().startsWith("DDIM") && r.eta !== 0 ? r.eta : undefined],
  ];
}

/**
 * A1111's is_sampler_using_eta_noise_seed_delta, which decides whether the infotext names the ENSD: an ENSD is
 * set, the sampler is one A1111 marks as drawing noise with it (its uses_ensd option: the ancestral samplers,
 * DPM fast and adaptive; not the SDE ones, whose Brownian noise is seeded by the seeds) and its eta is not 0.
 * The stream is swapped whatever the sampler, as in A1111.
 */
export function usesEnsd(
  r: Pick<ResolvedRequest, "etaNoiseSeedDelta" | "sampler" | "sampling" | "eta">,
): boolean {
  if (r.etaNoiseSeedDelta === 0) return false;
  let sampler = r.sampling?.choice.sampler;
  if (!sampler) {
    try {
      sampler = resolveSampling(r.sampler, undefined).sampler;
    } catch {
      return false; // a diffusers class name: not one of A1111's samplers
    }
  }
  // The diffusers path's Euler a ignores eta (always 1); A1111's samplers take the request's or their default.
  const eta = r.sampling ? r.sampling.settings.eta ?? sampler.etaDefault : sampler.etaDefault;
  return eta !== 0 && sampler.a1111Options?.uses_ensd === true;
}

/**
 * The fields A1111 keeps in extra_generation_params for the request's own features (inpainting, the hires
 * fix, the refiner), written after the standard fields and the extensions' ones. The refiner's only for an
 * image it `refined` (A1111 adds them when apply_refiner switches).
 */
export function featureParams(
  r: Pick<ResolvedRequest, "hires" | "inpaint" | "refiner">,
  refined = false,
): [string, ParamValue][] {
  const refiner: [string, ParamValue][] = r.refiner && refined
    ? [["Refiner", r.refiner.label], ["Refiner switch at", r.refiner.switchAt]]
    : [];
  return [...(r.inpaint?.params ?? []), ...(r.hires?.params ?? []), ...refiner];
}

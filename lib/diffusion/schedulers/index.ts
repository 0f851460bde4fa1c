// Samplers by the names users know them by: AUTOMATIC1111's sampler names and diffusers' class names.
import { DDIMScheduler } from "./ddim.ts";
import { DPMSolverMultistepScheduler } from "./dpmpp_2m.ts";
import { EulerDiscreteScheduler } from "./euler.ts";
import { EulerAncestralDiscreteScheduler } from "./euler_ancestral.ts";
import { LMSDiscreteScheduler } from "./lms.ts";
import { PNDMScheduler } from "./pndm.ts";
import type { ConfigInput, Scheduler } from "./scheduler.ts";

export type { ConfigInput, PredictionType, Scheduler } from "./scheduler.ts";
export {
  DDIMScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  LMSDiscreteScheduler,
  PNDMScheduler,
};

export interface CreateOptions {
  /** DDIM's eta (noise per step); ignored by the other samplers. */
  eta?: number;
}

interface Entry {
  make: (config: ConfigInput, overrides: ConfigInput, options: CreateOptions) => Scheduler;
  /** Config the sampler name implies, applied under the caller's overrides. */
  implied: ConfigInput;
}

const pndm = (config: ConfigInput, overrides: ConfigInput) => new PNDMScheduler(config, overrides);
const ddim = (config: ConfigInput, overrides: ConfigInput, o: CreateOptions) =>
  new DDIMScheduler(config, overrides, { eta: o.eta });
const euler = (config: ConfigInput, overrides: ConfigInput) => new EulerDiscreteScheduler(config, overrides);
const eulerA = (config: ConfigInput, overrides: ConfigInput) =>
  new EulerAncestralDiscreteScheduler(config, overrides);
const lms = (config: ConfigInput, overrides: ConfigInput) => new LMSDiscreteScheduler(config, overrides);
const dpm = (config: ConfigInput, overrides: ConfigInput) =>
  new DPMSolverMultistepScheduler(config, overrides);

const DPMPP_2M = { algorithm_type: "dpmsolver++", solver_order: 2 };

/** A1111 sampler names, then diffusers class names. */
const REGISTRY: Readonly<Record<string, Entry>> = {
  "PLMS": { make: pndm, implied: { skip_prk_steps: true } },
  "PNDM": { make: pndm, implied: {} },
  "DDIM": { make: ddim, implied: {} },
  "Euler": { make: euler, implied: { use_karras_sigmas: false } },
  "Euler a": { make: eulerA, implied: {} },
  "LMS": { make: lms, implied: { use_karras_sigmas: false } },
  "DPM++ 2M": { make: dpm, implied: { ...DPMPP_2M, use_karras_sigmas: false } },
  "DPM++ 2M Karras": { make: dpm, implied: { ...DPMPP_2M, use_karras_sigmas: true } },
  "PNDMScheduler": { make: pndm, implied: {} },
  "DDIMScheduler": { make: ddim, implied: {} },
  "EulerDiscreteScheduler": { make: euler, implied: {} },
  "EulerAncestralDiscreteScheduler": { make: eulerA, implied: {} },
  "LMSDiscreteScheduler": { make: lms, implied: {} },
  "DPMSolverMultistepScheduler": { make: dpm, implied: {} },
};

/** Every name createScheduler accepts, A1111 names first. */
export const SCHEDULER_NAMES: readonly string[] = Object.keys(REGISTRY);

/** The A1111 sampler names (what the UI lists). */
export const SAMPLER_NAMES: readonly string[] = SCHEDULER_NAMES.filter((n) => !n.endsWith("Scheduler"));

/**
 * A scheduler by A1111 sampler name or diffusers class name (case-insensitive), built from a model's
 * scheduler_config.json with the name's implied settings and then `overrides` on top.
 */
export function createScheduler(
  name: string,
  config: ConfigInput = {},
  overrides: ConfigInput = {},
  options: CreateOptions = {},
): Scheduler {
  const key = name in REGISTRY
    ? name
    : SCHEDULER_NAMES.find((n) => n.toLowerCase() === name.trim().toLowerCase());
  if (key === undefined) {
    throw new Error(`unknown sampler "${name}"; known: ${SCHEDULER_NAMES.join(", ")}`);
  }
  const entry = REGISTRY[key];
  return entry.make(config, { ...entry.implied, ...overrides }, options);
}

// The contract between the WebUI service and the diffusion pipeline: render one job's batches with the
// conditioning hooks extensions set, reporting steps and previews to the GenerationState and stopping when it
// says interrupt (the whole job) or skip (the current image).
import type { ModelEntry } from "../models/inspect.ts";
import type { ConditioningHook, JobRequest, Mode } from "../extensions/job.ts";
import type { GenerationState } from "./progress.ts";
import type { Device } from "../onnx/session.ts";

export interface RenderInput {
  mode: Mode;
  /** The request with its seed resolved (never -1) and its Clip skip set. */
  request: JobRequest;
  model: ModelEntry;
  /** The SDXL refiner the request's refinerCheckpoint names (its label already "name [hash]"). */
  refiner?: ModelEntry;
  conditioningHooks: ConditioningHook[];
  state: GenerationState;
  threads?: number;
  /** Give the model's memory back after this job (a large one): its sessions close and reopen on the next. */
  releaseMemory?: boolean;
  /** The execution provider (checked usable by the caller; the CPU when absent). */
  device?: Device;
}

export interface RenderedImage {
  /** Encoded PNG, without text chunks (the service adds the infotext). */
  png: Uint8Array;
  seed: number;
  /** The variation seed it used (meaningful when the request's subseedStrength is not 0). */
  subseed: number;
  /** The refiner took over for part of its schedule. */
  refined?: boolean;
}

export interface RenderOutput {
  images: RenderedImage[];
  /** Sampling stopped early because of interrupt. */
  interrupted: boolean;
  /** Sampling steps run for the last image. */
  stepsDone: number;
}

export type Renderer = (input: RenderInput) => Promise<RenderOutput>;

// One generation as extensions see it: the validated request, the loaded model, and the places an extension
// hooks into (conditioning), reports to (infotext fields, charts) or reads shared work from (an X/Y sweep).
import type { ConditioningHook } from "../clip/conditioning_hook.ts";
import type { GenerationRequest } from "../diffusion/request.ts";
import type { ParamValue } from "../io/infotext.ts";

/**
 * What a job's values name that another machine cannot read itself (an aesthetic embedding's vector), by the
 * name the values use; a job queued for a remote worker carries them (lib/queue).
 */
export type JobAttachments = Record<string, { shape: number[]; data: Float32Array }>;

export type Mode = "txt2img" | "img2img";

/**
 * The pipeline's request as a job carries it (lib/diffusion/request.ts, the one list of generation fields):
 * the img2img source still encoded (the render worker decodes it), the seed -1 for random, and the model by
 * name. The API maps its fields onto this once (routes/schemas.ts), and the render worker gets it whole.
 */
export type JobRequest =
  & Omit<GenerationRequest, "initImage" | "mask">
  & Required<Pick<GenerationRequest, "negativePrompt" | "batchSize" | "batchCount">>
  & {
    /** img2img only: the encoded source image. */
    initImage?: Uint8Array;
    /** Inpainting only: the encoded mask, the source's size. */
    mask?: Uint8Array;
    /** A model name from the registry; the default model when empty. */
    model: string;
  };

/** The pipeline's own hook type: extensions rewrite a prompt's conditioning on its way to the UNet. */
export type { ConditioningHook };

/** A numeric axis of an X/Y/Z plot: the job runs once per value, with the axis's field or control set to it. */
export interface Sweep {
  /** The axis's label, as an extension declares it ("Aesthetic steps"). */
  axis: string;
  values: number[];
}

/** A line chart shown beside the images (and returned in the API's info). */
export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: { label: string; values: number[] }[];
}

/** The model the job runs on, as far as extensions need it. */
export interface JobModel {
  name: string;
  dir: string;
  /**
   * The CLIP pair (transformers.js layout) that matches the checkpoint's (first) text encoder, if the models
   * folder has one (SDXL's second encoder needs none).
   */
  clipDir?: string;
}

export interface Job {
  readonly mode: Mode;
  readonly request: Readonly<JobRequest>;
  readonly model: JobModel;
  /** Applied in order to every prompt's conditioning. */
  readonly conditioningHooks: ConditioningHook[];
  /** Infotext fields added after the standard ones, in order. */
  readonly extraParams: [string, ParamValue][];
  readonly charts: Chart[];
  /** When an X/Y/Z plot runs the job once per value of its numeric axes: every value, so work can be shared. */
  readonly sweeps?: readonly Sweep[];
  /** Each extension's attachments by extension id, when the job came from another machine (lib/queue). */
  readonly attachments?: Readonly<Record<string, JobAttachments>>;
  /** A line for the progress display ("Aesthetic optimization…"). */
  status(text: string | null): void;
  /** Interrupt or skip was asked for: long work before sampling (an optimization) should stop. */
  stopRequested(): boolean;
}

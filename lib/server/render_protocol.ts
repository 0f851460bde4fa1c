// Messages between the WebUI's main thread and the render worker. The pipeline runs in the worker because
// onnxruntime-node blocks the thread it runs on: on the main thread, no progress, interrupt or skip request could
// be answered until a whole job was done.
import type { EncoderBlock } from "../clip/conditioning_hook.ts";
import type { GenerationRequest } from "../diffusion/request.ts";
import type { Mode } from "../extensions/job.ts";
import type { Device } from "../onnx/session.ts";

export interface RenderJob {
  type: "render";
  mode: Mode;
  modelDir: string;
  /** The SDXL refiner's folder, when the request has one. */
  refinerDir?: string;
  threads: number;
  device: Device;
  /** The pipeline's request, but for the img2img source and mask, which travel encoded (decoded in the worker). */
  request: Omit<GenerationRequest, "initImage" | "mask">;
  initImage?: Uint8Array;
  mask?: Uint8Array;
  /** How many conditioning hooks the main thread holds; the worker calls them by index. */
  hooks: number;
  /** Int32Array [interrupted, skipped], written by the main thread, read by the worker before every step. */
  control: SharedArrayBuffer;
  /**
   * Close the model's sessions after the job: onnxruntime-node's sessions keep their arenas' peak (the run
   * option that shrinks arenas is not passed on by its binding), and closing them is what gives it back.
   */
  releaseMemory: boolean;
}

export interface HookResult {
  type: "hook-result";
  id: number;
  z?: Float32Array;
  /** SDXL: the pooled vector when the hook rewrote it. */
  pooled?: Float32Array;
  error?: string;
}

export type ToWorker = RenderJob | HookResult;

export type FromWorker =
  | {
    type: "hook";
    id: number;
    index: number;
    z: Float32Array;
    chunkIds: Int32Array[];
    negative: boolean;
    /** SDXL's encoder blocks and pooled vector (PromptConditioning). */
    encoders?: EncoderBlock[];
    pooled?: Float32Array;
  }
  | { type: "batch-start" }
  | { type: "step"; step: number; steps: number }
  // Sent on its own when its PNG is encoded, so a slow encode never delivers a step after later ones.
  | { type: "preview"; preview: Uint8Array }
  | {
    type: "done";
    images: { png: Uint8Array; seed: number; subseed: number; refined: boolean }[];
    interrupted: boolean;
    stepsDone: number;
  }
  /** `loc` is set when the job's input was at fault (an InputError), so the caller can answer 422. */
  | { type: "error"; message: string; loc?: (string | number)[] };

export const INTERRUPTED = 0;
export const SKIPPED = 1;

// One place that opens onnxruntime sessions, so thread counts and providers are set the same everywhere.
import * as ort from "onnxruntime-node";

export type Device = "cpu" | "cuda" | "coreml" | "dml";

export interface SessionOptions {
  /** Intra-op threads; 0 lets onnxruntime choose (one per core). */
  threads?: number;
  device?: Device;
}

export type Session = ort.InferenceSession;
export const Tensor = ort.Tensor;
export type Tensor = ort.Tensor;

/** Opens a model from a path or from serialized bytes. */
export async function openSession(model: string | Uint8Array, opts: SessionOptions = {}): Promise<Session> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [opts.device ?? "cpu"],
    intraOpNumThreads: opts.threads ?? 0,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  };
  try {
    return typeof model === "string"
      ? await ort.InferenceSession.create(model, options)
      : await ort.InferenceSession.create(model, options);
  } catch (e) {
    const where = typeof model === "string" ? model : "an in-memory model";
    throw new Error(`onnxruntime could not load ${where}: ${(e as Error).message}`);
  }
}

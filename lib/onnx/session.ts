// One place that opens onnxruntime sessions, so thread counts and providers are set the same everywhere.
import * as ort from "onnxruntime-node";

export type Device = "cpu" | "cuda" | "coreml" | "dml";

export interface SessionOptions {
  /** Intra-op threads; 0 lets onnxruntime choose (one per core). */
  threads?: number;
  device?: Device;
  /**
   * When the requested device's provider cannot be used, open on the CPU instead and report it here (one
   * line). Without it, a failing provider is an error as before.
   */
  onFallback?: (message: string) => void;
}

export type Session = ort.InferenceSession;

/** What running a graph needs of a session: onnxruntime-node's, or ffi_session.ts's over the C API. */
export interface RunSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(
    feeds: Record<string, ort.Tensor>,
    fetches: readonly string[] | Record<string, ort.Tensor | null>,
  ): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}
export const Tensor = ort.Tensor;
export type Tensor = ort.Tensor;

/**
 * Opens a model from a path or from serialized bytes. Bytes whose initializers live in external data files
 * (models over 2 GB) need `dataDir`, the folder those files' relative locations start from (the model's own).
 */
export async function openSession(
  model: string | Uint8Array,
  opts: SessionOptions = {},
  dataDir?: string,
): Promise<Session> {
  const session: Record<string, unknown> = { intra_op: { allow_spinning: "0" } };
  if (dataDir !== undefined) session.model_external_initializers_file_folder_path = dataDir;
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [opts.device ?? "cpu"],
    intraOpNumThreads: opts.threads ?? 0,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    // Each session has its own thread pool, and idle pools spin by default: with several sessions taking turns
    // (the gradient graph and the Adam kernel, the text encoder and the UNet), spinning pools take the cores
    // from the one that is working.
    extra: { session },
  };
  const create = (o: ort.InferenceSession.SessionOptions) =>
    typeof model === "string" ? ort.InferenceSession.create(model, o) : ort.InferenceSession.create(model, o);
  const where = typeof model === "string" ? model : "an in-memory model";
  try {
    return await create(options);
  } catch (e) {
    const device = opts.device ?? "cpu";
    if (device === "cpu" || !opts.onFallback) {
      throw new Error(`onnxruntime could not load ${where}: ${(e as Error).message}`);
    }
    // Opening on the CPU tells a broken provider apart from a broken model: only the former falls back.
    const session = await create({ ...options, executionProviders: ["cpu"] }).catch((e2) => {
      throw new Error(`onnxruntime could not load ${where}: ${(e2 as Error).message}`);
    });
    const reason = (e as Error).message.split("\n")[0].trim();
    opts.onFallback(`${device} is not available (${reason}); running on the CPU instead`);
    return session;
  }
}

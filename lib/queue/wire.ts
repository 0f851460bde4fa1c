// What travels through Redis between the web server and the queue workers: a job (the checked request, the
// extensions' values by id and the vectors they name), its progress, and its result. BullMQ stores job data and
// return values as JSON, so bytes travel as base64. Names of queues, keys and the control channel live here too.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { JobAttachments, Values } from "../extensions/adapter.ts";
import type { JobRequest, Mode } from "../extensions/job.ts";
import type { Plot } from "../server/xyz_plot.ts";
import type { GenerationInput, GenerationOutput } from "../server/service.ts";
import type { ProgressState } from "../server/progress.ts";
import type { Progress } from "../embed/make_embedding.ts";
import type { EmbedFiles, MadeEmbedding, SkippedFile } from "../server/embedding_maker.ts";

export interface WireJob {
  mode: Mode;
  /** The model's name; the job waits in that model's queue. */
  model: string;
  /** The request with its seeds fixed (never -1), so a retried job makes the same images; bytes as base64. */
  request: Omit<JobRequest, "initImage" | "mask"> & { initImage?: string; mask?: string };
  /** Each always-on extension's id and values, in order. */
  scripts: [string, Values][];
  /** The checked X/Y/Z plot (its values as checked, seeds drawn). */
  plot?: Plot;
  grid?: boolean;
  /** By extension id, then by the name the values use: the vector as base64 float32. */
  attachments: Record<string, Record<string, { shape: number[]; data: string }>>;
}

/**
 * A generation's output: PNGs as base64, or (a worker with --results s3://…) empty, the PNGs being in the bucket
 * under `imageUrls` (s3://bucket/key), so Redis carries keys only.
 */
export type WireOutput = Omit<GenerationOutput, "model" | "queueId" | "images"> & {
  images: string[];
  imageUrls?: string[];
};

/** A finished job: its output, or the input problem the worker found (the API answers 422 for it). */
export type WireResult =
  & ({ output: WireOutput } | { inputError: { message: string; loc: (string | number)[] } })
  & { /** "host:pid" of the worker that ran it. */ worker: string };

/** The job progress a worker reports (BullMQ job progress): its state, and the preview when it changed. */
export interface WireProgress {
  /** "host:pid" of the worker running it. */
  worker: string;
  state: ProgressState;
  textinfo: string | null;
  preview?: string;
}

/** The BullMQ job names: a generation, or an aesthetic embedding of the images the job carries. */
export const GENERATE = "generate";
export const EMBED = "embed";

/**
 * An embedding job: made with the CLIP pair the worker matches with `model`; each file's bytes as base64, or
 * (a server with --results s3://…) the s3:// URL the server put them at.
 */
export interface WireEmbedJob {
  model: string;
  files: { name: string; data?: string; url?: string }[];
  batchSize: number;
  label: string;
}

/** A made embedding, its vector as base64 float32. */
export type WireMade = Omit<MadeEmbedding, "embedding"> & { embedding: string };

export type WireEmbedResult =
  & (
    | { made: WireMade }
    | { failure: { message: string; skipped: SkippedFile[] } }
  )
  & { worker: string };

export interface WireEmbedProgress {
  worker: string;
  embed: Progress;
}

/** A stop for one job, published on CONTROL_CHANNEL. */
export interface ControlMessage {
  queue: string;
  job: string;
  action: "interrupt" | "skip";
}

export const CONTROL_CHANNEL = "ag:control";
/** Each worker's announcement (a key with a short TTL it keeps renewing): which models it holds. */
export const WORKER_KEY_PREFIX = "ag:worker:";
export const WORKER_TTL_SECONDS = 15;

export interface WorkerAnnouncement {
  id: string;
  models: string[];
  concurrency: number;
  /** The execution provider it renders on (after any fallback to the CPU). */
  device: string;
}

/** An interrupt that arrived before a worker took the job: the worker starts it stopped. */
export function cancelKey(queue: string, job: string): string {
  return `ag:cancel:${queue}:${job}`;
}

/** One BullMQ queue per model (BullMQ has no per-worker job filter): workers listen on their models' queues. */
export function queueName(model: string): string {
  const safe = model.replace(/[^\w.-]/g, "_").slice(0, 40);
  return `gen-${safe}-${createHash("sha256").update(model).digest("hex").slice(0, 8)}`;
}

const b64 = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

export function encodeJob(
  input: GenerationInput,
  model: string,
  attachments: Record<string, JobAttachments>,
): WireJob {
  const { initImage, mask, ...request } = input.request;
  return {
    mode: input.mode,
    model,
    request: {
      ...request,
      ...(initImage ? { initImage: b64(initImage) } : {}),
      ...(mask ? { mask: b64(mask) } : {}),
    },
    scripts: input.scripts.map(([ext, values]) => [ext.id, values]),
    plot: input.plot,
    grid: input.grid,
    attachments: Object.fromEntries(
      Object.entries(attachments).map(([ext, named]) => [
        ext,
        Object.fromEntries(
          Object.entries(named).map((
            [name, v],
          ) => [name, {
            shape: v.shape,
            data: b64(new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength)),
          }]),
        ),
      ]),
    ),
  };
}

/** The job's request and attachments as the service runs them (extensions are looked up by the caller). */
export function decodeJob(
  job: WireJob,
): Pick<GenerationInput, "mode" | "request" | "plot" | "grid" | "attachments"> {
  const { initImage, mask, ...request } = job.request;
  return {
    mode: job.mode,
    request: {
      ...request,
      ...(initImage ? { initImage: unb64(initImage) } : {}),
      ...(mask ? { mask: unb64(mask) } : {}),
    },
    plot: job.plot,
    grid: job.grid,
    attachments: Object.fromEntries(
      Object.entries(job.attachments).map(([ext, named]) => [
        ext,
        Object.fromEntries(
          Object.entries(named).map(([name, v]) => {
            const bytes = unb64(v.data);
            return [name, { shape: v.shape, data: new Float32Array(bytes.buffer, 0, bytes.byteLength / 4) }];
          }),
        ),
      ]),
    ),
  };
}

/** `urls`: where each file already is (a bucket), so the job carries those instead of the bytes. */
export function encodeEmbedJob(model: string, job: EmbedFiles, urls?: string[]): WireEmbedJob {
  const files = job.files.map((f, i) =>
    urls ? { name: f.name, url: urls[i] } : { name: f.name, data: b64(f.data) }
  );
  return { ...job, model, files };
}

/** The job's images, read from where they are (`read` fetches an s3:// URL). */
export async function decodeEmbedJob(
  job: WireEmbedJob,
  read: (url: string) => Promise<Uint8Array>,
): Promise<EmbedFiles> {
  const { model: _model, ...rest } = job;
  const files = await Promise.all(job.files.map(async (f) => ({
    name: f.name,
    data: f.url !== undefined ? await read(f.url) : unb64(f.data ?? ""),
  })));
  return { ...rest, files };
}

export function encodeMade(made: MadeEmbedding): WireMade {
  const e = made.embedding;
  return { ...made, embedding: b64(new Uint8Array(e.buffer, e.byteOffset, e.byteLength)) };
}

export function decodeMade(made: WireMade): MadeEmbedding {
  const bytes = unb64(made.embedding);
  return { ...made, embedding: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) };
}

export function encodeOutput(out: GenerationOutput): WireOutput {
  const { model: _model, queueId: _queueId, images, ...rest } = out;
  return { ...rest, images: images.map(b64) };
}

/** The output with its PNGs; `stored` are the bytes of `imageUrls` when the worker put them in a bucket. */
export function decodeOutput(
  out: WireOutput,
  stored?: Uint8Array[],
): Omit<GenerationOutput, "model" | "queueId"> {
  const { imageUrls: _urls, ...rest } = out;
  return { ...rest, images: stored ?? out.images.map(unb64) };
}

// A few workers that turn image paths into CLIP pixel_values, so decoding overlaps inference.
import type { ClipImageConfig } from "../clip/image_processor.ts";
import type { ImageSkip } from "../io/image.ts";

export interface PoolRequest {
  id: number;
  path: string;
  config: ClipImageConfig;
  maxPixels?: number;
  /** Where in the shared buffer to write the pixels, in floats. */
  offset: number;
}

/** Sent once to each worker: the buffer its pixels go into. */
export interface PoolInit {
  shared: SharedArrayBuffer;
}

/** On success the pixels are a view of a shared slot: copy them before that slot is handed out again. */
export type Prepared = { ok: true; pixels: Float32Array } | { ok: false; skip: ImageSkip };

export type PoolReply = { id: number; ok: true } | { id: number; ok: false; skip: ImageSkip };

export interface PoolOptions {
  /** Worker count; default: one fewer than the cores (at least 1), at most 4. */
  workers?: number;
  maxPixels?: number;
  /** Images that may be in flight at once (each gets a slot of the shared pixel buffer). */
  slots: number;
  /** Floats per preprocessed image. */
  perImage: number;
}

export class PreprocessPool {
  readonly #workers: Worker[];
  readonly #load: number[];
  readonly #pending = new Map<
    number,
    { worker: number; resolve: (p: PoolReply) => void; reject: (e: Error) => void }
  >();
  readonly #config: ClipImageConfig;
  readonly #maxPixels?: number;
  // Workers write pixels straight into these slots: no per-image buffer crosses threads, so memory stays flat
  // however many images go through.
  readonly #shared: SharedArrayBuffer;
  readonly #perImage: number;
  readonly #slots: number;
  #nextId = 0;
  #closed = false;

  constructor(config: ClipImageConfig, opts: PoolOptions) {
    const n = opts.workers ?? Math.min(4, Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1));
    if (!Number.isInteger(n) || n < 1) throw new Error(`worker count must be a positive integer, got ${n}`);
    this.#config = config;
    this.#maxPixels = opts.maxPixels;
    this.#perImage = opts.perImage;
    this.#slots = opts.slots;
    this.#shared = new SharedArrayBuffer(opts.slots * opts.perImage * 4);
    this.#load = new Array(n).fill(0);
    this.#workers = Array.from({ length: n }, (_, i) => {
      const w = new Worker(new URL("./preprocess_worker.ts", import.meta.url), { type: "module" });
      w.onmessage = (e: MessageEvent<PoolReply>) => this.#settle(i, e.data);
      w.postMessage({ shared: this.#shared } satisfies PoolInit);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#fail(i, new Error(`image preprocessing worker crashed: ${e.message}`));
      };
      return w;
    });
  }

  /** Decodes and preprocesses one file into `slot`; resolves with the pixels or the reason it was skipped. */
  process(path: string, slot: number): Promise<Prepared> {
    if (this.#closed) return Promise.reject(new Error("the preprocessing pool is closed"));
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.#slots) throw new Error(`no slot ${slot}`);
    const worker = this.#load.indexOf(Math.min(...this.#load));
    const id = this.#nextId++;
    this.#load[worker]++;
    const offset = slot * this.#perImage;
    const request: PoolRequest = {
      id,
      path,
      config: this.#config,
      maxPixels: this.#maxPixels,
      offset,
    };
    const pixels = new Float32Array(this.#shared, offset * 4, this.#perImage);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { worker, resolve: (r) => resolve(r.ok ? { ok: true, pixels } : r), reject });
      this.#workers[worker].postMessage(request);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) w.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("the preprocessing pool was closed"));
    this.#pending.clear();
  }

  #settle(worker: number, reply: PoolReply): void {
    const p = this.#pending.get(reply.id);
    if (!p) return;
    this.#pending.delete(reply.id);
    this.#load[worker]--;
    p.resolve(reply);
  }

  #fail(worker: number, error: Error): void {
    for (const [id, p] of this.#pending) {
      if (p.worker !== worker) continue;
      this.#pending.delete(id);
      p.reject(error);
    }
    this.close();
  }
}

// A few workers that turn image paths into CLIP pixel_values, so decoding overlaps inference.
//
// Memory must not depend on how many images go through, so nothing per image outlives its image: pixels land
// in a fixed shared buffer, and the protocol is one message each way per batch and worker. (With a message and
// a promise per image, each lived for a batch or two, got promoted to V8's old generation, and stayed there as
// garbage until a full collection, which a run of a few thousand images never reaches.)
import type { ClipImageConfig } from "../clip/image_processor.ts";
import type { ImageSkip } from "../io/image.ts";

/** Sent once to each worker. */
export interface PoolInit {
  /** The buffer pixels go into: `slots` images of `perImage` floats each. */
  shared: SharedArrayBuffer;
  perImage: number;
  config: ClipImageConfig;
  maxPixels?: number;
}

/** Preprocess `paths` into consecutive slots starting at `slot`. */
export interface PoolRequest {
  id: number;
  paths: string[];
  slot: number;
}

/** For each requested path, in order: null when its pixels are in its slot, else why it was skipped. */
export interface PoolReply {
  id: number;
  skips: (ImageSkip | null)[];
}

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
  readonly #pending = new Map<
    number,
    { worker: number; resolve: (skips: (ImageSkip | null)[]) => void; reject: (e: Error) => void }
  >();
  readonly #shared: SharedArrayBuffer;
  readonly #perImage: number;
  readonly #slots: number;
  #nextId = 0;
  #closed = false;

  constructor(config: ClipImageConfig, opts: PoolOptions) {
    const n = opts.workers ?? Math.min(4, Math.max(1, (navigator.hardwareConcurrency ?? 2) - 1));
    if (!Number.isInteger(n) || n < 1) throw new Error(`worker count must be a positive integer, got ${n}`);
    if (!Number.isInteger(opts.slots) || opts.slots < 1) throw new Error(`slots must be a positive integer`);
    this.#perImage = opts.perImage;
    this.#slots = opts.slots;
    this.#shared = new SharedArrayBuffer(opts.slots * opts.perImage * 4);
    const init: PoolInit = {
      shared: this.#shared,
      perImage: opts.perImage,
      config,
      maxPixels: opts.maxPixels,
    };
    this.#workers = Array.from({ length: n }, (_, i) => {
      const w = new Worker(new URL("./preprocess_worker.ts", import.meta.url), { type: "module" });
      w.onmessage = (e: MessageEvent<PoolReply>) => this.#settle(e.data);
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        this.#fail(i, new Error(`image preprocessing worker crashed: ${e.message}`));
      };
      w.postMessage(init);
      return w;
    });
  }

  /** How many workers share the work of each batch. */
  get workers(): number {
    return this.#workers.length;
  }

  /**
   * Decodes and preprocesses `paths` into slots `slot`, `slot + 1`, …, split evenly over the workers.
   * Resolves, per path in order, with null (pixels ready: read them with `pixels(slot + i)`) or the reason
   * the file was skipped.
   */
  prepare(paths: readonly string[], slot: number): Promise<(ImageSkip | null)[]> {
    if (this.#closed) return Promise.reject(new Error("the preprocessing pool is closed"));
    if (!Number.isInteger(slot) || slot < 0 || slot + paths.length > this.#slots) {
      throw new Error(`slots ${slot}..${slot + paths.length - 1} are outside the pool's ${this.#slots}`);
    }
    const per = Math.ceil(paths.length / this.#workers.length);
    const parts: Promise<(ImageSkip | null)[]>[] = [];
    for (let w = 0; w * per < paths.length; w++) {
      const id = this.#nextId++;
      const request: PoolRequest = { id, paths: paths.slice(w * per, (w + 1) * per), slot: slot + w * per };
      parts.push(
        new Promise((resolve, reject) => {
          this.#pending.set(id, { worker: w, resolve, reject });
          this.#workers[w].postMessage(request);
        }),
      );
    }
    return parts.length === 1 ? parts[0] : Promise.all(parts).then((p) => p.flat());
  }

  /** The pixels in `slot`: a view of the shared buffer, valid until that slot is prepared again. */
  pixels(slot: number): Float32Array {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.#slots) throw new Error(`no slot ${slot}`);
    return new Float32Array(this.#shared, slot * this.#perImage * 4, this.#perImage);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) w.terminate();
    for (const p of this.#pending.values()) p.reject(new Error("the preprocessing pool was closed"));
    this.#pending.clear();
  }

  #settle(reply: PoolReply): void {
    const p = this.#pending.get(reply.id);
    if (!p) return;
    this.#pending.delete(reply.id);
    p.resolve(reply.skips);
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

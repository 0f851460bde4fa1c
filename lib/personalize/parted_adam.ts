// The working weights, their gradients and Adam's moments, split in parts that are updated at the same time, one
// thread each: the update is memory-bound, and one thread does not draw the memory bandwidth of several cores.
// Part 0 lives in the main thread's kernel memory (with the embedding tables, updated sparsely by the caller).
// onnxruntime-node refuses tensors over a SharedArrayBuffer, so every other part's weights and gradient live in
// an ordinary ArrayBuffer that is transferred (not copied) to its worker for the update and back after it;
// its moments stay in the worker. Each element gets the same float32 operations whichever part it is in.
// The threads live as long as the PartedAdam, not one optimization: starting a thread, compiling its kernel and
// faulting in fresh moments cost about 0.3 s per prompt. They are node:worker_threads workers because those can
// be unref'd: an idle pool never keeps the process alive, so a caller that never calls close() still exits.
import { Worker } from "node:worker_threads";
import { AdamKernel, FlatAdam } from "./adam.ts";
import type { PartReply, PartStep } from "./adam_worker.ts";

export interface WeightSlot {
  size: number;
  /** Updated by the caller (embedding rows), so it gets no dense gradient and stays on the main thread. */
  sparse?: boolean;
}

/** Below this many dense weights a second thread costs more than it saves. */
const MIN_PARTED = 1 << 22;
/**
 * Weights in part 0 per weight in another part. On the CLIP ViT-L/14 text model's 85M dense weights and two
 * threads, equal halves took 56 ms on the main thread and 97 ms on the other; split 1.7 : 1, both take about 70.
 */
export const MAIN_SHARE = 1.7;

export class PartedAdam {
  readonly kernel: AdamKernel;
  readonly #where: { part: number; offset: number }[];
  readonly #weights: Float32Array;
  readonly #grads: Float32Array;
  readonly #adam: FlatAdam;
  /** Floats of each part after the first, whose buffers hold [weights | gradient]. */
  readonly #floats: number[];
  #buffers: ArrayBuffer[];
  /** The part threads, made at the first start; undefined again after a failure or close(). */
  #workers: Worker[] | undefined;
  #running = false;
  #inFlight = false;
  #step = 0;

  /** Slots in any order; `threads` parts at most, one when there are fewer dense weights than `minParted`. */
  constructor(slots: WeightSlot[], threads: number, minParted = MIN_PARTED) {
    const dense = slots.reduce((n, s) => n + (s.sparse ? 0 : s.size), 0);
    const parts = dense >= minParted ? Math.max(1, Math.min(threads, 4)) : 1;
    const sizes = new Array(parts).fill(0);
    let seen = 0;
    // Whole slots, contiguous, so that the parts take about as long: part 0 updates its weights in place, the
    // others stage theirs through the kernel's memory (copies in and out), which makes a weight there cost
    // about MAIN_SHARE times as much.
    const shares = Array.from({ length: parts }, (_, k) => k === 0 ? MAIN_SHARE : 1);
    const total = shares.reduce((a, b) => a + b, 0);
    const ends = shares.map((_, k) => shares.slice(0, k + 1).reduce((a, b) => a + b, 0) / total);
    this.#where = slots.map((s) => {
      if (s.sparse) return { part: 0, offset: -1 };
      const middle = (seen + s.size / 2) / dense;
      const found = ends.findIndex((end) => middle < end);
      const part = found < 0 ? parts - 1 : found;
      seen += s.size;
      const offset = sizes[part];
      sizes[part] += s.size;
      return { part, offset };
    });
    let sparseAt = sizes[0];
    for (const [i, s] of slots.entries()) {
      if (s.sparse) {
        this.#where[i].offset = sparseAt;
        sparseAt += s.size;
      }
    }
    this.kernel = AdamKernel.create(sparseAt + 3 * sizes[0]);
    this.#weights = this.kernel.alloc(sparseAt);
    this.#grads = this.kernel.alloc(sizes[0]);
    this.#adam = new FlatAdam(this.kernel, this.#weights.subarray(0, sizes[0]), this.#grads);
    this.#floats = sizes.slice(1);
    this.#buffers = this.#floats.map((n) => new ArrayBuffer(8 * n));
    this.slots = slots;
  }

  readonly slots: WeightSlot[];

  get parts(): number {
    return this.#floats.length + 1;
  }

  /** Dense weights in each part. */
  get partSizes(): number[] {
    return [this.#grads.length, ...this.#floats];
  }

  /** Slot i's weights; a view that is valid until the next `step`. */
  weights(i: number): Float32Array {
    const { part, offset } = this.#where[i];
    const size = this.slots[i].size;
    if (part === 0) return this.#weights.subarray(offset, offset + size);
    return new Float32Array(this.#buffers[part - 1], offset * 4, size);
  }

  /** Slot i's gradient, for onnxruntime to write (dense slots only); valid until the next `step`. */
  grad(i: number): Float32Array {
    const { part, offset } = this.#where[i];
    if (this.slots[i].sparse) throw new Error(`slot ${i} is updated sparsely and has no dense gradient`);
    const size = this.slots[i].size;
    if (part === 0) return this.#grads.subarray(offset, offset + size);
    return new Float32Array(this.#buffers[part - 1], (this.#floats[part - 1] + offset) * 4, size);
  }

  /** A new optimization: zero moments and step count (the part threads zero theirs at its first step). */
  start(): void {
    this.stop();
    this.#adam.reset();
    this.#step = 0;
    this.#workers ??= this.#floats.map(() => {
      const w = new Worker(new URL("./adam_worker.ts", import.meta.url));
      w.unref();
      return w;
    });
    this.#running = true;
  }

  /** One Adam step of every dense weight with learning rate lr, all parts at once. */
  async step(lr: number): Promise<void> {
    const workers = this.#workers;
    if (!this.#running || !workers) throw new Error("PartedAdam.step before start");
    const step = ++this.#step;
    const replies = workers.map((w) => reply(w));
    // A thread is referenced only while it works: the step's reply must keep the process alive, an idle pool not.
    workers.forEach((w, k) => {
      w.ref();
      const message: PartStep = { buffer: this.#buffers[k], floats: this.#floats[k], step, lr };
      w.postMessage(message, [this.#buffers[k]]);
    });
    this.#inFlight = true;
    try {
      this.#adam.step(lr);
      const buffers = await Promise.all(replies);
      // A stop() during the step discarded this pool and made fresh buffers: these are stale.
      if (this.#workers === workers) this.#buffers = buffers;
    } catch (e) {
      // stop() already discarded the pool: the caller gave this step up and may never await it.
      if (this.#workers !== workers) return;
      this.#discard();
      throw e;
    } finally {
      this.#inFlight = false;
      for (const w of workers) w.unref();
    }
  }

  /** Ends the optimization; the part threads stay, idle, for the next one. */
  stop(): void {
    this.#running = false;
    // Stopped mid-step (the caller failed between step() and its await): the threads hold the buffers, so
    // they go, and the buffers are made again (zeros: the caller restores the weights).
    if (this.#inFlight) this.#discard();
    this.#buffers = this.#buffers.map((b, k) => b.byteLength ? b : new ArrayBuffer(8 * this.#floats[k]));
  }

  /** Ends the part threads (the next start makes new ones). */
  async close(): Promise<void> {
    this.stop();
    const workers = this.#workers ?? [];
    this.#workers = undefined;
    await Promise.all(workers.map((w) => w.terminate()));
  }

  /** A pool with a failed thread is not reused: its threads end and the next start makes new ones. */
  #discard(): void {
    const workers = this.#workers ?? [];
    this.#workers = undefined;
    this.#running = false;
    for (const w of workers) void w.terminate();
  }
}

/** The part thread's next reply, or its failure (an error, or the thread ending) as a rejection. */
function reply(w: Worker): Promise<ArrayBuffer> {
  return new Promise<ArrayBuffer>((resolve, reject) => {
    const off = () => {
      w.off("message", done);
      w.off("error", fail);
      w.off("exit", exit);
    };
    const done = (r: PartReply) => (off(), resolve(r.buffer));
    const fail = (e: Error) => (off(), reject(new Error(`the Adam update's thread failed: ${e.message}`)));
    const exit = (
      code: number,
    ) => (off(), reject(new Error(`the Adam update's thread ended (exit code ${code})`)));
    w.on("message", done);
    w.on("error", fail);
    w.on("exit", exit);
  });
}

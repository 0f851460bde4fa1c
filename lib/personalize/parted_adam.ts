// The working weights, their gradients and Adam's moments, split in parts that are updated at the same time, one
// thread each: the update is memory-bound, and one thread does not draw the memory bandwidth of several cores.
// Part 0 lives in the main thread's kernel memory (with the embedding tables, updated sparsely by the caller).
// onnxruntime-node refuses tensors over a SharedArrayBuffer, so every other part's weights and gradient live in
// an ordinary ArrayBuffer that is transferred (not copied) to its worker for the update and back after it;
// its moments stay in the worker. Each element gets the same float32 operations whichever part it is in.
import { AdamKernel, FlatAdam } from "./adam.ts";
import type { PartStep } from "./adam_worker.ts";

export interface WeightSlot {
  size: number;
  /** Updated by the caller (embedding rows), so it gets no dense gradient and stays on the main thread. */
  sparse?: boolean;
}

/** Below this many dense weights a second thread costs more than it saves. */
const MIN_PARTED = 1 << 22;

export class PartedAdam {
  readonly kernel: AdamKernel;
  readonly #where: { part: number; offset: number }[];
  readonly #weights: Float32Array;
  readonly #grads: Float32Array;
  readonly #adam: FlatAdam;
  /** Floats of each part after the first, whose buffers hold [weights | gradient]. */
  readonly #floats: number[];
  #buffers: ArrayBuffer[];
  #workers: Worker[] = [];
  #step = 0;

  /** Slots in any order; `threads` parts at most, one when there are fewer dense weights than `minParted`. */
  constructor(slots: WeightSlot[], threads: number, minParted = MIN_PARTED) {
    const dense = slots.reduce((n, s) => n + (s.sparse ? 0 : s.size), 0);
    const parts = dense >= minParted ? Math.max(1, Math.min(threads, 4)) : 1;
    const sizes = new Array(parts).fill(0);
    let seen = 0;
    // Whole slots, contiguous, so that each part holds about dense / parts weights.
    this.#where = slots.map((s) => {
      if (s.sparse) return { part: 0, offset: -1 };
      const part = Math.min(parts - 1, Math.floor(((seen + s.size / 2) * parts) / dense));
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

  /** A new optimization: zero moments and step count, and the part threads started (they hold the moments). */
  start(): void {
    this.stop();
    this.#adam.reset();
    this.#step = 0;
    this.#workers = this.#floats.map(() =>
      new Worker(new URL("./adam_worker.ts", import.meta.url), { type: "module" })
    );
  }

  /** One Adam step of every dense weight with learning rate lr, all parts at once. */
  async step(lr: number): Promise<void> {
    if (this.#workers.length !== this.#floats.length) throw new Error("PartedAdam.step before start");
    const step = ++this.#step;
    const replies = this.#workers.map((w) =>
      new Promise<ArrayBuffer>((resolve, reject) => {
        w.onmessage = (e: MessageEvent<{ buffer: ArrayBuffer }>) => resolve(e.data.buffer);
        w.onerror = (e) => {
          e.preventDefault();
          reject(new Error(`the Adam update's thread failed: ${e.message}`));
        };
      })
    );
    this.#workers.forEach((w, k) => {
      const message: PartStep = { buffer: this.#buffers[k], floats: this.#floats[k], step, lr };
      w.postMessage(message, [this.#buffers[k]]);
    });
    this.#adam.step(lr);
    this.#buffers = await Promise.all(replies);
  }

  /** Ends the optimization's threads (a live worker keeps the process running). */
  stop(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
    // A buffer that went down with a failed thread is made again (zeros: the caller restores the weights).
    this.#buffers = this.#buffers.map((b, k) => b.byteLength ? b : new ArrayBuffer(8 * this.#floats[k]));
  }
}

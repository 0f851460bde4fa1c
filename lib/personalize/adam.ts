// torch.optim.Adam's update (no weight decay, no amsgrad) over flat float32 buffers, in a WebAssembly SIMD
// kernel (adam.wat). The update is memory-bound: about seven floats read or written per weight. One pass that
// keeps every intermediate in registers is several times faster than onnxruntime running the formula as a
// graph, where each elementwise op is another pass over memory. Buffers allocated from the kernel's memory are
// updated in place; any other buffer is staged through a small scratch area.
import { ADAM_WASM_BASE64 } from "./adam_wasm.ts";

export const BETA1 = 0.9;
export const BETA2 = 0.999;
export const EPS = 1e-8;

const PAGE = 65536;
/** Floats per staging buffer: a few hundred KB in all, so staged data stays in cache between copy and update. */
const STAGE = 1 << 14;

type AdamFn = (
  p: bigint,
  m: bigint,
  v: bigint,
  g: bigint,
  n: bigint,
  oneMinusBeta1: number,
  beta2: number,
  oneMinusBeta2: number,
  bc2Sqrt: number,
  eps: number,
  negStepSize: number,
) => void;

/** A 64-bit memory (the standard's `address: "i64"`), so models past 4 GB of Adam state fit. */
interface Memory64Descriptor {
  address: "i64";
  initial: bigint;
  maximum: bigint;
}

const module = new WebAssembly.Module(
  Uint8Array.from(atob(ADAM_WASM_BASE64.replace(/\s/g, "")), (c) => c.charCodeAt(0)),
);

/** The update kernel and the memory its buffers live in. Its size is fixed when it is made, as growing a
 * WebAssembly memory would detach every view handed out. */
export class AdamKernel {
  readonly #memory: WebAssembly.Memory;
  readonly #adam: AdamFn;
  readonly #stage: Float32Array[];
  #next = 0;

  private constructor(floats: number) {
    const bytes = (floats + 4 * STAGE) * 4 + 64;
    const pages = BigInt(Math.max(1, Math.ceil(bytes / PAGE)));
    const descriptor: Memory64Descriptor = { address: "i64", initial: pages, maximum: pages };
    this.#memory = new WebAssembly.Memory(descriptor as unknown as WebAssembly.MemoryDescriptor);
    const instance = new WebAssembly.Instance(module, { env: { memory: this.#memory } });
    this.#adam = instance.exports.adam as unknown as AdamFn;
    this.#stage = [0, 1, 2, 3].map(() => this.alloc(STAGE));
  }

  /** A kernel whose memory holds `capacity` floats for `alloc` (beyond its own staging area). */
  static create(capacity = 0): AdamKernel {
    return new AdamKernel(capacity);
  }

  /** A zeroed buffer of n floats in the kernel's memory (16-byte aligned), updated in place by `update`. */
  alloc(n: number): Float32Array {
    const buffer = this.#memory.buffer;
    const offset = this.#next;
    const end = offset + Math.ceil(n / 4) * 16;
    if (end > buffer.byteLength) {
      throw new Error(`the Adam kernel's memory has no room for ${n} more floats (sized at creation)`);
    }
    this.#next = end;
    return new Float32Array(buffer, offset, n);
  }

  /** Step number `step` (1-based) of Adam on p with gradient g and moments m, v, all updated in place. */
  update(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, step: number, lr: number): void {
    const n = p.length;
    if (m.length !== n || v.length !== n || g.length !== n) {
      throw new Error(`Adam buffers differ in length: p ${n}, m ${m.length}, v ${v.length}, g ${g.length}`);
    }
    const bc1 = 1 - BETA1 ** step;
    const bc2 = 1 - BETA2 ** step;
    const args = [1 - BETA1, BETA2, 1 - BETA2, Math.sqrt(bc2), EPS, -lr / bc1] as const;
    const buffer = this.#memory.buffer;
    const at = (a: Float32Array) => BigInt(a.byteOffset);
    const inside = [p, m, v, g].map((a) => a.buffer === buffer);
    if (inside.every((x) => x)) {
      this.#adam(at(p), at(m), at(v), at(g), BigInt(n), ...args);
      return;
    }
    // Only the buffers outside the kernel's memory go through the staging area, a chunk at a time.
    for (let start = 0; start < n; start += STAGE) {
      const end = Math.min(start + STAGE, n);
      const k = end - start;
      const [sp, sm, sv, sg] = [p, m, v, g].map((a, i) => {
        if (inside[i]) return a.subarray(start, end);
        this.#stage[i].set(a.subarray(start, end));
        return this.#stage[i];
      });
      this.#adam(at(sp), at(sm), at(sv), at(sg), BigInt(k), ...args);
      [p, m, v].forEach((a, i) => {
        if (!inside[i]) a.set(this.#stage[i].subarray(0, k), start);
      });
    }
  }
}

/** Adam state (moments, step count) over one flat parameter buffer, updated in place. */
export class FlatAdam {
  readonly m: Float32Array;
  readonly v: Float32Array;
  #step = 0;

  /** For the fast path, params and grads should come from `kernel.alloc`, which also holds the moments. */
  constructor(
    private readonly kernel: AdamKernel,
    readonly params: Float32Array,
    readonly grads: Float32Array,
  ) {
    this.m = kernel.alloc(params.length);
    this.v = kernel.alloc(params.length);
  }

  /** Zeroes the moments and the step count, for a new optimization over the same buffers. */
  reset(): void {
    this.m.fill(0);
    this.v.fill(0);
    this.#step = 0;
  }

  /** One update of params from grads with learning rate lr (torch's bias-corrected step size). */
  step(lr: number): void {
    this.kernel.update(this.params, this.m, this.v, this.grads, ++this.#step, lr);
  }
}

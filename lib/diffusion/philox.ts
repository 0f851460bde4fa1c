// torch.randn on a CUDA device, reproduced on the CPU: CUDA's Philox4x32-10 counter-based generator followed by
// curand's Box–Muller, as A1111's "NV" source imitates it (modules/rng_philox.py).
//
// Element i of the n-th randn call of a generator seeded with `seed` is computed from one Philox block with
// counter (n, 0, i, 0) and key (seed's low 32 bits, high 32 bits): its first two words become u and v, and the
// element is sqrt(−2 ln u)·sin(v). That is what torch's CUDA kernel computes while every element has its own
// thread (curand_init(seed, subsequence = i, offset = 4n): the first of curand_normal4's four values), which
// holds for latents up to the GPU's thread count (≥ 160k elements on current cards; SD 1.5 at 512² has 16384).
// A1111's numpy code does the arithmetic in float64 and rounds the product to float32, as done here; CUDA's
// fast float32 sin/log differ from it in the last bits (≈1e-6), which is A1111's "NV" versus "GPU".

import { shapeNumel } from "./torch_rng.ts";

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
// curand's 2^-32 and 2π·2^-32, as float32 constants.
const U_SCALE = Math.fround(2.3283064e-10);
const V_SCALE = Math.fround(2.3283064e-10 * 6.2831855);

/** The high 32 bits of the 64-bit product of two unsigned 32-bit integers. */
function mulhi(a: number, b: number): number {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const carry = (((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff)) >>> 16;
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + carry) >>> 0;
}

/** Philox4x32 with 10 rounds on one counter block; writes the four output words into `out`. */
export function philox4x32(
  counter: readonly number[],
  key: readonly [number, number],
  out: Uint32Array,
): void {
  let c0 = counter[0] >>> 0, c1 = counter[1] >>> 0, c2 = counter[2] >>> 0, c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0, k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(c0, M0), lo0 = Math.imul(c0, M0) >>> 0;
    const hi1 = mulhi(c2, M1), lo1 = Math.imul(c2, M1) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** A seed as Philox's key: its low and high 32 bits (torch and A1111 take seeds in [0, 2^64)). */
function philoxKey(seed: number | bigint): [number, number] {
  if (typeof seed === "number" && !Number.isSafeInteger(seed)) {
    throw new Error(`seed must be an integer (a bigint beyond 2^53), got ${seed}`);
  }
  const s = BigInt(seed);
  if (s < 0n || s >= 1n << 64n) throw new Error(`seed ${s} is outside [0, 2^64)`);
  return [Number(s & 0xffffffffn), Number(s >> 32n)];
}

/** A CUDA-style generator: each randn call uses the next counter offset, as torch.cuda's Philox state does. */
export class PhiloxGenerator {
  readonly #key: [number, number];
  #offset = 0;

  constructor(seed: number | bigint) {
    this.#key = philoxKey(seed);
  }

  /** torch.randn(shape, device="cuda", generator=this) as A1111's "NV" source computes it. */
  randn(shape: readonly number[]): Float32Array {
    const n = shapeNumel(shape);
    if (n > 2 ** 32) throw new Error(`randn of ${n} values: Philox indexes at most 2^32 per call`);
    const out = new Float32Array(n);
    const words = new Uint32Array(4);
    const counter = [this.#offset, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      counter[2] = i;
      philox4x32(counter, this.#key, words);
      const u = words[0] * U_SCALE + U_SCALE / 2;
      const v = words[1] * V_SCALE + V_SCALE / 2;
      out[i] = Math.sqrt(-2 * Math.log(u)) * Math.sin(v);
    }
    this.#offset++;
    return out;
  }
}

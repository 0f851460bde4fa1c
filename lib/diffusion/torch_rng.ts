// torch's CPU random stream, reproduced so a seed gives the same latents here as in PyTorch/diffusers/A1111.
//
// torch.Generator("cpu") is a 32-bit Mersenne Twister (mt19937) seeded with the low 32 bits of the seed.
// torch.randn on it takes one of two paths:
//  - float32, contiguous, numel >= 16: every element first gets a float uniform (one 32-bit draw each), then
//    blocks of 16 go through Box–Muller (first 8 → cos, last 8 → sin). When numel is not a multiple of 16,
//    16 fresh uniforms are drawn and the last 16 elements are recomputed from them. x86 builds with AVX2 use
//    Cephes-style float32 log/sincos polynomials for this (which is what PyTorch wheels on x86 run), so those
//    polynomials are evaluated here in float32, step for step, with a fused multiply-add wherever the compiler
//    fused one in PyTorch's x86 wheels (GCC contracts a*b+c in vector code), to match bit for bit.
//  - numel < 16: a scalar double-precision Box–Muller per element (two 64-bit draws per pair), whose second
//    value is cached on the generator and used by the next scalar normal draw, even in a later call.

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;
/** torch.Generator()'s seed when none is given (c10 default_rng_seed_val). */
export const DEFAULT_SEED = 67280421310721n;
const SEED_MAX = (1n << 64n) - 1n;
const SEED_MIN = -(1n << 63n);

const f = Math.fround;

/** Accepts what torch.manual_seed accepts: an integer in [-2^63, 2^64); negatives wrap modulo 2^64. */
function normalizeSeed(seed: number | bigint): bigint {
  if (typeof seed === "number" && !Number.isSafeInteger(seed)) {
    throw new Error(`seed must be an integer (a bigint beyond 2^53), got ${seed}`);
  }
  const s = BigInt(seed);
  if (s > SEED_MAX || s < SEED_MIN) throw new Error(`seed ${s} is outside [-2^63, 2^64)`);
  return s < 0n ? s + (1n << 64n) : s;
}

/** A CPU generator equal in state and output to torch.Generator("cpu").manual_seed(seed). */
export class TorchGenerator {
  #state = new Uint32Array(N);
  #index = N;
  #seed = DEFAULT_SEED;
  /** Box–Muller's second double-precision value, kept for the next scalar normal draw (as torch does). */
  #nextDoubleNormal: number | undefined;

  constructor(seed: number | bigint = DEFAULT_SEED) {
    this.manualSeed(seed);
  }

  /** Reseeds in place and clears the cached normal, like Generator.manual_seed. */
  manualSeed(seed: number | bigint): this {
    this.#seed = normalizeSeed(seed);
    const st = this.#state;
    st[0] = Number(this.#seed & 0xffffffffn);
    for (let j = 1; j < N; j++) {
      const prev = st[j - 1];
      st[j] = Math.imul(1812433253, prev ^ (prev >>> 30)) + j;
    }
    this.#index = N;
    this.#nextDoubleNormal = undefined;
    return this;
  }

  /** The seed last given (Generator.initial_seed), as a non-negative integer. */
  initialSeed(): bigint {
    return this.#seed;
  }

  /** An independent generator at the same point of the stream. */
  clone(): TorchGenerator {
    const g = new TorchGenerator();
    g.#state.set(this.#state);
    g.#index = this.#index;
    g.#seed = this.#seed;
    g.#nextDoubleNormal = this.#nextDoubleNormal;
    return g;
  }

  #twist(): void {
    const st = this.#state;
    for (let k = 0; k < N; k++) {
      const y = (st[k] & UPPER) | (st[(k + 1) % N] & LOWER);
      st[k] = st[(k + M) % N] ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    this.#index = 0;
  }

  /** The next raw 32-bit output of mt19937 (Generator.random()). */
  nextUint32(): number {
    if (this.#index >= N) this.#twist();
    let y = this.#state[this.#index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A float32 uniform in [0, 1): the low 24 bits of one draw over 2^24. */
  #uniformFloat(): number {
    return (this.nextUint32() & 0xffffff) / 0x1000000;
  }

  /** A float64 uniform in [0, 1): the low 53 bits of (first draw << 32 | second draw) over 2^53. */
  #uniformDouble(): number {
    const hi = this.nextUint32();
    const lo = this.nextUint32();
    return ((hi & 0x1fffff) * 0x100000000 + lo) / 2 ** 53;
  }

  /** One standard normal in double precision, with torch's one-value cache. */
  #normalDouble(): number {
    const cached = this.#nextDoubleNormal;
    if (cached !== undefined) {
      this.#nextDoubleNormal = undefined;
      return cached;
    }
    const u1 = this.#uniformDouble();
    const u2 = this.#uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.#nextDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** torch.randn(shape, generator=this) for float32 on the CPU, advancing the stream the same way. */
  randn(shape: readonly number[]): Float32Array {
    const numel = shapeNumel(shape);
    const out = new Float32Array(numel);
    if (numel < 16) {
      for (let i = 0; i < numel; i++) out[i] = this.#normalDouble();
      return out;
    }
    for (let i = 0; i < numel; i++) out[i] = this.#uniformFloat();
    for (let i = 0; i + 16 <= numel; i += 16) boxMuller16(out, i);
    if (numel % 16 !== 0) {
      const start = numel - 16;
      for (let i = 0; i < 16; i++) out[start + i] = this.#uniformFloat();
      boxMuller16(out, start);
    }
    return out;
  }
}

/** The element count of a randn shape; every generator refuses the same bad shapes. */
export function shapeNumel(shape: readonly number[]): number {
  let numel = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`randn shape must hold non-negative integers: [${shape}]`);
    }
    numel *= d;
  }
  return numel;
}

/** torch.randn(shape, generator=torch.Generator("cpu").manual_seed(seed)). */
export function randn(shape: readonly number[], seed: number | bigint): Float32Array {
  return new TorchGenerator(seed).randn(shape);
}

const TWO_PI = f(2 * Math.PI);

/** Box–Muller on 16 uniforms in place: u1 = 1 - data[j], u2 = data[j + 8], for j < 8. */
function boxMuller16(data: Float32Array, at: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[at + j]);
    const u2 = data[at + j + 8];
    const radius = f(Math.sqrt(f(-2 * logf(u1))));
    const theta = f(TWO_PI * u2);
    sincosf(theta);
    data[at + j] = f(radius * sincosOut[1]);
    data[at + j + 8] = f(radius * sincosOut[0]);
  }
}

// Float32 views for the bit-level steps of the Cephes polynomials (exponent extraction, masks).
const scratchF = new Float32Array(1);
const scratchU = new Uint32Array(scratchF.buffer);

const SQRTHF = f(0.707106781186547524);
const LOG_P = [
  7.0376836292e-2,
  -1.1514610310e-1,
  1.1676998740e-1,
  -1.2420140846e-1,
  1.4249322787e-1,
  -1.6668057665e-1,
  2.0000714765e-1,
  -2.4999993993e-1,
  3.3333331174e-1,
].map(f);
const LOG_Q1 = f(-2.12194440e-4);
const LOG_Q2 = f(0.693359375);
const MIN_NORM = 1.1754943508222875e-38;

/**
 * a * b + c rounded once to float32, as the FMA instruction does. The product of two floats is exact in a
 * double; the sum's rounding to double is undone when it lands exactly on a float32 tie.
 */
function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = f(s);
  if (r === s) return r;
  const other = 2 * s - r;
  if (f(other) !== other) return r; // s is not halfway between two floats: rounding it once is right
  const back = s - p;
  const err = (p - (s - back)) + (c - back); // exact remainder of p + c - s
  if (err === 0) return r;
  return (err > 0) === (other > r) ? other : r;
}

/** Natural log of a positive float32 by the Cephes logf polynomial, rounding as the AVX2 build does. */
function logf(v: number): number {
  if (!(v > 0)) return NaN;
  scratchF[0] = Math.max(v, MIN_NORM);
  const bits = scratchU[0];
  let e = f((bits >>> 23) - 0x7f + 1);
  // Mantissa scaled into [0.5, 1).
  scratchU[0] = (bits & ~0x7f800000) | 0x3f000000;
  let x = scratchF[0];
  if (x < SQRTHF) {
    e = f(e - 1);
    x = f(f(x - 1) + x);
  } else {
    x = f(x - 1);
  }
  const z = f(x * x);
  let y = LOG_P[0];
  for (let k = 1; k < LOG_P.length; k++) y = fmaf(y, x, LOG_P[k]);
  y = f(y * x);
  y = fmaf(y, z, f(e * LOG_Q1));
  y = fmaf(-z, 0.5, y);
  return fmaf(e, LOG_Q2, f(x + y));
}

const FOPI = f(1.27323954473516);
const DP1 = f(-0.78515625);
const DP2 = f(-2.4187564849853515625e-4);
const DP3 = f(-3.77489497744594108e-8);
const SIN_P0 = f(-1.9515295891e-4);
const SIN_P1 = f(8.3321608736e-3);
const SIN_P2 = f(-1.6666654611e-1);
const COS_P0 = f(2.443315711809948e-5);
const COS_P1 = f(-1.388731625493765e-3);
const COS_P2 = f(4.166664568298827e-2);

/** [sin, cos] of the last sincosf call; a shared pair avoids an allocation per element. */
const sincosOut: [number, number] = [0, 0];

/** sin and cos of a float32 by the Cephes sincosf reduction and polynomials, rounding as the AVX2 build does. */
function sincosf(v: number): void {
  const negative = v < 0;
  let x = Math.abs(v);
  // Octant index, rounded up to even (j = (j + 1) & ~1).
  const j = ((Math.trunc(f(x * FOPI)) | 0) + 1) & ~1;
  const y = f(j);
  // Extended-precision reduction: x - y * pi/4 in three parts.
  x = fmaf(y, DP3, fmaf(y, DP2, fmaf(y, DP1, x)));
  const z = f(x * x);
  let c = fmaf(fmaf(COS_P0, z, COS_P1), z, COS_P2);
  c = f(fmaf(f(c * z), z, -f(z * 0.5)) + 1);
  let s = fmaf(fmaf(SIN_P0, z, SIN_P1), z, SIN_P2);
  s = fmaf(f(s * z), x, x);
  // Octants 0,3,4,7 (j & 2 == 0): sin from its own polynomial, cos from the cos polynomial; else swapped.
  const swap = (j & 2) !== 0;
  let sin = swap ? c : s;
  let cos = swap ? s : c;
  if (((j & 4) !== 0) !== negative) sin = -sin;
  if (((j - 2) & 4) === 0) cos = -cos;
  sincosOut[0] = sin;
  sincosOut[1] = cos;
}

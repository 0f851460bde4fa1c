// numpy.random.SeedSequence (the hash-mixing entropy pool numpy 1.17+ uses), enough of it to turn an entropy
// value and a spawn key into generate_state() words, as torchsde's Brownian tree does for every node.
const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const XSHIFT = 16;

/** A non-negative integer as little-endian 32-bit words (0 is one word). */
function words(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) throw new Error(`SeedSequence entropy must be non-negative, got ${n}`);
  if (v === 0n) return [0];
  const out: number[] = [];
  while (v > 0n) {
    out.push(Number(v & 0xffffffffn));
    v >>= 32n;
  }
  return out;
}

export class SeedSequence {
  readonly pool: Uint32Array;

  constructor(entropy: number | bigint, spawnKey: readonly (number | bigint)[] = [], poolSize = 4) {
    let run = words(entropy);
    const spawn = spawnKey.flatMap(words);
    if (spawn.length > 0 && run.length < poolSize) {
      run = [...run, ...new Array(poolSize - run.length).fill(0)];
    }
    this.pool = new Uint32Array(poolSize);
    this.#mix([...run, ...spawn]);
  }

  #mix(entropy: number[]): void {
    let hashConst = INIT_A;
    const hashmix = (value: number) => {
      value = (value ^ hashConst) >>> 0;
      hashConst = Math.imul(hashConst, MULT_A) >>> 0;
      value = Math.imul(value, hashConst) >>> 0;
      return (value ^ (value >>> XSHIFT)) >>> 0;
    };
    const mix = (x: number, y: number) => {
      const r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
      return (r ^ (r >>> XSHIFT)) >>> 0;
    };
    const pool = this.pool;
    for (let i = 0; i < pool.length; i++) pool[i] = hashmix(i < entropy.length ? entropy[i] : 0);
    for (let src = 0; src < pool.length; src++) {
      for (let dst = 0; dst < pool.length; dst++) {
        if (src !== dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
      }
    }
    for (let src = pool.length; src < entropy.length; src++) {
      for (let dst = 0; dst < pool.length; dst++) pool[dst] = mix(pool[dst], hashmix(entropy[src]));
    }
  }

  /** generate_state(n) as uint32 words. */
  generateState(n: number): number[] {
    let hashConst = INIT_B;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      let v = (this.pool[i % this.pool.length] ^ hashConst) >>> 0;
      hashConst = Math.imul(hashConst, MULT_B) >>> 0;
      v = Math.imul(v, hashConst) >>> 0;
      out.push((v ^ (v >>> XSHIFT)) >>> 0);
    }
    return out;
  }
}

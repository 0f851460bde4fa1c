// torchsde's BrownianTree (a BrownianInterval with halfway_tree=True, tol=1e-6, pool_size=24, no Lévy area),
// which A1111 seeds with each image's seed for the SDE samplers: the Brownian increment over [ta, tb] is a sum
// of dyadic tree nodes, each node's increment split between its children by a Brownian bridge whose noise is
// torch.randn from a generator seeded by numpy's SeedSequence(entropy, spawn_key=(key, depth)). Query times
// are rounded to 6 decimals as torchsde does; tensors are float32 as torch computes them.
import { TorchGenerator } from "../torch_rng.ts";
import { SeedSequence } from "./seed_sequence.ts";

const f = Math.fround;
const POOL_SIZE = 24;
/** Node increments kept (torchsde's LRU cache size): each is a latent-sized tensor, so the tree stays small. */
const CACHE_SIZE = 45;

/** Python's round(x, 6) for the positive times used here. */
function round6(x: number): number {
  return Number(x.toFixed(6));
}

function randn(seed: number, size: number): Float32Array {
  return new TorchGenerator(seed).randn([size]);
}

class Node {
  midway: number | undefined;
  left: Node | undefined;
  right: Node | undefined;
  wSeed = 0;
  key = 0;
  depth = 0;

  constructor(
    readonly start: number,
    readonly end: number,
    readonly parent: Node | undefined,
    readonly isLeft: boolean,
    readonly tree: BrownianTree,
  ) {}

  /** Splits at the rounded midpoint, seeding this node's bridge noise. */
  splitHalf(): void {
    const mid = 0.5 * (this.end + this.start);
    this.midway = round6(mid);
    if (this.parent) {
      this.key = 2 * this.parent.key + (this.isLeft ? 0 : 1);
      this.depth = this.parent.depth + 1;
    }
    [this.wSeed] = new SeedSequence(this.tree.entropy, [this.key, this.depth], POOL_SIZE).generateState(4);
    this.left = new Node(this.start, round6(mid), this, true, this.tree);
    this.right = new Node(round6(mid), this.end, this, false, this.tree);
  }

  /** Halving splits down to a node boundary at `at` (halfway_tree's _split). */
  split(at: number): void {
    this.splitHalf();
    if (at > this.midway!) this.right!.split(at);
    else if (at < this.midway!) this.left!.split(at);
  }

  /** The Brownian increment over this node. */
  increment(): Float32Array {
    const cached = this.tree.cached(this);
    if (cached) return cached;
    const p = this.parent!;
    const w = p.increment();
    const hInv = 1 / (p.end - p.start);
    const leftDiff = p.midway! - p.start;
    const rightDiff = p.end - p.midway!;
    const a = f(leftDiff);
    const b = f(hInv);
    const sd = f(Math.sqrt(leftDiff * rightDiff * hInv));
    const noise = randn(p.wSeed, w.length);
    const out = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) {
      const leftW = f(f(a * w[i]) * b) + f(sd * noise[i]);
      out[i] = this.isLeft ? leftW : w[i] - f(leftW);
    }
    this.tree.remember(this, out);
    return out;
  }

  /** The nodes that tile [ta, tb], left to right (torchsde's _loc_inner). */
  locate(ta: number, tb: number, out: Node[]): void {
    if (ta < this.start || tb > this.end) return this.parent!.locate(ta, tb, out);
    if (ta === this.start && tb === this.end) {
      out.push(this);
      return;
    }
    if (this.midway === undefined) {
      if (ta === this.start) {
        this.split(tb);
        return this.left!.locate(ta, tb, out);
      }
      this.split(ta);
      return this.right!.locate(ta, tb, out);
    }
    if (tb <= this.midway) return this.left!.locate(ta, tb, out);
    if (ta >= this.midway) return this.right!.locate(ta, tb, out);
    this.left!.locate(ta, this.midway, out);
    this.right!.locate(this.midway, tb, out);
  }
}

/** One image's Brownian motion on [t0, t1], fixed by its entropy (the image's seed). */
export class BrownianTree {
  readonly #root: Node;
  readonly #rootW: Float32Array;
  readonly #cache = new Map<Node, Float32Array>();
  #last: Node;

  constructor(t0: number, t1: number, readonly entropy: number, readonly size: number) {
    if (!(t0 < t1)) throw new Error(`Brownian tree interval must be increasing, got [${t0}, ${t1}]`);
    this.#root = new Node(round6(t0), round6(t1), undefined, true, this);
    const [wSeed] = new SeedSequence(entropy, [], POOL_SIZE).generateState(3);
    const scale = f(Math.sqrt(t1 - t0));
    this.#rootW = randn(wSeed, size).map((v) => v * scale);
    this.#last = this.#root;
  }

  /** A node's increment if still cached (the root's always is). */
  cached(node: Node): Float32Array | undefined {
    if (node === this.#root) return this.#rootW;
    const w = this.#cache.get(node);
    if (w) {
      this.#cache.delete(node);
      this.#cache.set(node, w);
    }
    return w;
  }

  remember(node: Node, w: Float32Array): void {
    if (this.#cache.size >= CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(node, w);
  }

  /** W(tb) − W(ta), with ta ≤ tb clamped into [t0, t1]. */
  increment(ta: number, tb: number): Float32Array {
    const r = this.#root;
    ta = Math.min(Math.max(ta, r.start), r.end);
    tb = Math.min(Math.max(tb, r.start), r.end);
    if (ta > tb) throw new Error(`Brownian tree query [${ta}, ${tb}] must be increasing`);
    if (ta === tb) return new Float32Array(this.size);
    const nodes: Node[] = [];
    this.#last.locate(round6(ta), round6(tb), nodes);
    this.#last = nodes[nodes.length - 1];
    const w = Float32Array.from(nodes[0].increment());
    for (const n of nodes.slice(1)) {
      const wi = n.increment();
      for (let i = 0; i < w.length; i++) w[i] += wi[i];
    }
    return w;
  }
}

/**
 * k-diffusion's BrownianTreeNoiseSampler as A1111 builds it: one tree per image, seeded with the image's seed,
 * over [smallest positive sigma, largest sigma]; noise(sigma, sigmaNext) is the increment between them over
 * the square root of their distance, a standard normal draw shared across steps by the tree.
 */
export class BrownianNoise {
  readonly #trees: BrownianTree[];

  constructor(sigmaMin: number, sigmaMax: number, seeds: readonly number[], readonly perImage: number) {
    this.#trees = seeds.map((s) => new BrownianTree(sigmaMin, sigmaMax, s, perImage));
  }

  sample(sigma: number, sigmaNext: number): Float32Array {
    const [lo, hi, sign] = sigma < sigmaNext ? [sigma, sigmaNext, 1] : [sigmaNext, sigma, -1];
    const denom = f(Math.sqrt(Math.abs(f(f(sigmaNext) - f(sigma)))));
    const out = new Float32Array(this.#trees.length * this.perImage);
    this.#trees.forEach((tree, k) => {
      const w = tree.increment(lo, hi);
      for (let i = 0; i < w.length; i++) out[k * this.perImage + i] = (sign * w[i]) / denom;
    });
    return out;
  }
}

// torch.randn on a seeded CPU generator, reproduced bit for bit.
import { randn, TorchGenerator } from "../../../lib/diffusion/torch_rng.ts";
import { readRef, refs } from "../../fixtures.ts";

function assertSameBits(actual: Float32Array, expected: ArrayLike<number>, what: string) {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: length ${actual.length} != ${expected.length}`);
  }
  const want = Float32Array.from(expected);
  for (let i = 0; i < want.length; i++) {
    if (actual[i] !== want[i]) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, torch gives ${want[i]}`);
    }
  }
}

for (const c of refs().noise) {
  Deno.test(`randn seed ${c.seed} shape [${c.shape}] equals torch bit for bit`, () => {
    assertSameBits(randn(c.shape, c.seed), readRef(c.values), `seed ${c.seed} [${c.shape}]`);
  });
}

Deno.test("mt19937 stream matches the C++ standard's reference value", () => {
  // std::mt19937 with its default seed 5489: the 10000th output is 4123659995 ([rand.predef]).
  const g = new TorchGenerator(5489);
  let v = 0;
  for (let i = 0; i < 10000; i++) v = g.nextUint32();
  if (v !== 4123659995) throw new Error(`10000th draw ${v}`);
});

Deno.test("consecutive draws on one generator follow torch, including the cached scalar normal", () => {
  // torch 2.9.1: g = torch.Generator().manual_seed(7); randn(3), randn(17), randn(2). The last call starts
  // with the value the first call cached, across the float path of the second.
  const g = new TorchGenerator(7);
  assertSameBits(g.randn([3]), [-0.1467950940132141, 0.7861412763595581, 0.9468216300010681], "randn(3)");
  assertSameBits(
    g.randn([17]),
    [
      -0.17643792927265167,
      -1.2169294357299805,
      -0.08102158457040787,
      1.3614851236343384,
      -1.3032166957855225,
      0.08747837692499161,
      -1.3849613666534424,
      0.5035638809204102,
      -0.08352822810411453,
      -0.5640066862106323,
      -2.056462526321411,
      -0.35672253370285034,
      1.0955804586410522,
      0.48235416412353516,
      1.3989183902740479,
      1.4058529138565063,
      -1.4012508392333984,
    ],
    "randn(17)",
  );
  assertSameBits(g.randn([2]), [-1.1143440008163452, 1.0841875076293945], "randn(2)");
});

Deno.test("manualSeed resets the stream and the cache; clone forks it", () => {
  const g = new TorchGenerator(3);
  g.randn([1]); // leaves a cached value
  const fork = g.clone();
  const a = g.randn([1, 4, 8, 8]);
  assertSameBits(fork.randn([1, 4, 8, 8]), a, "clone");
  g.manualSeed(3);
  assertSameBits(g.randn([5]), randn([5], 3), "reseeded");
  if (g.initialSeed() !== 3n) throw new Error("initialSeed");
});

Deno.test("seeds wrap like torch: negatives modulo 2^64, only the low 32 bits seed the twister", () => {
  assertSameBits(randn([20], -1), randn([20], 2n ** 64n - 1n), "-1 vs 2^64-1");
  assertSameBits(randn([20], 2n ** 32n + 9n), randn([20], 9), "2^32+9 vs 9");
  if (new TorchGenerator(-1).initialSeed() !== 2n ** 64n - 1n) throw new Error("initialSeed of -1");
});

Deno.test("bad seeds and shapes are refused with a reason", () => {
  for (const bad of [1.5, NaN, 2 ** 60]) {
    let msg = "";
    try {
      new TorchGenerator(bad);
    } catch (e) {
      msg = (e as Error).message;
    }
    if (!/seed/.test(msg)) throw new Error(`seed ${bad} accepted`);
  }
  let msg = "";
  try {
    randn([2, -1], 0);
  } catch (e) {
    msg = (e as Error).message;
  }
  if (!/shape/.test(msg)) throw new Error("negative dimension accepted");
  if (randn([0, 4], 0).length !== 0) throw new Error("empty shape");
});

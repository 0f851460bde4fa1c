// numpy.random.SeedSequence's generate_state, against numpy 2.3's output for the same arguments.
import { SeedSequence } from "../../../../lib/diffusion/samplers/seed_sequence.ts";

Deno.test("SeedSequence.generateState equals numpy's for plain, spawned and multi-word entropy", () => {
  const cases: Array<[number | bigint, number[], number, number, number[]]> = [
    [1234, [], 24, 3, [4280268349, 3829106894, 2675148735]],
    [1234, [1, 1], 24, 4, [4194980149, 1264809205, 984632582, 4110760162]],
    [5n + (1n << 40n), [3, 2], 24, 4, [1871255777, 2879413523, 1352781655, 4038398907]],
    [0, [], 4, 5, [2968811710, 3677149159, 745650761, 2884920346, 2642120001]],
  ];
  for (const [entropy, key, pool, n, want] of cases) {
    const got = new SeedSequence(entropy, key, pool).generateState(n);
    if (got.join() !== want.join()) throw new Error(`${entropy} ${key}: [${got}] != [${want}]`);
  }
});

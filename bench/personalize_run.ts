// One side of `deno task bench personalize`: this project's personalization in its own process, so its set-up
// time and peak memory are its own. Usage: personalize_run.ts TEXT_MODEL THREADS STEPS → one JSON line.
// The PyTorch side (bench/baselines/personalize.py) measures the same things the same way.
import { PartedAdam } from "../lib/personalize/parted_adam.ts";
import { TextPersonalizer } from "../lib/personalize/engine.ts";
import { processAgeS } from "./process_age.ts";

/** A prompt's ids padded to CLIP's 77 tokens; the baseline (personalize.py, IDS) uses the same. */
const stepIds = [49406, 320, 3365, 539, 320, 2183, 530, 518, 3293, 49407, ...new Array(67).fill(49407)];
/** A prompt that fills all 77 tokens (75 words and the start and end tokens): no padding to skip. */
const fullIds = [49406, ...Array.from({ length: 75 }, (_, i) => 320 + 7 * i), 49407];

const [path, threadsArg, stepsArg, cacheDir] = Deno.args;
const threads = Number(threadsArg);
const steps = Number(stepsArg);
const engine = await TextPersonalizer.load(path, {
  threads,
  ...cacheDir ? { cache: { dir: cacheDir, key: "" } } : {},
});
let seed = 1;
const e = Float32Array.from(
  { length: engine.info.embedDim },
  () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5,
);
const run = (n: number, keep?: number[], ids = stepIds) =>
  engine.personalize(ids, e, { steps: n, lr: 1e-4, keep });
// Ready = able to run the first step: imports, model load, gradient graph, sessions (torch: import,
// from_pretrained, optimizer); the first step itself is the warm-up on both sides.
await run(1);
const setup = processAgeS();

async function time(n: number, keep?: number[], ids = stepIds): Promise<number> {
  const t = performance.now();
  await run(n, keep, ids);
  return (performance.now() - t) / 1000;
}
// A run of n steps is n gradient steps plus one forward pass; the difference of two runs is the steps alone.
const one = await time(1);
const many = await time(steps + 1);
const run20 = await time(20);
const sweep = await time(20, [0, 2, 5, 10, 20]);
const oneFull = await time(1, undefined, fullIds);
const manyFull = await time(steps + 1, undefined, fullIds);
// Peak memory of the personalization itself, before the update-alone timing below adds its own buffers.
const peakKb = Number(/VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]);

// The Adam update alone, as the engine runs it (PartedAdam, on as many threads), on as many dense weights in
// slots of a text model's sizes.
const dense = engine.info.denseParameters;
const slotSizes: number[] = [];
for (let left = dense; left > 0; left -= slotSizes.at(-1)!) slotSizes.push(Math.min(left, 768 * 3072));
const adam = new PartedAdam(slotSizes.map((size) => ({ size })), threads || navigator.hardwareConcurrency);
slotSizes.forEach((_, i) => adam.grad(i).fill(1e-3));
adam.start();
await adam.step(1e-4);
const updates: number[] = [];
for (let s = 0; s < steps; s++) {
  const t = performance.now();
  await adam.step(1e-4);
  updates.push((performance.now() - t) / 1000);
}
adam.stop();
updates.sort((a, b) => a - b);

console.log(JSON.stringify({
  setup_s: setup,
  step_s: (many - one) / steps,
  step_full_s: (manyFull - oneFull) / steps,
  // This side always runs a step on the prompt up to its padding: the same measure as step_s.
  step_prefix_s: (many - one) / steps,
  adam_s: updates[updates.length >> 1],
  run20_s: run20,
  sweep_s: sweep,
  peak_rss_mb: peakKb / 1024,
}));

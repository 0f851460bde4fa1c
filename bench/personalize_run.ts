// One measured personalization run in its own process, so its peak memory is its own.
// Usage: personalize_run.ts TEXT_MODEL THREADS STEPS → one JSON line.
import { TextPersonalizer } from "../lib/personalize/engine.ts";

const [path, threadsArg, stepsArg] = Deno.args;
const threads = Number(threadsArg);
const steps = Number(stepsArg);
const engine = await TextPersonalizer.load(path, { threads });
const ids = [49406, 320, 3365, 539, 320, 2183, 530, 518, 3293, 49407, ...new Array(67).fill(49407)];
let seed = 1;
const e = Float32Array.from(
  { length: engine.info.embedDim },
  () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5,
);

async function time(steps: number, keep?: number[]): Promise<number> {
  const t = performance.now();
  await engine.personalize(ids, e, { steps, lr: 1e-4, keep });
  return (performance.now() - t) / 1000;
}

// Interleaved repeats, best of three: other load on the machine slows single runs unevenly.
await time(1); // warm-up
const best = { one: Infinity, many: Infinity, twenty: Infinity, sweep: Infinity };
for (let r = 0; r < 3; r++) {
  best.one = Math.min(best.one, await time(1));
  best.many = Math.min(best.many, await time(steps + 1));
  best.twenty = Math.min(best.twenty, await time(20));
  best.sweep = Math.min(best.sweep, await time(20, [0, 2, 5, 10, 20]));
}
const status = Deno.readTextFileSync("/proc/self/status");
const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)![1]);
console.log(JSON.stringify({
  per_step_s: (best.many - best.one) / steps,
  run20_s: best.twenty,
  sweep_0_2_5_10_20_s: best.sweep,
  peak_rss_mb: peakKb / 1024,
}));

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

await engine.personalize(ids, e, { steps: 1, lr: 1e-4 }); // warm-up
const t1 = performance.now();
await engine.personalize(ids, e, { steps: 1, lr: 1e-4 });
const oneStep = performance.now() - t1;
const t2 = performance.now();
await engine.personalize(ids, e, { steps: steps + 1, lr: 1e-4 });
const many = performance.now() - t2;
const t3 = performance.now();
await engine.personalize(ids, e, { steps: 20, lr: 1e-4 });
const twenty = performance.now() - t3;
const t4 = performance.now();
await engine.personalize(ids, e, { steps: 20, lr: 1e-4, keep: [0, 2, 5, 10, 20] });
const sweep = performance.now() - t4;
const status = Deno.readTextFileSync("/proc/self/status");
const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)![1]);
console.log(JSON.stringify({
  per_step_s: (many - oneStep) / steps / 1000,
  run20_s: twenty / 1000,
  sweep_0_2_5_10_20_s: sweep / 1000,
  peak_rss_mb: peakKb / 1024,
}));

// One measured txt2img run in its own process: wall time, time inside onnxruntime's calls, UNet step times.
// Usage: txt2img_run.ts MODEL_DIR THREADS STEPS SIZE → one JSON line.
import * as ort from "onnxruntime-node";
import { generate } from "../lib/diffusion/pipeline.ts";
import { SdModel } from "../lib/diffusion/sd_model.ts";
import { processAgeS } from "./process_age.ts";

const [dir, threadsArg, stepsArg, sizeArg] = Deno.args;
const steps = Number(stepsArg);
const size = Number(sizeArg);

// Every session's run goes through this prototype: time spent inside onnxruntime, and the UNet's calls.
let inOrt = 0;
const unetTimes: number[] = [];
const proto =
  (ort.InferenceSession as unknown as { prototype: { run: (...a: unknown[]) => Promise<unknown> } })
    .prototype;
const run = proto.run;
proto.run = async function (this: ort.InferenceSession, ...args: unknown[]) {
  const t = performance.now();
  try {
    return await run.apply(this, args);
  } finally {
    const dt = performance.now() - t;
    inOrt += dt;
    if (this.inputNames.includes("encoder_hidden_states")) unetTimes.push(dt);
  }
};

const model = await SdModel.open(dir, { session: { threads: Number(threadsArg) } });
inOrt = 0;
unetTimes.length = 0;
const t0 = performance.now();
await generate(model, {
  prompt: "a photograph of a lighthouse at dusk",
  sampler: "Euler",
  steps,
  cfgScale: 7.5,
  width: size,
  height: size,
  seed: 1,
});
const wall = performance.now() - t0;
// The first UNet call also sets up onnxruntime's buffers; the rest are the steady-state step time.
const steady = unetTimes.slice(1).sort((a, b) => a - b);
console.log(JSON.stringify({
  wall_s: wall / 1000,
  ort_s: inOrt / 1000,
  outside_fraction: (wall - inOrt) / wall,
  unet_step_s: steady[Math.floor(steady.length / 2)] / 1000,
  process_s: processAgeS(),
  steps,
}));

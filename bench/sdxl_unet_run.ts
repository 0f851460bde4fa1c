// One measured run of the SDXL UNet in its own process, as the pipeline calls it: the graph opened by the
// pipeline's loader (unet_resize.ts), one UnetBatch of one image with classifier-free guidance (batch 2), fixed
// seeded inputs (the baseline draws the same ones). Usage: sdxl_unet_run.ts UNET_DIR THREADS CALLS SIZE → one
// JSON line: the median call after the first (the first also sets up onnxruntime's buffers), the first call,
// the load, the process's age and peak memory.
import { join } from "node:path";
import { unetIO } from "../lib/diffusion/sd_model.ts";
import { UnetBatch } from "../lib/diffusion/unet.ts";
import { openUnet } from "../lib/diffusion/unet_resize.ts";
import { TorchGenerator } from "../lib/diffusion/torch_rng.ts";
import { processAgeS } from "./process_age.ts";

const [dir, threadsArg, callsArg, sizeArg] = Deno.args;
const calls = Number(callsArg);
const size = Number(sizeArg);
const config = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));

const t0 = performance.now();
const { session } = await openUnet(join(dir, "model.onnx"), { threads: Number(threadsArg) });
const io = unetIO(session, "unet/model.onnx");
const loadS = (performance.now() - t0) / 1000;

// The inputs the baseline draws too: torch.randn on a CPU generator seeded with 0, in this order.
const g = new TorchGenerator(0);
const hidden = config.cross_attention_dim;
const pooledWidth = io.added!.pooledWidth;
const latent = [4, size / 8, size / 8] as const;
const x = g.randn([1, ...latent]);
const cond = g.randn([1, 77, hidden]);
const uncond = g.randn([1, 77, hidden]);
const pooledCond = g.randn([1, pooledWidth]);
const pooledUncond = g.randn([1, pooledWidth]);
const prompts = { cond, uncond, tokens: 77, hidden, pooledCond, pooledUncond };
const unet = new UnetBatch({ unet: session, unetIO: io, vaeScaleFactor: 8 }, 1, latent, prompts, 7.5);

const times: number[] = [];
let checksum = 0;
for (let i = 0; i < calls; i++) {
  const t = performance.now();
  const [out] = await unet.predict([x], 999 - 50 * i);
  times.push((performance.now() - t) / 1000);
  checksum = out.reduce((s, v) => s + Math.abs(v), 0) / out.length;
}
const steady = times.slice(1).sort((a, b) => a - b);
const peakKb = Number(/VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]);
console.log(JSON.stringify({
  unet_step_s: steady[Math.floor(steady.length / 2)],
  first_call_s: times[0],
  load_s: loadS,
  process_s: processAgeS(),
  peak_rss_mb: peakKb / 1024,
  mean_abs_output: checksum,
  calls,
}));

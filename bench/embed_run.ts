// One side of `deno task bench embed`: this project's embedding maker in its own process.
// Usage: embed_run.ts CLIP_DIR SRC_DIR BATCH → one JSON line. Timed the same way as bench/baselines/embed.py:
// steady throughput from the end of the first batch (model loaded, caches warm) to the end, and the whole
// process from its start (runtime, imports, model load, every image).
import { makeEmbedding } from "../lib/embed/make_embedding.ts";
import { processAgeS } from "./process_age.ts";

const [clipDir, src, batch] = Deno.args;
let first: { t: number; done: number } | undefined;
const result = await makeEmbedding({
  src,
  clipDir,
  batchSize: Number(batch),
  onProgress: (p) => first ??= { t: performance.now(), done: p.used },
});
const steady = (performance.now() - first!.t) / 1000;
const peakKb = Number(/VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]);
console.log(JSON.stringify({
  images: result.used,
  images_per_s: (result.used - first!.done) / steady,
  process_s: processAgeS(),
  peak_rss_mb: peakKb / 1024,
}));

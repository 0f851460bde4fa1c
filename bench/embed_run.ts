// One measured embedding run in its own process. Usage: embed_run.ts CLIP_DIR SRC_DIR BATCH → one JSON line.
import { makeEmbedding } from "../lib/embed/make_embedding.ts";

const [clipDir, src, batch] = Deno.args;
const t = performance.now();
const result = await makeEmbedding({ src, clipDir, batchSize: Number(batch) });
const seconds = (performance.now() - t) / 1000;
const peakKb = Number(/VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]);
console.log(
  JSON.stringify({
    images: result.used,
    seconds,
    images_per_s: result.used / seconds,
    peak_rss_mb: peakKb / 1024,
  }),
);

// deno task bench <name>: side-by-side benchmarks against the PyTorch baselines on the same weights, in one run.
// Bench-size random models come from `deno task fixtures --bench DIR` (BENCH_DIR, default .bench-cache/).
// The baselines need the fixture generator's Python venv (tests/fixtures/.venv, or FIXTURES_VENV).
import { join } from "node:path";
import { existsSync } from "node:fs";
import { cell, interleaved, median, range, ratios, table } from "./stats.ts";
import { importReport, importRounds } from "./import_bench.ts";
import { runJson } from "./run_json.ts";
import { queueBench } from "./queue.ts";

const root = join(import.meta.dirname!, "..");
const benchDir = Deno.env.get("BENCH_DIR") ?? join(root, ".bench-cache");
const venv = Deno.env.get("FIXTURES_VENV") ?? join(root, "tests", "fixtures", ".venv");
const threads = Number(Deno.env.get("BENCH_THREADS") ?? navigator.hardwareConcurrency);
const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 3);
// The embed task's V8 flags (deno.json): a 1 MB young generation per isolate instead of up to 16 MB, so the
// main thread and the decoding worker do not keep growing their nurseries while thousands of images go by.
const EMBED_V8_FLAGS = "--v8-flags=--max-semi-space-size=1";

const json = runJson;

async function personalize(): Promise<void> {
  const clip = join(benchDir, "clip-vit-large-patch14");
  const model = join(clip, "onnx", "text_model.onnx");
  if (!existsSync(model)) {
    throw new Error(
      `${model} is missing: run \`deno task fixtures --bench ${benchDir} --bench-parts clip\` first`,
    );
  }
  const steps = 5;
  const env = { OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const py = join(venv, "bin", "python");
  const script = join(root, "bench", "baselines", "personalize.py");
  const args = () => [String(threads), String(steps)];
  // The app keeps its personalization graphs in a cache (graph_cache.ts): one cold run fills it, and the
  // rounds then start as a restarted app does.
  const cache = await Deno.makeTempDir({ prefix: "bench_graphs_" });
  const run = join(root, "bench", "personalize_run.ts");
  const cold = await json(Deno.execPath(), ["run", "-A", run, model, ...args(), cache]);
  const sides = {
    ours: () => json(Deno.execPath(), ["run", "-A", run, model, ...args(), cache]),
    fused: () => json(py, [script, `${clip}-torch`, "fused", ...args()], env),
    default: () => json(py, [script, `${clip}-torch`, "default", ...args()], env),
  };
  const runs = await interleaved(sides, rounds); // each side in its own process
  const col = (side: keyof typeof sides, key: string) =>
    runs[side].map((r) =>
      key === "fwd_bwd_s" ? r.step_s - r.adam_s : key === "fwd_bwd_full_s" ? r.step_full_s - r.adam_s : r[key]
    );
  const row = (name: string, key: string, digits: number, target: string) => {
    const [o, f, d] = [col("ours", key), col("fused", key), col("default", key)];
    return [
      name,
      cell(o, digits),
      cell(f, digits),
      cell(d, digits),
      cell(ratios(o, f), 2),
      cell(ratios(o, d), 2),
      target,
    ];
  };
  console.log(
    `personalize: CLIP ViT-L/14 text model (random weights), ${threads} threads, ${steps} measured steps, ` +
      `${rounds} interleaved rounds; median (min–max); ratios per round`,
  );
  console.log(table(
    [
      "measure",
      "aesthetic-gradients",
      "PyTorch, fused Adam",
      "PyTorch, default Adam (paper's loop)",
      "ratio vs fused",
      "ratio vs default",
      "target vs fused",
    ],
    [
      row("time per step (s), 8-word prompt", "step_s", 3, "≤ 1.00"),
      row("time per step (s), 8-word prompt, PyTorch also given only its 10 tokens", "step_prefix_s", 3, ""),
      row("time per step (s), 75-word prompt (all 77 tokens)", "step_full_s", 3, "≤ 1.00"),
      row("Adam update (s)", "adam_s", 3, "≤ 1.00"),
      row("forward + backward (s), 8-word prompt", "fwd_bwd_s", 3, "≤ 1.10"),
      row("forward + backward (s), 75-word prompt", "fwd_bwd_full_s", 3, "≤ 1.10"),
      row("ready after the first step (s), graphs cached", "setup_s", 2, "≤ 1.00"),
      row("peak memory (MB)", "peak_rss_mb", 0, "≤ 1.00"),
    ],
  ));
  await Deno.remove(cache, { recursive: true });
  console.log(
    `\nready after the first step with an empty graph cache (the first start on a machine): ` +
      `${cold.setup_s.toFixed(2)} s`,
  );
  const sweep = ratios(col("ours", "sweep_s"), col("ours", "run20_s"));
  console.log(
    `\n0/2/5/10/20 sweep kept from one 20-step run, over a plain 20-step run (this project alone): ` +
      `${cell(sweep, 2)} (target ≤ 1.10)`,
  );
}

/** Synthetic photos: smooth gradients with noise, so JPEG decoding does real work. */
async function writeJpegs(dir: string, count: number, size: number): Promise<void> {
  const { default: sharp } = await import("sharp");
  await Deno.mkdir(dir, { recursive: true });
  let seed = 7;
  for (let i = 0; i < count; i++) {
    const px = new Uint8Array(size * size * 3);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        const o = (y * size + x) * 3;
        px[o] = (x + i * 7) & 255;
        px[o + 1] = (y * 2 + (seed & 15)) & 255;
        px[o + 2] = ((x ^ y) + i) & 255;
      }
    }
    await sharp(px, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 90 })
      .toFile(join(dir, `img_${String(i).padStart(5, "0")}.jpg`));
  }
}

async function embed(): Promise<void> {
  const clip = join(benchDir, "clip-vit-large-patch14");
  if (!existsSync(join(clip, "onnx", "vision_model.onnx"))) {
    throw new Error(
      `${clip}/onnx/vision_model.onnx is missing: run \`deno task fixtures --bench ${benchDir} --bench-parts clip\``,
    );
  }
  const work = await Deno.makeTempDir({ prefix: "bench_embed_" });
  try {
    const photos = join(work, "photos");
    await writeJpegs(photos, 128, 512);
    const run = join(root, "bench", "embed_run.ts");
    const py = join(venv, "bin", "python");
    const env = { OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
    const script = join(root, "bench", "baselines", "embed.py");
    const sides = {
      ours: () => json(Deno.execPath(), ["run", "-A", EMBED_V8_FLAGS, run, clip, photos, "32"]),
      micro: () => json(py, [script, `${clip}-torch`, photos, String(threads), "32", "4"], env),
      whole: () => json(py, [script, `${clip}-torch`, photos, String(threads), "32", "32"], env),
    };
    const runs = await interleaved(sides, rounds);
    const col = (side: keyof typeof sides, key: string) => runs[side].map((r) => r[key]);
    const row = (name: string, key: string, digits: number, target: string) => {
      const [o, m, w] = [col("ours", key), col("micro", key), col("whole", key)];
      return [name, cell(o, digits), cell(m, digits), cell(w, digits), cell(ratios(o, m), 2), target];
    };
    console.log(
      `embed: CLIP ViT-L/14 vision model (random weights), 128 JPEGs of 512×512, batches of 32 decoded, ` +
        `${threads} threads, ${rounds} interleaved rounds; median (min–max); ratios per round`,
    );
    console.log(table(
      [
        "measure",
        "aesthetic-gradients (4 images per call)",
        "transformers, 4 images per call",
        "transformers, 32 per call",
        "ratio vs 4 per call",
        "target",
      ],
      [
        row("images/s after the first batch", "images_per_s", 2, "≥ 1.00"),
        row("whole process, start to embedding (s)", "process_s", 1, ""),
      ],
    ));

    // Memory must not grow with the number of images: the tiny model over 100 and 2000 images. One process's
    // peak varies by a megabyte or two from run to run, so five interleaved rounds, median and range.
    const tiny = join(root, "tests", "fixtures", "models", "tiny-sd1-clip");
    const small = join(work, "small");
    await writeJpegs(small, 2000, 128);
    const hundred = join(work, "hundred");
    await Deno.mkdir(hundred);
    for (let i = 0; i < 100; i++) {
      const name = `img_${String(i).padStart(5, "0")}.jpg`;
      await Deno.link(join(small, name), join(hundred, name));
    }
    const peaks: Record<string, number[]> = { hundred: [], small: [] };
    for (let round = 0; round < 5; round++) {
      for (const [key, dir] of [["hundred", hundred], ["small", small]]) {
        const m = await json(Deno.execPath(), ["run", "-A", EMBED_V8_FLAGS, run, tiny, dir, "32"]);
        peaks[key].push(m.peak_rss_mb);
      }
    }
    console.log();
    console.log("peak memory (RSS), tiny CLIP model, 128×128 JPEGs, batch 32, five interleaved runs each");
    console.log("| images | median (MB) | range (MB) |");
    console.log("| --- | --- | --- |");
    console.log(`| 100 | ${median(peaks.hundred).toFixed(1)} | ${range(peaks.hundred, 1)} |`);
    console.log(`| 2000 | ${median(peaks.small).toFixed(1)} | ${range(peaks.small, 1)} |`);
    console.log(
      `ratio 2000 / 100: ${(median(peaks.small) / median(peaks.hundred)).toFixed(3)} (target ≈ 1.00)`,
    );

    // Real photos are large: a 2400×2400 JPEG decodes to 17 MB. Each decoded image is freed as soon as it is
    // preprocessed, so the peak stays near the small-image one; transformers holds a batch of 32 decoded.
    const large = join(work, "large");
    await writeJpegs(large, 48, 2400);
    const big = await json(Deno.execPath(), ["run", "-A", EMBED_V8_FLAGS, run, tiny, large, "32"]);
    const bigTheirs = await json(py, [script, `${tiny}-torch`, large, String(threads), "32", "32"], env);
    console.log();
    console.log("peak memory (RSS), tiny CLIP model, 48 JPEGs of 2400×2400, batch 32");
    console.log("| aesthetic-gradients (MB) | transformers (PyTorch) (MB) | ratio |");
    console.log("| --- | --- | --- |");
    console.log(
      `| ${big.peak_rss_mb.toFixed(0)} | ${bigTheirs.peak_rss_mb.toFixed(0)} | ${
        (big.peak_rss_mb / bigTheirs.peak_rss_mb).toFixed(2)
      } |`,
    );
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/**
 * This project's run script (bench/…) against a diffusers baseline (bench/baselines/…), each in its own process,
 * interleaved; `row` gives a table row of one measure: both sides and the per-round ratio.
 */
async function versusDiffusers(ours: string[], baseline: string[], env: Record<string, string>) {
  const [script, ...args] = ours;
  const [pyScript, ...pyArgs] = baseline;
  const sides = {
    ours: () => json(Deno.execPath(), ["run", "-A", join(root, "bench", script), ...args]),
    diffusers: () =>
      json(join(venv, "bin", "python"), [join(root, "bench", "baselines", pyScript), ...pyArgs], env),
  };
  const runs = await interleaved(sides, rounds);
  const col = (side: keyof typeof sides, key: string) => runs[side].map((r) => r[key]);
  const row = (name: string, key: string, digits: number, target: string) => {
    const [o, d] = [col("ours", key), col("diffusers", key)];
    return [name, cell(o, digits), cell(d, digits), cell(ratios(o, d), 2), target];
  };
  return { row, col };
}

async function txt2img(): Promise<void> {
  const model = join(benchDir, "sd15");
  if (!existsSync(join(model, "unet", "model.onnx"))) {
    throw new Error(`${model} is missing: run \`deno task fixtures --bench ${benchDir} --bench-parts sd15\``);
  }
  const steps = Number(Deno.env.get("BENCH_STEPS") ?? 5);
  const size = Number(Deno.env.get("BENCH_SIZE") ?? 512);
  const env = { OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const args = [String(threads), String(steps), String(size)];
  const { row, col } = await versusDiffusers(
    ["txt2img_run.ts", model, ...args],
    ["txt2img.py", `${model}-torch`, ...args],
    env,
  );
  console.log(
    `txt2img: SD 1.5 UNet and VAE (random weights), ${size}×${size}, Euler, ${steps} steps, CFG 7.5, ` +
      `${threads} threads, ${rounds} interleaved rounds; median (min–max); ratios per round`,
  );
  console.log(table(
    ["measure", "aesthetic-gradients (ONNX Runtime)", "diffusers (PyTorch eager)", "ratio", "target"],
    [
      row("UNet step (s, batch 2 for CFG)", "unet_step_s", 2, "≤ 1.00"),
      row("generation, loaded model (s)", "wall_s", 1, ""),
      row("whole process, start to image (s)", "process_s", 1, ""),
    ],
  ));
  const outside = col("ours", "outside_fraction").map((x) => 100 * x);
  console.log(`\ntime outside onnxruntime's calls: ${cell(outside, 2)} % of generation (target < 3 %)`);
}

/**
 * The single-file import at real size: SD 1.5 with random fp16 weights in the original LDM layout (2.13 GB,
 * written once into BENCH_DIR by tests/fixtures/fx_single_file.py --bench, then reused).
 */
async function importBench(): Promise<void> {
  const file = join(benchDir, "sd15-random-fp16.safetensors");
  if (!existsSync(file)) {
    console.error(`writing ${file} (once; reused from BENCH_DIR afterwards)`);
    const py = join(venv, "bin", "python");
    if (!existsSync(py)) {
      throw new Error(
        `${file} is missing and no Python to write it at ${py}: set FIXTURES_VENV, or BENCH_DIR`,
      );
    }
    const out = await new Deno.Command(py, {
      args: [join(root, "tests", "fixtures", "fx_single_file.py"), "--bench", benchDir],
      stdout: "inherit",
      stderr: "inherit",
      env: { OMP_NUM_THREADS: "1", PYTHONHASHSEED: "0" },
    }).output();
    if (out.code !== 0) throw new Error(`fx_single_file.py --bench ${benchDir} failed`);
  }
  const runs = await importRounds(file, { rounds, workDir: benchDir });
  console.log(
    `import: SD 1.5 single file, random fp16 weights, original LDM layout; ${rounds} rounds, each a fresh ` +
      `process into an empty folder; median (min–max)`,
  );
  console.log(importReport(runs));
}

/**
 * SDXL's UNet step here (ONNX Runtime, the graph built by this project's importer) against diffusers' eager
 * UNet on the same real-size random weights. BENCH_SDXL_DIR (default BENCH_DIR/sdxl-unet) holds unet.safetensors
 * and config.json (`deno task fixtures --bench DIR --bench-parts sdxl`) and onnx/unet/ (bench/sdxl_unet_build.ts).
 */
async function sdxl(): Promise<void> {
  const dir = Deno.env.get("BENCH_SDXL_DIR") ?? join(benchDir, "sdxl-unet");
  const onnx = join(dir, "onnx", "unet");
  const weights = join(dir, "unet.safetensors");
  if (!existsSync(weights)) {
    throw new Error(
      `${weights} is missing: run \`deno task fixtures --bench ${benchDir} --bench-parts sdxl\``,
    );
  }
  if (!existsSync(join(onnx, "model.onnx"))) {
    throw new Error(
      `${onnx}/model.onnx is missing: run \`deno run -A bench/sdxl_unet_build.ts ${weights} ` +
        `${join(dir, "config.json")} ${join(dir, "onnx")}\``,
    );
  }
  const calls = Number(Deno.env.get("BENCH_STEPS") ?? 3);
  const size = Number(Deno.env.get("BENCH_SIZE") ?? 512);
  const env = { OMP_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  const args = [String(threads), String(calls), String(size)];
  const { row, col } = await versusDiffusers(
    ["sdxl_unet_run.ts", onnx, ...args],
    ["sdxl_unet.py", weights, join(dir, "config.json"), ...args],
    env,
  );
  console.log(
    `sdxl: SDXL UNet (random weights), ${size}×${size} (latents ${size / 8}×${
      size / 8
    }), one image with CFG ` +
      `(batch 2), ${calls} calls (the first not counted), ${threads} threads, ${rounds} interleaved rounds; ` +
      `median (min–max); ratios per round`,
  );
  console.log(table(
    ["measure", "aesthetic-gradients (ONNX Runtime)", "diffusers (PyTorch eager)", "ratio", "target"],
    [
      row("UNet step (s, batch 2 for CFG)", "unet_step_s", 2, "≤ 1.00"),
      row("first call (s)", "first_call_s", 2, ""),
      row("load (s)", "load_s", 1, ""),
      row("whole process (s)", "process_s", 1, ""),
      row("peak memory (MB)", "peak_rss_mb", 0, ""),
    ],
  ));
  // Same weights and inputs on both sides: the outputs agree (a sanity check, not a parity test).
  const [o, d] = [col("ours", "mean_abs_output"), col("diffusers", "mean_abs_output")];
  const agree = o.map((x, i) => Math.abs(x / d[i] - 1));
  console.log(`\nmean |output| relative difference between the sides: ${cell(agree, 7)}`);
}

/** The queue's cost and gain on the tiny demo (bench/queue.ts); no baseline outside this project. */
async function queue(): Promise<void> {
  const env = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);
  const o = {
    rounds,
    latencyJobs: env("BENCH_QUEUE_LATENCY_JOBS", 5),
    burstJobs: env("BENCH_QUEUE_JOBS", 12),
    steps: env("BENCH_QUEUE_STEPS", 20),
  };
  const result = await queueBench({ ...o, log: (line) => console.error(line) });
  console.log(
    `queue: tiny demo, 64×64, ${o.steps} steps, Euler; ${o.latencyJobs} jobs one at a time then ` +
      `${o.burstJobs} at once per side and round; ${rounds} interleaved rounds; median (min–max); ` +
      `differences and ratios per round`,
  );
  console.log(result.table);
}

const benches: Record<string, () => Promise<void>> = {
  personalize,
  embed,
  txt2img,
  sdxl,
  import: importBench,
  queue,
};
const name = Deno.args[0];
if (!name || !benches[name]) {
  console.error(`usage: deno task bench <${Object.keys(benches).join("|")}>`);
  Deno.exit(2);
}
await benches[name]();

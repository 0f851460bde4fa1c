// deno task bench <name>: side-by-side benchmarks against the PyTorch baselines on the same weights, in one run.
// Bench-size random models come from `deno task fixtures --bench DIR` (BENCH_DIR, default .bench-cache/).
// The baselines need the fixture generator's Python venv (tests/fixtures/.venv, or FIXTURES_VENV).
import { join } from "node:path";
import { existsSync } from "node:fs";

const root = join(import.meta.dirname!, "..");
const benchDir = Deno.env.get("BENCH_DIR") ?? join(root, ".bench-cache");
const venv = Deno.env.get("FIXTURES_VENV") ?? join(root, "tests", "fixtures", ".venv");
const threads = Number(Deno.env.get("BENCH_THREADS") ?? navigator.hardwareConcurrency);

async function json(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Record<string, number>> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "inherit", env }).output();
  if (out.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!);
}

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
  const ours = await json(Deno.execPath(), [
    "run",
    "-A",
    join(root, "bench", "personalize_run.ts"),
    model,
    String(threads),
    String(steps),
  ]);
  const paper = await json(py, [script, `${clip}-torch`, "paper", String(threads), String(steps)], env);
  const a1111 = await json(py, [script, `${clip}-torch`, "a1111", String(threads), String(steps)], env);
  const rows = [
    [
      "time per Adam step (s)",
      ours.per_step_s,
      paper.per_step_s,
      ours.per_step_s / paper.per_step_s,
      "≤ 1.25",
    ],
    [
      "peak memory (MB) vs A1111 loop",
      ours.peak_rss_mb,
      a1111.peak_rss_mb,
      ours.peak_rss_mb / a1111.peak_rss_mb,
      "≤ 1.00",
    ],
    [
      "0/2/5/10/20 sweep vs 20-step run (s)",
      ours.sweep_0_2_5_10_20_s,
      ours.run20_s,
      ours.sweep_0_2_5_10_20_s / ours.run20_s,
      "≤ 1.10",
    ],
  ];
  console.log(
    `personalize: CLIP ViT-L/14 text model (random weights), ${threads} threads, ${steps} measured steps`,
  );
  console.log("| measure | aesthetic-gradients (ONNX Runtime) | PyTorch eager | ratio | target |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const [name, a, b, r, t] of rows) {
    console.log(
      `| ${name} | ${(a as number).toFixed(3)} | ${(b as number).toFixed(3)} | ${
        (r as number).toFixed(2)
      } | ${t} |`,
    );
  }
  console.log(`(PyTorch paper loop peak memory: ${paper.peak_rss_mb.toFixed(0)} MB)`);
}

const benches: Record<string, () => Promise<void>> = { personalize };
const name = Deno.args[0];
if (!name || !benches[name]) {
  console.error(`usage: deno task bench <${Object.keys(benches).join("|")}>`);
  Deno.exit(2);
}
await benches[name]();

// Measures aesthetic personalization on a model as the paper does (issue 11): every prompt × seed × steps value
// generated with the same seed, then the image's CLIP similarity to the aesthetic and to the prompt.
//   deno task eval --embedding embeddings/pastel.pt --checker demo --out outputs/eval-pastel
import { parseArgs } from "node:util";
import { heldOutPrompts } from "./lib/demo/captions.ts";
import { formatProgress } from "./lib/embed/progress_bar.ts";
import { AestheticPredictor } from "./lib/eval/predictor.ts";
import { type EvalReport, runEval } from "./lib/eval/run.ts";
import { RequestError } from "./lib/diffusion/request.ts";
import { DEFAULT_EMBEDDING, DEFAULT_MODEL_DIR } from "./lib/models/defaults.ts";
import { DEVICE_ARG_OPTIONS, deviceFromArgs, sessionOptions } from "./lib/models/device.ts";
import { AESTHETIC_DEFAULTS } from "./lib/personalize/aesthetic.ts";

const USAGE = `Usage:
  eval.ts [--model DIR] [--clip DIR] [--embedding FILE] [--prompts FILE] [--seeds 1,2,3,4] [--steps 0,5,10,20]
          [--lr X] [--weight W] [--predictor FILE.safetensors] [--checker demo] [--out DIR] [--json]
          [--sampler NAME] [--sampling-steps N] [--cfg X] [--size N] [--device …] [--threads N]

For every prompt × seed × steps value, generates the image (the same seed for every steps value), personalizes
the prompt toward the aesthetic embedding with that many steps, and measures the CLIP cosine of the image to
the embedding and to the prompt. Writes report.json (one row per image and a summary per steps value: means
and 95 % intervals), contact_sheet.png (rows = prompt × seed, columns = steps) and chart.png into --out.

  --prompts    a text file, one prompt per line (default: the demo world's held-out prompts)
  --predictor  a LAION-style aesthetic predictor (linear or MLP head on CLIP image embeddings)
  --checker    demo: also the demo world's CLIP-free measures (object color vs the prompt, style statistics)
  --lr, --weight  personalization's learning rate (default ${AESTHETIC_DEFAULTS.lr}) and aesthetic weight (default 1)
  --size       image side (default: the model's native size)
  --out        default outputs/eval`;

class UsageError extends Error {}

function numbers(value: string, flag: string, integer: boolean, min: number): number[] {
  const out = value.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (
    out.length === 0 || out.some((n) => !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n)))
  ) {
    throw new UsageError(
      `--${flag} must be a comma-separated list of ${integer ? "whole numbers" : "numbers"} ≥ ${min}`,
    );
  }
  return out;
}

function one(
  value: string | undefined,
  flag: string,
  fallback: number,
  integer: boolean,
  min: number,
): number {
  return value === undefined ? fallback : numbers(value, flag, integer, min)[0];
}

export async function main(args: string[]): Promise<number> {
  let report: EvalReport;
  let json = false;
  try {
    const { values: v } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        model: { type: "string" },
        clip: { type: "string" },
        embedding: { type: "string" },
        prompts: { type: "string" },
        seeds: { type: "string" },
        steps: { type: "string" },
        lr: { type: "string" },
        weight: { type: "string" },
        predictor: { type: "string" },
        checker: { type: "string" },
        out: { type: "string" },
        json: { type: "boolean" },
        sampler: { type: "string" },
        "sampling-steps": { type: "string" },
        cfg: { type: "string" },
        size: { type: "string" },
        help: { type: "boolean", short: "h" },
        ...DEVICE_ARG_OPTIONS,
      },
    });
    if (v.help) {
      console.log(USAGE);
      return 0;
    }
    json = v.json ?? false;
    if (v.checker !== undefined && v.checker !== "demo") throw new UsageError("--checker must be demo");
    let prompts = heldOutPrompts();
    if (v.prompts !== undefined) {
      prompts = (await Deno.readTextFile(v.prompts)).split("\n").map((l) => l.trim()).filter(Boolean);
      if (prompts.length === 0) throw new UsageError(`--prompts ${v.prompts} has no prompts`);
    }
    const predictor = v.predictor === undefined
      ? undefined
      : await AestheticPredictor.load(v.predictor).catch((e: Error) => {
        throw new UsageError(`--predictor: ${e.message}`);
      });
    const tty = Deno.stderr.isTerminal();
    const t0 = performance.now();
    report = await runEval({
      modelDir: v.model ?? DEFAULT_MODEL_DIR,
      clipDir: v.clip,
      embeddingPath: v.embedding ?? DEFAULT_EMBEDDING,
      prompts,
      seeds: numbers(v.seeds ?? "1,2,3,4", "seeds", true, 0),
      steps: numbers(v.steps ?? "0,5,10,20", "steps", true, 0),
      lr: one(v.lr, "lr", AESTHETIC_DEFAULTS.lr, false, 0),
      weight: one(v.weight, "weight", 1, false, -Infinity),
      sampler: v.sampler ?? "DDIM",
      samplingSteps: one(v["sampling-steps"], "sampling-steps", 20, true, 1),
      cfgScale: one(v.cfg, "cfg", 7.5, false, 0),
      size: v.size === undefined ? undefined : one(v.size, "size", 0, true, 8),
      predictor,
      checker: v.checker as "demo" | undefined,
      outDir: v.out ?? "outputs/eval",
      session: sessionOptions(deviceFromArgs(v)),
      onProgress(done, total) {
        const secs = (performance.now() - t0) / 1000;
        const rate = done / Math.max(secs, 1e-9);
        const line = formatProgress({
          done,
          total,
          used: done,
          skipped: 0,
          elapsedSeconds: secs,
          imagesPerSecond: rate,
          etaSeconds: done > 0 ? (total - done) / rate : undefined,
        });
        if (tty) Deno.stderr.writeSync(new TextEncoder().encode(`\r${line}${done === total ? "\n" : ""}`));
        else if (done === total) console.error(line);
      },
    });
  } catch (e) {
    const usage = e instanceof UsageError || e instanceof RequestError ||
      (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`error: ${(e as Error).message}`);
    return usage ? 2 : 1;
  }
  if (json) console.log(JSON.stringify(report));
  else printSummary(report);
  return 0;
}

function printSummary(r: EvalReport): void {
  const keys = Object.keys(r.summary[0].measures).filter((k) => !k.startsWith("demo.style_score"));
  console.log(`${r.rows.length} images → ${r.files.report}, ${r.files.contact_sheet}, ${r.files.chart}`);
  for (const { steps, measures } of r.summary) {
    console.log(`steps ${steps}:`);
    for (const k of keys) {
      const s = measures[k];
      if (s) {
        console.log(`  ${k.padEnd(28)} ${s.mean.toFixed(4)}  [${s.low.toFixed(4)}, ${s.high.toFixed(4)}]`);
      }
    }
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));

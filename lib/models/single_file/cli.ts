// `deno task models import FILE …`: the command-line face of importSingleFile, with a progress line per stage
// and the A1111 hashes in the summary.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatBytes } from "../transfer_bar.ts";
import { CheckpointError } from "./checkpoint.ts";
import type { Prediction } from "./detect.ts";
import { importSingleFile } from "./import.ts";

export const IMPORT_USAGE =
  `  deno task models import <file.safetensors|file.ckpt|A1111 folder> [--name NAME] [--vae FILE] [--config DIR]
                        [--prediction eps|v] [--models-dir DIR] [--json]`;

const PREDICTIONS: Record<string, Prediction> = {
  eps: "epsilon",
  epsilon: "epsilon",
  v: "v_prediction",
  v_prediction: "v_prediction",
};

export async function importCommand(args: string[], modelsDirDefault: string): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      vae: { type: "string" },
      config: { type: "string" },
      prediction: { type: "string" },
      "models-dir": { type: "string" },
      json: { type: "boolean" },
    },
  });
  if (positionals.length !== 1) {
    throw new CheckpointError("import takes one checkpoint file (or a folder of them)");
  }
  const prediction = values.prediction === undefined ? undefined : PREDICTIONS[values.prediction];
  if (values.prediction !== undefined && !prediction) {
    throw new CheckpointError(`--prediction must be eps or v, not "${values.prediction}"`);
  }
  const modelsDir = values["models-dir"] ?? modelsDirDefault;
  const target = positionals[0];
  const isDir = await Deno.stat(target).then((s) => s.isDirectory, () => false);
  if (!isDir) {
    await importOne(target, { ...values, prediction, modelsDir });
    return;
  }
  // An A1111 models/Stable-diffusion folder: every checkpoint in it (its .vae.* files go with their checkpoint).
  const files: string[] = [];
  for await (const e of Deno.readDir(target)) {
    if (e.isFile && /\.(safetensors|ckpt)$/i.test(e.name) && !/\.vae\.[^.]+$/i.test(e.name)) {
      files.push(join(target, e.name));
    }
  }
  if (values.name || values.vae) {
    throw new CheckpointError("--name and --vae apply to one file, not a folder");
  }
  let failed = 0;
  for (const file of files.sort()) {
    try {
      await importOne(file, { ...values, prediction, modelsDir });
    } catch (e) {
      if (!(e instanceof CheckpointError)) throw e;
      console.error(`models: ${e.message}`);
      failed++;
    }
  }
  if (failed) {
    throw new CheckpointError(`${failed} of ${files.length} checkpoints in ${target} were not imported`);
  }
  if (!files.length) console.log(`no .safetensors or .ckpt files in ${target}`);
}

interface OneOptions {
  name?: string;
  vae?: string;
  config?: string;
  prediction?: Prediction;
  modelsDir: string;
  json?: boolean;
}

async function importOne(file: string, o: OneOptions): Promise<void> {
  const interactive = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let lastStage = "", lastDraw = 0;
  const result = await importSingleFile(file, {
    modelsDir: o.modelsDir,
    name: o.name,
    vae: o.vae,
    config: o.config,
    prediction: o.prediction,
    onProgress: (stage, done, total) => {
      const now = performance.now();
      if (stage === lastStage && now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
      const line = `${stage.padEnd(12)} ${String(pct).padStart(3)}% ${formatBytes(done)} / ${
        formatBytes(total)
      }`;
      if (interactive) Deno.stderr.writeSync(encoder.encode(`\r${line}\x1b[K${done >= total ? "\n" : ""}`));
      else if (stage !== lastStage) Deno.stderr.writeSync(encoder.encode(`${stage}…\n`));
      lastStage = stage;
    },
  });
  if (o.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const family = { sd1: "SD 1.x", sd2: "SD 2.x", sdxl: "SDXL" }[result.family];
  const kind = `${family}${result.inpainting ? " inpainting" : ""}`;
  console.log(
    `${
      result.cached ? "already imported" : "imported"
    } ${kind} (${result.prediction}, from ${result.predictionSource}) ` +
      `→ ${result.path}\nhash [${result.hashes.shortHash}] (sha256 ${result.hashes.sha256}), ` +
      `old model hash ${result.hashes.legacyHash}`,
  );
}

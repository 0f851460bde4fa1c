// `deno task models import FILE …`: the command-line face of importSingleFile, with a progress line per stage
// and the A1111 hashes in the summary.
import { parseArgs } from "node:util";
import { formatBytes } from "../transfer_bar.ts";
import { CheckpointError } from "./checkpoint.ts";
import type { Prediction } from "./detect.ts";
import { importSingleFile } from "./import.ts";

export const IMPORT_USAGE =
  `  deno task models import <file.safetensors|file.ckpt> [--name NAME] [--vae FILE] [--config DIR]
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
  if (positionals.length !== 1) throw new CheckpointError("import takes one checkpoint file");
  const prediction = values.prediction === undefined ? undefined : PREDICTIONS[values.prediction];
  if (values.prediction !== undefined && !prediction) {
    throw new CheckpointError(`--prediction must be eps or v, not "${values.prediction}"`);
  }
  const interactive = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let lastStage = "", lastDraw = 0;
  const result = await importSingleFile(positionals[0], {
    modelsDir: values["models-dir"] ?? modelsDirDefault,
    name: values.name,
    vae: values.vae,
    config: values.config,
    prediction,
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
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const kind = `${result.family === "sd1" ? "SD 1.x" : "SD 2.x"}${result.inpainting ? " inpainting" : ""}`;
  console.log(
    `${
      result.cached ? "already imported" : "imported"
    } ${kind} (${result.prediction}, from ${result.predictionSource}) ` +
      `→ ${result.path}\nhash [${result.hashes.shortHash}] (sha256 ${result.hashes.sha256}), ` +
      `old model hash ${result.hashes.legacyHash}`,
  );
}

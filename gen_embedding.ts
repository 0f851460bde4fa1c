// Makes an aesthetic embedding from a folder of images, or describes an embedding file (--inspect).
//   deno task embed --src ~/pictures/sunsets --name sunsets
//   deno task embed --inspect embeddings/sunsets.pt --json
import { basename, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  blendEmbeddings,
  type EmbeddingFormat,
  embeddingNorm,
  listEmbeddings,
  readEmbedding,
  writeEmbedding,
} from "./lib/io/embedding.ts";
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_CLIP_DIR,
  NoImagesError,
  type Progress,
  type SkippedImage,
} from "./lib/embed/make_embedding.ts";
import { formatDuration, formatProgress } from "./lib/embed/progress_bar.ts";
import { embeddingTarget, saveEmbedding } from "./lib/embed/save_embedding.ts";
import { InputError } from "./lib/io/input_error.ts";
import { EMBEDDINGS_DIR } from "./lib/models/defaults.ts";
import { DEVICE_ARG_OPTIONS, deviceFromArgs, sessionOptions } from "./lib/models/device.ts";
import type { SessionOptions } from "./lib/onnx/session.ts";

/** The folder the WebUI lists embeddings from. */
export const DEFAULT_OUT_DIR = EMBEDDINGS_DIR;

const USAGE = `Usage:
  gen_embedding.ts --src DIR [--name NAME] [--out-dir DIR] [--clip DIR] [--batch-size N]
                   [--format pt|safetensors] [--overwrite]
  gen_embedding.ts --inspect FILE [--json]
  gen_embedding.ts --blend FILE:WEIGHT,FILE:WEIGHT[,…] --name NAME [--out-dir DIR] [--format …] [--overwrite]
  gen_embedding.ts --list [--out-dir DIR] [--json]

Averages the CLIP image embeddings of every image under --src (recursively) into an aesthetic embedding,
saved unnormalized with shape (1, D) as <out-dir>/<name>.<format>.

  --src DIR          folder of images (jpg, png, webp, gif, tiff, avif, heic)
  --name NAME        embedding name (default: the folder's name)
  --out-dir DIR      where to write (default: ${DEFAULT_OUT_DIR})
  --clip DIR         CLIP model folder, transformers.js layout (default: ${DEFAULT_CLIP_DIR})
  --batch-size N     images per inference batch (default: ${DEFAULT_BATCH_SIZE})
  --format FMT       pt (default, as the A1111 extension saves) or safetensors (also stores metadata)
  --overwrite        replace an existing embedding of that name
  --device D         cpu (default), cuda, coreml or dml (falls back to the CPU when unavailable)
  --threads N        onnxruntime threads (default: one per core)
  --inspect FILE     describe an embedding file (shape, dtype, norm, format, metadata)
  --blend LIST       write the weighted sum of embeddings (e.g. sunsets.pt:0.7,sac_8plus.pt:0.3)
  --list             list the embeddings in --out-dir
  --json             with --inspect or --list: print JSON
`;

class UsageError extends Error {}

export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        src: { type: "string" },
        name: { type: "string" },
        "out-dir": { type: "string" },
        clip: { type: "string" },
        "batch-size": { type: "string" },
        format: { type: "string" },
        overwrite: { type: "boolean" },
        inspect: { type: "string" },
        blend: { type: "string" },
        list: { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        ...DEVICE_ARG_OPTIONS,
      },
    });
  } catch (e) {
    return usageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  try {
    if (v.inspect !== undefined) {
      if (v.src !== undefined) throw new UsageError("--inspect and --src cannot be combined");
      await inspect(v.inspect, v.json ?? false);
      return 0;
    }
    if (v.list) {
      await list(v["out-dir"] ?? DEFAULT_OUT_DIR, v.json ?? false);
      return 0;
    }
    if (v.json) throw new UsageError("--json only applies to --inspect and --list");
    if (v.blend !== undefined) {
      if (v.src !== undefined) throw new UsageError("--blend and --src cannot be combined");
      if (v.name === undefined) throw new UsageError("--blend needs --name for the new embedding");
      await blend(
        v.blend,
        v.name,
        v["out-dir"] ?? DEFAULT_OUT_DIR,
        parseFormat(v.format),
        v.overwrite ?? false,
      );
      return 0;
    }
    if (v.src === undefined) throw new UsageError("--src DIR is required (or --inspect FILE)");
    await generate({
      src: v.src,
      name: v.name ?? basename(resolve(v.src)),
      outDir: v["out-dir"] ?? DEFAULT_OUT_DIR,
      clipDir: v.clip ?? DEFAULT_CLIP_DIR,
      batchSize: parseBatchSize(v["batch-size"]),
      format: parseFormat(v.format),
      overwrite: v.overwrite ?? false,
      session: sessionOptions(deviceFromArgs(v)),
    });
    return 0;
  } catch (e) {
    if (e instanceof UsageError) return usageError(e.message);
    if (e instanceof InputError) {
      console.error(`error: ${e.message}`);
      return 2;
    }
    console.error(`error: ${(e as Error).message}`);
    if (e instanceof NoImagesError) printSkipped(e.skipped, console.error);
    return 1;
  }
}

function usageError(message: string): number {
  console.error(`error: ${message}\n\n${USAGE}`);
  return 2;
}

function parseBatchSize(s: string | undefined): number {
  if (s === undefined) return DEFAULT_BATCH_SIZE;
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1) {
    throw new UsageError(`--batch-size must be a positive integer, got ${JSON.stringify(s)}`);
  }
  return n;
}

function parseFormat(s: string | undefined): EmbeddingFormat | undefined {
  if (s === undefined) return undefined;
  if (s !== "pt" && s !== "safetensors") throw new UsageError(`--format must be pt or safetensors, got ${s}`);
  return s;
}

interface GenerateOptions {
  src: string;
  name: string;
  outDir: string;
  clipDir: string;
  batchSize: number;
  format?: EmbeddingFormat;
  overwrite: boolean;
  session: SessionOptions;
}

async function generate(o: GenerateOptions): Promise<void> {
  // Refuse a bad name or an existing file up front rather than after minutes of work.
  const target = embeddingTarget({ ...o, overwriteHint: "pass --overwrite" });
  const progress = progressPrinter();
  const result = await saveEmbedding(target, {
    src: o.src,
    clipDir: o.clipDir,
    batchSize: o.batchSize,
    session: o.session,
    overwrite: o.overwrite,
    onProgress: progress.update,
  });
  progress.finish();
  let sq = 0;
  for (const x of result.embedding) sq += x * x;
  console.log(`Used ${result.used} image${result.used === 1 ? "" : "s"} (CLIP model ${result.clipDir}).`);
  printSkipped(result.skipped, console.log);
  console.log(`Wrote ${target.path}: shape [1, ${result.dim}], float32, norm ${Math.sqrt(sq).toFixed(6)}`);
}

function printSkipped(skipped: SkippedImage[], print: (s: string) => void): void {
  if (skipped.length === 0) return;
  print(`Skipped ${skipped.length} file${skipped.length === 1 ? "" : "s"}:`);
  for (const s of skipped) print(`  ${s.path}: skipped: ${s.skip.message}`);
}

/** Redraws one line on a terminal; elsewhere (logs, pipes) prints a line at most every 2 s, and the last one. */
function progressPrinter(): { update: (p: Progress) => void; finish: () => void } {
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  let last: Progress | undefined;
  let printed: Progress | undefined;
  let printedAt = -Infinity;
  const print = (p: Progress) => {
    const line = `${formatProgress(p)}  elapsed ${formatDuration(p.elapsedSeconds)}`;
    Deno.stderr.writeSync(enc.encode(tty ? `\r${line}\x1b[K` : `${line}\n`));
    printed = p;
    printedAt = performance.now();
  };
  return {
    update(p) {
      last = p;
      if (tty || performance.now() - printedAt >= 2000) print(p);
    },
    finish() {
      if (last && last !== printed) print(last);
      if (tty && printed) Deno.stderr.writeSync(enc.encode("\n"));
    },
  };
}

async function inspect(path: string, json: boolean): Promise<void> {
  const e = await readEmbedding(path);
  const norm = embeddingNorm(e);
  let min = Infinity, max = -Infinity;
  for (const x of e.data) {
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  const info = {
    file: path,
    format: e.format,
    shape: e.shape,
    dtype: e.dtype,
    dim: e.data.length,
    norm,
    min,
    max,
    ...(e.metadata && Object.keys(e.metadata).length > 0 ? { metadata: e.metadata } : {}),
  };
  if (json) {
    console.log(JSON.stringify(info));
    return;
  }
  console.log(`${path}`);
  console.log(`  format  ${e.format}`);
  console.log(`  shape   [${e.shape.join(", ")}] (${e.data.length} values)`);
  console.log(`  dtype   ${e.dtype}`);
  console.log(`  norm    ${norm}`);
  console.log(`  range   ${min} … ${max}`);
  for (const [k, val] of Object.entries(e.metadata ?? {})) console.log(`  ${k}: ${val}`);
}

if (import.meta.main) Deno.exit(await main(Deno.args));

/** Parses "a.pt:0.7,b.pt:0.3" (a weight may be omitted: 1). */
export function parseBlendList(spec: string): { path: string; weight: number }[] {
  return spec.split(",").map((part) => {
    const m = /^(.*?)(?::([-+0-9.eE]+))?$/.exec(part.trim())!;
    const weight = m[2] === undefined ? 1 : Number(m[2]);
    if (!m[1] || !Number.isFinite(weight)) {
      throw new UsageError(`--blend entry ${JSON.stringify(part)} is not FILE:WEIGHT`);
    }
    return { path: m[1], weight };
  });
}

async function blend(
  spec: string,
  name: string,
  outDir: string,
  format: EmbeddingFormat | undefined,
  overwrite: boolean,
) {
  const target = embeddingTarget({ name, outDir, format, overwrite, overwriteHint: "pass --overwrite" });
  const entries = parseBlendList(spec);
  const inputs = [];
  for (const e of entries) {
    inputs.push({ embedding: await readEmbedding(e.path), weight: e.weight, name: e.path });
  }
  const result = blendEmbeddings(inputs);
  const out = target.path;
  await writeEmbedding(out, result.data, {
    format: target.format,
    dtype: "float32",
    shape: [1, result.data.length],
    overwrite,
    metadata: {
      kind: "aesthetic-embedding",
      description: `blend of ${entries.map((e) => `${basename(e.path)}×${e.weight}`).join(" + ")}`,
      created: new Date().toISOString(),
    },
  });
  console.log(`Wrote ${out}: shape [1, ${result.data.length}], norm ${embeddingNorm(result).toFixed(6)}`);
}

async function list(dir: string, json: boolean): Promise<void> {
  const { embeddings, skipped } = await listEmbeddings(dir);
  if (json) {
    console.log(JSON.stringify({ dir, embeddings, skipped }));
    return;
  }
  console.log(`${dir}: ${embeddings.length} embedding${embeddings.length === 1 ? "" : "s"}`);
  for (const e of embeddings) {
    console.log(
      `  ${e.name.padEnd(24)} [${e.shape.join(", ")}] ${e.dtype} ${e.format} norm ${e.norm.toFixed(4)}`,
    );
  }
  for (const s of skipped) console.log(`  ${s.name}: skipped: ${s.reason}`);
}

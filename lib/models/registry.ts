// The models the app can use: every folder under models/ (and any extra folders) that holds a Stable Diffusion
// pipeline or a CLIP pair, with its kind, dimensions, short hash and problems; and the rules that pair a
// checkpoint with a CLIP model and an aesthetic embedding with a CLIP model.
import { dirname, join, resolve } from "node:path";
import { InputError } from "../io/input_error.ts";
import {
  DEFAULT_CLIP_DIR,
  DEFAULT_MODEL_DIR,
  MODELS_DIR,
  TINY_DEMO_CLIP_DIR,
  TINY_DEMO_MODEL_DIR,
} from "./defaults.ts";
import { inspectModelDir, type ModelEntry } from "./inspect.ts";
import { modelSha256, shortHash } from "./model_hash.ts";
import { readRecord } from "./single_file/record.ts";

export type { ModelDims, ModelEntry, ModelKind } from "./inspect.ts";

export interface SkippedFolder {
  path: string;
  reason: string;
}

export interface ModelListing {
  models: ModelEntry[];
  skipped: SkippedFolder[];
}

export interface ListOptions {
  /** Compute the UNet hash (cached); default true. */
  hash?: boolean;
  /** Where hashes are cached; default `<first dir>/.hashes.json`. */
  hashCache?: string;
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory; // follows symlinks
  } catch {
    return false;
  }
}

/**
 * Lists the model folders directly under each of `dirs` (a folder that is itself a model is listed too),
 * sorted by name. Hidden folders (the download staging area) are ignored; folders that are not models are
 * returned in `skipped` with why.
 */
export async function listModels(dirs: string[], opts: ListOptions = {}): Promise<ModelListing> {
  const listing: ModelListing = { models: [], skipped: [] };
  const seen = new Map<string, string>();
  const hashCache = opts.hashCache ?? (dirs.length ? join(dirs[0], ".hashes.json") : undefined);
  for (const dir of dirs) {
    const candidates: string[] = [];
    const self = await inspectModelDir(dir).catch(() => undefined);
    if (self) candidates.push(dir);
    else {
      try {
        for await (const e of Deno.readDir(dir)) {
          // Single files lying here are lib/models/single_file/dropped.ts's to list.
          if (!e.name.startsWith(".") && await isDir(join(dir, e.name))) candidates.push(join(dir, e.name));
        }
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue; // no models downloaded yet
        throw new Error(`cannot list models in ${dir}: ${(e as Error).message}`);
      }
    }
    for (const path of candidates.sort()) {
      const entry = await inspectModelDir(path);
      if (!entry) {
        listing.skipped.push({
          path,
          reason: "neither a diffusers ONNX pipeline (model_index.json) nor a CLIP pair " +
            "(config.json + onnx/text_model.onnx)",
        });
        continue;
      }
      const earlier = seen.get(entry.name);
      if (earlier && resolve(earlier) !== resolve(path)) {
        listing.skipped.push({
          path,
          reason: `another model named ${entry.name} is listed first (${earlier})`,
        });
        continue;
      }
      if (earlier) continue;
      seen.set(entry.name, path);
      if (opts.hash !== false && entry.unetFiles && entry.problems.length === 0) {
        // A folder imported from an A1111 single file goes by that file's hash, as A1111 shows it.
        entry.hash = (await readRecord(path))?.shortHash ??
          shortHash(await modelSha256(entry.unetFiles, { cacheFile: hashCache }));
      }
      listing.models.push(entry);
    }
  }
  listing.models.sort((a, b) => a.name.localeCompare(b.name));
  return listing;
}

/** A model by name (or by its short hash, as A1111 accepts). */
export function findModel(models: ModelEntry[], nameOrHash: string): ModelEntry | undefined {
  return models.find((m) => m.name === nameOrHash) ?? models.find((m) => m.hash === nameOrHash);
}

/** Why a CLIP pair cannot personalize a checkpoint (empty when it can). */
export function pairingProblems(checkpoint: ModelEntry, clip: ModelEntry): string[] {
  const problems: string[] = [];
  if (clip.kind !== "clip") problems.push(`${clip.name} is not a CLIP pair (it is a ${clip.kind} pipeline)`);
  if (checkpoint.kind === "clip") problems.push(`${checkpoint.name} is a CLIP pair, not a checkpoint`);
  const a = clip.dims.textHidden, b = checkpoint.dims.textHidden;
  if (a !== undefined && b !== undefined && a !== b) {
    problems.push(`the CLIP pair's text hidden size ${a} does not match the checkpoint's ${b}`);
  }
  return problems;
}

/** Why an aesthetic embedding of `dim` values cannot be used with a CLIP pair (empty when it can). */
export function embeddingProblems(dim: number, clip: ModelEntry): string[] {
  const p = clip.dims.projection;
  return p !== undefined && p !== dim ? [`this embedding is ${dim}-d but the CLIP pair is ${p}-d`] : [];
}

/**
 * The CLIP pair to personalize a checkpoint with by default: a usable pair of the same text width, preferring
 * one whose text weights are the checkpoint's own text encoder (same token-embedding fingerprint), then the
 * first by name.
 */
export function chooseClip(checkpoint: ModelEntry, models: ModelEntry[]): ModelEntry | undefined {
  const usable = models.filter((m) =>
    m.kind === "clip" && m.problems.length === 0 && pairingProblems(checkpoint, m).length === 0
  );
  const same = checkpoint.textFingerprint
    ? usable.find((m) => m.textFingerprint === checkpoint.textFingerprint)
    : undefined;
  return same ?? usable[0];
}

/**
 * The CLIP pair for a checkpoint folder, as the CLIs default it: each embedded demo's own pair for that demo,
 * otherwise chooseClip among the models folder and the checkpoint's siblings.
 */
export async function clipDirFor(modelDir: string): Promise<string> {
  if (resolve(modelDir) === resolve(DEFAULT_MODEL_DIR)) return DEFAULT_CLIP_DIR;
  if (resolve(modelDir) === resolve(TINY_DEMO_MODEL_DIR)) return TINY_DEMO_CLIP_DIR;
  const entry = await inspectModelDir(modelDir);
  if (!entry) throw new InputError(`${modelDir} is not a model folder (no model_index.json)`, "model");
  const { models } = await listModels([MODELS_DIR, dirname(modelDir)], { hash: false });
  const clip = chooseClip(entry, models);
  if (!clip) throw new InputError(`no CLIP pair fits ${modelDir}: pass --clip DIR`, "clip");
  return clip.path;
}

// Making an aesthetic embedding into a folder, as both front ends do it (`deno task embed` and the WebUI's
// tab): one rule for the name and the file it becomes, one refusal of an existing file before minutes of work,
// one metadata vocabulary, and the write through a temporary file and a rename.
import { basename, extname, resolve } from "node:path";
import { type EmbeddingFormat, writeEmbedding } from "../io/embedding.ts";
import { InputError } from "../io/input_error.ts";
import { pathIn } from "../io/safe_name.ts";
import { type AestheticEmbedding, makeEmbedding, type MakeEmbeddingOptions } from "./make_embedding.ts";

export interface EmbeddingTarget {
  /** The name it is listed under (the file name without its extension). */
  name: string;
  path: string;
  format: EmbeddingFormat;
}

export interface TargetOptions {
  /** A file name in `outDir`; a .pt or .safetensors extension chooses the format, else `format` does. */
  name: string;
  outDir: string;
  /** Default "pt", the A1111 extension's. */
  format?: EmbeddingFormat;
  overwrite?: boolean;
  /** How the front end says "replace it" ("pass --overwrite", "tick \"overwrite\""). */
  overwriteHint?: string;
}

const FORMATS: Record<string, EmbeddingFormat> = { ".pt": "pt", ".safetensors": "safetensors" };

/** Where an embedding of that name goes; refuses a name that leaves the folder, or a file already there. */
export function embeddingTarget(o: TargetOptions): EmbeddingTarget {
  const named = FORMATS[extname(o.name).toLowerCase()];
  if (named && o.format && named !== o.format) {
    throw new InputError(`the name ${o.name} says ${named}, but the format asked is ${o.format}`, "name");
  }
  const format = named ?? o.format ?? "pt";
  const file = named ? o.name : `${o.name}.${format}`;
  const path = pathIn(o.outDir, file, "embedding name");
  if (!o.overwrite && exists(path)) {
    throw new InputError(
      `${path} already exists; ${o.overwriteHint ?? "overwrite"} to replace it`,
      "name",
    );
  }
  return { name: file.slice(0, file.length - extname(file).length), path, format };
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Checks that the image folder is one, so a bad path is refused before anything starts. */
export function checkSourceFolder(src: string): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(src);
  } catch {
    throw new InputError(`source folder ${src} does not exist`, "source");
  }
  if (!info.isDirectory) throw new InputError(`source ${src} is not a folder`, "source");
}

export interface SavedEmbedding extends AestheticEmbedding {
  target: EmbeddingTarget;
}

/** What the written file records of how an embedding was made. */
export interface MadeFrom {
  embedding: Float32Array;
  dim: number;
  used: number;
  skippedCount: number;
  /** The CLIP pair's folder name. */
  sourceModel: string;
}

/** Writes a made embedding to `target` (through a temporary file and a rename) with the shared metadata. */
export async function writeMadeEmbedding(
  target: EmbeddingTarget,
  made: MadeFrom,
  overwrite = false,
): Promise<void> {
  await writeEmbedding(target.path, made.embedding, {
    format: target.format,
    dtype: "float32",
    shape: [1, made.dim],
    overwrite,
    metadata: {
      kind: "aesthetic-embedding",
      description: "mean CLIP image_embeds of the source images, unnormalized",
      source_model: made.sourceModel,
      image_count: String(made.used),
      skipped_count: String(made.skippedCount),
      created: new Date().toISOString(),
    },
  });
}

/** Makes the embedding of `src`'s images and writes it to `target` (from embeddingTarget). */
export async function saveEmbedding(
  target: EmbeddingTarget,
  o: MakeEmbeddingOptions & { overwrite?: boolean },
): Promise<SavedEmbedding> {
  const result = await makeEmbedding(o);
  await writeMadeEmbedding(target, {
    ...result,
    skippedCount: result.skipped.length,
    sourceModel: basename(resolve(result.clipDir)),
  }, o.overwrite ?? false);
  return { ...result, target };
}

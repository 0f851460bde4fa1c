// Aesthetic embeddings on disk: one CLIP image-embedding vector, shaped (D,) or (1, D), stored as a torch `.pt`
// (what the paper's repo and the A1111 extension share) or as `.safetensors` (which can also carry metadata).
import { basename, dirname, extname, join } from "node:path";
import type { FloatDtype } from "./float_codec.ts";
import { looksLikeSafetensors, readSafetensors, writeSafetensors } from "./safetensors.ts";
import { isTorchZip, readTorchTensor, writeTorchTensor } from "./torch_pt.ts";
import { InputError, InputLimitError } from "./input_error.ts";
import { readRegularFile } from "./read_capped.ts";

export type EmbeddingFormat = "pt" | "safetensors";

export interface Embedding {
  /** The vector's values as float32, whatever the stored dtype. */
  data: Float32Array;
  /** (D,) or (1, D). */
  shape: number[];
  /** How the values were stored on disk. */
  dtype: FloatDtype;
  format: EmbeddingFormat;
  /** Safetensors `__metadata__` (source model, image count, date, …); .pt files carry none. */
  metadata?: Record<string, string>;
}

export interface WriteEmbeddingOptions {
  /** Defaults from the extension: `.safetensors` → safetensors, anything else → pt. */
  format?: EmbeddingFormat;
  dtype?: "float32" | "float16";
  /** Defaults to [1, D], the shape the A1111 extension saves. */
  shape?: number[];
  overwrite?: boolean;
  /** Written to safetensors `__metadata__`; a `.pt` holds a bare tensor, so there it is not stored. */
  metadata?: Record<string, string>;
}

// Embeddings are a few KB (CLIP's widest projection, ViT-bigG, is 1280 values): anything past these is not an
// embedding, and reading or gathering it whole would only waste memory.
export const MAX_EMBEDDING_FILE_BYTES = 16 << 20;
export const MAX_EMBEDDING_VALUES = 16384;

/** Reads an embedding, recognizing the format by its magic bytes (then by extension, for the error). */
export async function readEmbedding(path: string): Promise<Embedding> {
  // Only a regular file below the cap is read: a FIFO would block, a link to /dev/zero never end.
  const bytes = await readRegularFile(path, MAX_EMBEDDING_FILE_BYTES, `embedding ${path}`).catch((e) => {
    if (e instanceof InputError) throw e;
    throw new Error(`cannot read embedding ${path}: ${(e as Error).message}`);
  });
  if (isTorchZip(bytes)) {
    const t = readTorchTensor(bytes, path, {
      maxElements: MAX_EMBEDDING_VALUES,
      // torch stores storages uncompressed, so a real one is never larger than its file.
      maxStorageBytes: MAX_EMBEDDING_FILE_BYTES,
    });
    return checkShape({ data: t.data, shape: t.shape, dtype: t.dtype, format: "pt" }, path);
  }
  const ext = extname(path).toLowerCase();
  if (looksLikeSafetensors(bytes) || ext === ".safetensors") {
    const file = readSafetensors(bytes, path);
    if (file.tensors.length !== 1) {
      const names = file.tensors.map((t) => t.name).join(", ") || "none";
      throw new InputError(
        `embedding ${path} must hold exactly one tensor, found ${file.tensors.length} (${names})`,
      );
    }
    const [t] = file.tensors;
    return checkShape(
      { data: t.data, shape: t.shape, dtype: t.dtype, format: "safetensors", metadata: file.metadata },
      path,
    );
  }
  if (ext === ".pt" || ext === ".pth") readTorchTensor(bytes, path); // throws, saying why it is not a torch file
  throw new InputError(`embedding ${path} is neither a torch .pt (zip) nor a .safetensors file`);
}

/**
 * Writes an embedding through a temporary file and a rename, so the destination is never half-written.
 * Refuses to replace an existing file unless `overwrite`; values must be finite (and fit float16 if asked).
 */
export async function writeEmbedding(path: string, data: Float32Array, opts: WriteEmbeddingOptions = {}) {
  const ext = extname(path).toLowerCase();
  const format = opts.format ?? (ext === ".safetensors" ? "safetensors" : "pt");
  if (
    (format === "pt" && ext === ".safetensors") ||
    (format === "safetensors" && (ext === ".pt" || ext === ".pth"))
  ) {
    throw new Error(`cannot write ${format} format to ${path}: the extension says otherwise`);
  }
  const dtype = opts.dtype ?? "float32";
  const shape = opts.shape ?? [1, data.length];
  if (data.length === 0) throw new Error(`refusing to write an empty embedding to ${path}`);
  if (!isVectorShape(shape) || shape[shape.length - 1] !== data.length) {
    throw new Error(`embedding shape [${shape.join(", ")}] must be [${data.length}] or [1, ${data.length}]`);
  }
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new Error(`refusing to write ${path}: value ${data[bad]} at index ${bad} is not finite`);
  }
  if (dtype === "float16") {
    const over = data.findIndex((v) => !Number.isFinite(Math.f16round(v)));
    if (over >= 0) {
      throw new Error(`refusing to write ${path}: value ${data[over]} at index ${over} overflows float16`);
    }
  }
  const bytes = format === "pt"
    ? writeTorchTensor(data, shape, { dtype })
    : writeSafetensors([{ name: "embedding", data, shape, dtype }], opts.metadata);
  await writeAtomically(path, bytes, opts.overwrite ?? false);
}

/** Euclidean (L2) norm of the vector. */
export function embeddingNorm(e: Embedding): number {
  let s = 0;
  for (const v of e.data) s += v * v;
  return Math.sqrt(s);
}

export interface BlendInput {
  embedding: Embedding;
  weight: number;
  /** Used in error messages; defaults to "embedding #<index>". */
  name?: string;
}

/**
 * The weighted sum Σ wᵢ·eᵢ of embeddings of one dimension. Embeddings are used normalized, so only the
 * weights' ratios matter, and an embedding with a larger norm (a more coherent image set) pulls harder.
 * The result is float32 with the first input's shape.
 */
export function blendEmbeddings(inputs: BlendInput[]): Embedding {
  if (!inputs.length) throw new Error("blendEmbeddings needs at least one embedding");
  const label = (i: number) => inputs[i].name ?? `embedding #${i + 1}`;
  const dim = inputs[0].embedding.data.length;
  inputs.forEach((input, i) => {
    if (input.embedding.data.length !== dim) {
      throw new Error(
        `cannot blend embeddings of different dimensions: ${label(0)} has ${dim}, ` +
          `${label(i)} has ${input.embedding.data.length}`,
      );
    }
    if (!Number.isFinite(input.weight)) {
      throw new Error(`weight of ${label(i)} is ${input.weight}, not a number`);
    }
  });
  const out = new Float32Array(dim);
  for (const { embedding, weight } of inputs) {
    for (let j = 0; j < dim; j++) out[j] += weight * embedding.data[j];
  }
  return {
    data: out,
    shape: [...inputs[0].embedding.shape],
    dtype: "float32",
    format: inputs[0].embedding.format,
  };
}

/**
 * Checks an embedding can condition a model whose CLIP projection has `expectedDim` values: a finite,
 * non-zero vector of exactly that size. Errors name both dimensions and the model.
 */
export function validateEmbedding(e: Embedding, expectedDim: number, modelName: string): void {
  if (!isVectorShape(e.shape) || e.shape[e.shape.length - 1] !== e.data.length) {
    throw new Error(
      `embedding of shape [${e.shape.join(", ")}] is not a single vector; ${modelName} needs one`,
    );
  }
  if (e.data.length !== expectedDim) {
    throw new Error(
      `embedding has ${e.data.length} dimensions but ${modelName} expects ${expectedDim} ` +
        `(it was made with a different CLIP model)`,
    );
  }
  let bad = 0, first = -1;
  e.data.forEach((v, i) => {
    if (!Number.isFinite(v)) bad++, first = first < 0 ? i : first;
  });
  if (bad) {
    throw new Error(
      `embedding has ${bad} NaN/Inf values (first at index ${first}); unusable with ${modelName}`,
    );
  }
  if (embeddingNorm(e) === 0) throw new Error(`embedding is all zeros (norm 0); unusable with ${modelName}`);
}

export interface EmbeddingInfo {
  /** The file name without extension (the whole file name when two files share a stem). */
  name: string;
  path: string;
  shape: number[];
  dtype: FloatDtype;
  norm: number;
  format: EmbeddingFormat;
}

export interface SkippedEmbedding {
  name: string;
  path: string;
  reason: string;
}

export interface EmbeddingListing {
  embeddings: EmbeddingInfo[];
  skipped: SkippedEmbedding[];
}

const EMBEDDING_EXTENSIONS = new Set([".pt", ".pth", ".safetensors"]);

/** The embeddings in a directory (not recursive), sorted by name; unreadable ones are listed with why. */
export async function listEmbeddings(dir: string): Promise<EmbeddingListing> {
  const files: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.startsWith(".") && EMBEDDING_EXTENSIONS.has(extname(entry.name).toLowerCase())) {
        files.push(entry.name);
      }
    }
  } catch (e) {
    // A directory nobody has saved an embedding into yet is simply empty.
    if (e instanceof Deno.errors.NotFound) return { embeddings: [], skipped: [] };
    throw new Error(`cannot list embeddings in ${dir}: ${(e as Error).message}`);
  }
  const stem = (f: string) => f.slice(0, f.length - extname(f).length);
  const stems = new Map<string, number>();
  for (const f of files) stems.set(stem(f), (stems.get(stem(f)) ?? 0) + 1);
  const listing: EmbeddingListing = { embeddings: [], skipped: [] };
  for (const file of files.sort()) {
    const name = stems.get(stem(file))! > 1 ? file : stem(file);
    const path = join(dir, file);
    const read = await describeEmbedding(path);
    if ("reason" in read) listing.skipped.push({ name, path, reason: read.reason });
    else listing.embeddings.push({ name, path, ...read });
  }
  listing.embeddings.sort((a, b) => a.name.localeCompare(b.name));
  return listing;
}

type Description = Omit<EmbeddingInfo, "name" | "path"> | { reason: string };

// Listing runs on every generation that names an embedding (its dropdown's choices): each file is read once
// and described again only when its size or modification time changes.
const described = new Map<string, { key: string; description: Description }>();

async function describeEmbedding(path: string): Promise<Description> {
  const stat = await Deno.stat(path).catch(() => undefined);
  const key = JSON.stringify([stat?.size, stat?.mtime?.getTime(), stat?.ino]);
  const hit = described.get(path);
  if (stat && hit?.key === key) return hit.description;
  let description: Description;
  try {
    const e = await readEmbedding(path);
    description = { shape: e.shape, dtype: e.dtype, norm: embeddingNorm(e), format: e.format };
  } catch (err) {
    description = { reason: (err as Error).message };
  }
  if (stat) described.set(path, { key, description });
  return description;
}

function isVectorShape(shape: number[]): boolean {
  return (shape.length === 1 && shape[0] > 0) || (shape.length === 2 && shape[0] === 1 && shape[1] > 0);
}

function checkShape(e: Embedding, path: string): Embedding {
  if (!isVectorShape(e.shape)) {
    throw new InputError(`embedding ${path} has shape [${e.shape.join(", ")}]; expected (D,) or (1, D)`);
  }
  if (e.data.length > MAX_EMBEDDING_VALUES) {
    throw new InputLimitError(
      `embedding ${path} has ${e.data.length} values, over the limit of ${MAX_EMBEDDING_VALUES} for one vector`,
    );
  }
  return e;
}

async function writeAtomically(path: string, bytes: Uint8Array, overwrite: boolean) {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    const f = await Deno.open(tmp, { write: true, createNew: true });
    try {
      for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
      await f.syncData();
    } finally {
      f.close();
    }
    if (overwrite) {
      await Deno.rename(tmp, path);
    } else {
      // link() fails if the destination exists, so checking and creating are one atomic step; file systems
      // without hard links fall back to check-then-rename.
      const refuse = () => new Error(`${path} already exists; pass overwrite to replace it`);
      try {
        await Deno.link(tmp, path);
      } catch (e) {
        if (e instanceof Deno.errors.AlreadyExists) throw refuse();
        if (await Deno.lstat(path).then(() => true, () => false)) throw refuse();
        await Deno.rename(tmp, path);
      }
    }
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

// A checkpoint's short hash, as A1111 shows it: the first 10 hex digits of a sha256 over the UNet weights.
// For an ONNX UNet that is unet/model.onnx followed by its external data files (name order), so a >2 GB export
// is identified by its weights, not only by its graph. Hashing gigabytes takes seconds, so results are cached
// in a JSON file keyed by path and invalidated by size and modification time.
import { createHash } from "node:crypto";
import { basename, dirname, join, resolve } from "node:path";

interface CacheEntry {
  /** Sizes and mtimes of the hashed files, in order; any change invalidates the entry. */
  stamp: string;
  sha256: string;
}

type CacheFile = Record<string, CacheEntry>;

async function stampOf(files: string[]): Promise<string> {
  const parts = [];
  for (const f of files) {
    const s = await Deno.stat(f);
    parts.push(`${s.size}@${s.mtime?.getTime() ?? 0}`);
  }
  return parts.join(",");
}

/** sha256 (hex) of the files' concatenated bytes, streamed. */
export async function sha256Files(files: string[]): Promise<string> {
  const h = createHash("sha256");
  for (const f of files) {
    using file = await Deno.open(f, { read: true });
    for await (const chunk of file.readable) h.update(chunk);
  }
  return h.digest("hex");
}

async function readCache(path: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await Deno.readTextFile(path));
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed as CacheFile : {};
  } catch {
    // A missing or corrupt cache only costs a re-hash.
    return {};
  }
}

async function writeCache(path: string, cache: CacheFile) {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeTextFile(tmp, JSON.stringify(cache, null, 1) + "\n");
    await Deno.rename(tmp, path);
  } catch {
    // Read-only model folders still list; the hash is simply recomputed next time.
    await Deno.remove(tmp).catch(() => {});
  }
}

export interface HashOptions {
  /** Where computed hashes are remembered; without it nothing is cached. */
  cacheFile?: string;
}

/** The full sha256 of a model's weight files, from the cache when the files are unchanged. */
export async function modelSha256(files: string[], opts: HashOptions = {}): Promise<string> {
  const key = files.map((f) => resolve(f)).join("|");
  const stamp = await stampOf(files);
  const cache = opts.cacheFile ? await readCache(opts.cacheFile) : {};
  const hit = cache[key];
  if (hit && hit.stamp === stamp && /^[0-9a-f]{64}$/.test(hit.sha256)) return hit.sha256;
  const sha256 = await sha256Files(files);
  if (opts.cacheFile) {
    // Re-read just before writing so hashes computed by another process meanwhile are kept.
    const latest = await readCache(opts.cacheFile);
    latest[key] = { stamp, sha256 };
    await writeCache(opts.cacheFile, latest);
  }
  return sha256;
}

/** A1111's short model hash: the first 10 hex digits of the sha256. */
export function shortHash(sha256: string): string {
  return sha256.slice(0, 10);
}

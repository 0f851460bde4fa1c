// A1111 single files dropped in as they are: the `.safetensors`/`.ckpt` files lying in the models folder or in
// an A1111 `models/Stable-diffusion/` folder, listed as checkpoints under A1111's names and hashes and imported
// into a folder keyed by their hash the first time they are used. Each file is read cheaply when listed (its
// tensor index: a file that is not a usable checkpoint is listed with the reason), hashed once (cached by
// size and modification time), and imported at most once: a second request for the same file waits for the
// import already running, and a folder already imported from the same bytes is reused.
import { basename, dirname, extname, join, relative, resolve } from "node:path";
import { InputError } from "../../io/input_error.ts";
import { inspectModelDir, type ModelEntry } from "../inspect.ts";
import { formatBytes } from "../transfer_bar.ts";
import { writeFileAtomic } from "../../io/png.ts";
import { a1111Hashes, type FileHashes } from "./a1111_hash.ts";
import { Checkpoint } from "./checkpoint.ts";
import { detectFamily, type Family } from "./detect.ts";
import { checkpointSource, type ImportOptions, sidecarVae, sidecarYaml } from "./import.ts";
import { CheckpointError } from "./checkpoint.ts";
import type { ImportMessage, ImportRequest } from "./import_worker.ts";
import { readRecord } from "./record.ts";

/** A folder holding checkpoint files; A1111's keeps sub-folders and a separate VAE folder. */
export interface DroppedSource {
  dir: string;
  /** Look into sub-folders too (A1111 lists models/Stable-diffusion recursively). */
  recursive?: boolean;
  /** A1111's models/VAE: `<checkpoint stem>.vae.*` there pairs with the checkpoint too. */
  vaeDir?: string;
  /**
   * A diffusers folder giving what the files cannot say (heads, groups, scheduler), as `models import
   * --config`; default each family's released values.
   */
  config?: string;
}

/** The checkpoint and VAE folders of an A1111 installation. */
export function a1111Source(a1111Dir: string): DroppedSource {
  return {
    dir: join(a1111Dir, "models", "Stable-diffusion"),
    recursive: true,
    vaeDir: join(a1111Dir, "models", "VAE"),
  };
}

/**
 * The models folder's own single files, then an A1111 installation's (`--a1111-dir`), refused with one
 * sentence when it has no models/Stable-diffusion folder.
 */
export function singleFileSources(modelsDir: string, a1111Dir?: string): DroppedSource[] {
  if (a1111Dir === undefined) return [{ dir: modelsDir }];
  const a1111 = a1111Source(a1111Dir);
  let isDir = false;
  try {
    isDir = Deno.statSync(a1111.dir).isDirectory;
  } catch { /* said below */ }
  if (!isDir) {
    throw new InputError(`--a1111-dir: ${a1111Dir} has no models/Stable-diffusion folder`, "a1111-dir");
  }
  return [{ dir: modelsDir }, a1111];
}

export interface DroppedFile {
  path: string;
  /** A1111's name: the path under its folder ("sub/model.safetensors"), the "title" without the hash. */
  name: string;
  /** A1111's model_name: the name without extension, "/" replaced by "_". */
  modelName: string;
  /** The VAE that goes with it (A1111's `<stem>.vae.*` beside it or in models/VAE). */
  vae?: string;
  size: number;
  mtimeMs: number;
  family?: Family;
  /** Text width (the conditioning) and the image side the family was trained at. */
  textHidden?: number;
  defaultSize?: number;
  hashes?: FileHashes;
  /** Why it cannot be used: its index or its import failed, as one sentence. */
  problem?: string;
  /** The folder it was imported into, once it exists. */
  folder?: string;
  /** The source's --config folder. */
  config?: string;
}

export type ImportProgress = (stage: string, done: number, total: number) => void;

interface HashCacheEntry extends FileHashes {
  size: number;
  mtimeMs: number;
}

const CHECKPOINT = /\.(safetensors|ckpt)$/i;
const VAE_FILE = /\.vae\.[^.]+$/i;
const MAX_DEPTH = 4;

async function walk(dir: string, recursive: boolean, depth = 0): Promise<string[]> {
  const out: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return out;
    throw e;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith(".")) continue;
    const path = join(dir, e.name);
    if (e.isFile && CHECKPOINT.test(e.name) && !VAE_FILE.test(e.name)) out.push(path);
    else if (e.isDirectory && recursive && depth < MAX_DEPTH) out.push(...await walk(path, true, depth + 1));
  }
  return out;
}

async function pairedVae(file: string, vaeDir?: string): Promise<string | undefined> {
  const beside = await sidecarVae(file);
  if (beside || !vaeDir) return beside;
  const stem = basename(file, extname(file));
  for (const ext of [".vae.safetensors", ".vae.pt", ".vae.ckpt", ".safetensors", ".pt", ".ckpt"]) {
    const path = join(vaeDir, stem + ext);
    if (await Deno.stat(path).then((s) => s.isFile, () => false)) return path;
  }
  return undefined;
}

const FAMILY_SIZE: Record<Family, number> = { sd1: 512, sd2: 512, sdxl: 1024 };

/** The family and widths from the tensor index, or the sentence saying why the file is not a checkpoint. */
async function inspectFile(file: DroppedFile): Promise<void> {
  let ckpt: Checkpoint | undefined;
  try {
    ckpt = Checkpoint.open(file.path);
    const detected = detectFamily(checkpointSource(ckpt), basename(file.path), {
      yaml: await sidecarYaml(file.path),
    });
    file.family = detected.family;
    file.textHidden = detected.text.hidden;
    file.defaultSize = detected.family === "sd2" && detected.prediction === "v_prediction"
      ? 768
      : FAMILY_SIZE[detected.family];
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    file.problem = e.message;
  } finally {
    ckpt?.close();
  }
}

/** How a dropped file is listed among the checkpoints: its imported folder's entry, or what its index says. */
export function droppedEntry(file: DroppedFile, folder?: ModelEntry): ModelEntry {
  const singleFile = {
    file: file.path,
    modelName: file.modelName,
    sha256: file.hashes?.sha256,
    pending: folder === undefined,
  };
  if (folder) return { ...folder, name: file.name, hash: file.hashes?.shortHash, singleFile };
  return {
    name: file.name,
    path: file.path,
    kind: file.family ?? "sd1",
    dims: { textHidden: file.textHidden },
    problems: file.problem ? [file.problem] : [],
    warnings: [],
    hash: file.hashes?.shortHash,
    defaultSize: file.defaultSize,
    singleFile,
  };
}

export class DroppedCheckpoints {
  #files = new Map<string, DroppedFile>();
  #folders = new Map<string, ModelEntry>();
  #hashing = new Map<string, Promise<FileHashes>>();
  #imports = new Map<string, { promise: Promise<string>; listeners: Set<ImportProgress> }>();
  #cache: Record<string, HashCacheEntry> | undefined;

  constructor(
    readonly opts: {
      sources: DroppedSource[];
      /** Where imported folders and the hash cache live (`<models>/.imported`). */
      cacheDir: string;
      log?: (line: string) => void;
    },
  ) {}

  /** The files found by the last scan, by name. */
  files(): DroppedFile[] {
    return [...this.#files.values()];
  }

  get(name: string): DroppedFile | undefined {
    return this.#files.get(name);
  }

  /** Every file as a model entry (imported ones as their folder's, read once per folder). */
  async entries(): Promise<ModelEntry[]> {
    const out: ModelEntry[] = [];
    for (const file of this.#files.values()) {
      let folder = file.folder ? this.#folders.get(file.folder) : undefined;
      if (file.folder && !folder) {
        folder = await inspectModelDir(file.folder);
        if (folder) this.#folders.set(file.folder, folder);
      }
      out.push(droppedEntry(file, folder));
    }
    return out;
  }

  get #hashFile(): string {
    return join(this.opts.cacheDir, "hashes.json");
  }

  async #hashCache(): Promise<Record<string, HashCacheEntry>> {
    this.#cache ??= await Deno.readTextFile(this.#hashFile).then(JSON.parse, () => ({})) as Record<
      string,
      HashCacheEntry
    >;
    return this.#cache;
  }

  /**
   * Lists the files (cheap: stat and tensor index; files unchanged since the last scan are not read again),
   * with the hashes already cached and the folders already imported. Names taken by an earlier source win.
   */
  async scan(): Promise<DroppedFile[]> {
    const cache = await this.#hashCache();
    const next = new Map<string, DroppedFile>();
    for (const source of this.opts.sources) {
      for (const path of await walk(source.dir, source.recursive ?? false)) {
        const name = relative(source.dir, path).split("\\").join("/");
        if (next.has(name)) continue;
        const stat = await Deno.stat(path).catch(() => undefined);
        if (!stat?.isFile) continue;
        const mtimeMs = stat.mtime?.getTime() ?? 0;
        const full = resolve(path);
        const earlier = this.#files.get(name);
        if (earlier && earlier.path === full && earlier.size === stat.size && earlier.mtimeMs === mtimeMs) {
          // The same object, so imports and hashing already under way for it land in the new list.
          earlier.vae = await pairedVae(full, source.vaeDir);
          next.set(name, earlier);
          continue;
        }
        const file: DroppedFile = {
          path: full,
          name,
          modelName: name.replace(/\//g, "_").replace(/\.[^.]+$/, ""),
          vae: await pairedVae(full, source.vaeDir),
          config: source.config,
          size: stat.size,
          mtimeMs,
        };
        const cached = cache[full];
        if (cached && cached.size === file.size && cached.mtimeMs === mtimeMs) {
          file.hashes = { sha256: cached.sha256, shortHash: cached.shortHash, legacyHash: cached.legacyHash };
        }
        await inspectFile(file);
        next.set(name, file);
      }
    }
    this.#files = next;
    for (const file of next.values()) if (file.hashes && !file.problem) await this.#findFolder(file);
    return this.files();
  }

  /** Hashes every usable file not hashed yet, one at a time (a server runs this in the background). */
  async hashAll(): Promise<void> {
    for (const file of this.files()) {
      if (file.problem || file.hashes) continue;
      await this.#hash(file);
      await this.#findFolder(file);
    }
  }

  async #hashPath(path: string): Promise<FileHashes> {
    const stat = await Deno.stat(path);
    const mtimeMs = stat.mtime?.getTime() ?? 0;
    const cache = await this.#hashCache();
    const hit = cache[path];
    if (hit && hit.size === stat.size && hit.mtimeMs === mtimeMs) return hit;
    let running = this.#hashing.get(path);
    if (!running) {
      const log = this.opts.log;
      log?.(`hashing ${path} (${formatBytes(stat.size)})`);
      running = a1111Hashes(path).then(async (h) => {
        cache[path] = { ...h, size: stat.size, mtimeMs };
        await Deno.mkdir(this.opts.cacheDir, { recursive: true });
        await writeFileAtomic(
          this.#hashFile,
          new TextEncoder().encode(JSON.stringify(cache, null, 1) + "\n"),
        );
        return h;
      }).finally(() => this.#hashing.delete(path));
      this.#hashing.set(path, running);
    }
    const { sha256, shortHash, legacyHash } = await running;
    return { sha256, shortHash, legacyHash };
  }

  async #hash(file: DroppedFile): Promise<FileHashes> {
    file.hashes ??= await this.#hashPath(file.path);
    return file.hashes;
  }

  /** The folder a file imports into: its sha256 (and its VAE's, which changes the pipeline). */
  async #target(file: DroppedFile): Promise<string> {
    const { sha256 } = await this.#hash(file);
    const vae = file.vae ? `-vae-${(await this.#hashPath(file.vae)).sha256.slice(0, 10)}` : "";
    return join(this.opts.cacheDir, `${sha256.slice(0, 16)}${vae}`);
  }

  /** Where the file's import is, if it exists (a VAE added or removed since changes it). */
  async #findFolder(file: DroppedFile): Promise<void> {
    const target = await this.#target(file);
    file.folder = (await readRecord(target))?.sha256 === file.hashes!.sha256 ? target : undefined;
  }

  /**
   * The folder of an imported file, importing it first when needed. Concurrent calls for the same file share
   * one import (each gets its progress); a file that fails keeps the reason as its problem and throws it.
   */
  async ensureImported(file: DroppedFile, onProgress?: ImportProgress): Promise<string> {
    if (file.problem) throw new InputError(file.problem);
    const target = await this.#target(file);
    if ((await readRecord(target))?.sha256 === file.hashes!.sha256) return file.folder = target;
    let job = this.#imports.get(target);
    if (!job) {
      const listeners = new Set<ImportProgress>();
      job = { listeners, promise: this.#import(file, target, listeners) };
      this.#imports.set(target, job);
      job.promise.finally(() => this.#imports.delete(target)).catch(() => {});
    }
    if (onProgress) job.listeners.add(onProgress);
    try {
      return file.folder = await job.promise;
    } finally {
      if (onProgress) job.listeners.delete(onProgress);
    }
  }

  async #import(file: DroppedFile, target: string, listeners: Set<ImportProgress>): Promise<string> {
    const log = this.opts.log;
    log?.(`importing ${file.path}${file.vae ? ` with ${file.vae}` : ""} into ${target}`);
    let logged = "";
    const started = performance.now();
    await Deno.mkdir(this.opts.cacheDir, { recursive: true });
    try {
      await importOnWorker(file.path, {
        modelsDir: dirname(target),
        name: basename(target),
        vae: file.vae,
        config: file.config,
        hashes: file.hashes,
      }, (stage, done, total) => {
        for (const l of listeners) l(stage, done, total);
        // The server log gets a line per stage and quarter.
        const mark = `${stage} ${Math.floor((done / Math.max(total, 1)) * 4) * 25}%`;
        if (mark !== logged) log?.(`importing ${file.name}: ${mark}`), logged = mark;
      });
    } catch (e) {
      // Another process may have put the same import in place first.
      if ((await readRecord(target))?.sha256 === file.hashes!.sha256) return file.folder = target;
      if (e instanceof InputError) {
        file.problem = e.message;
        log?.(`cannot import ${file.path}: ${e.message}`);
      }
      throw e;
    }
    log?.(`imported ${file.name} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return file.folder = target;
  }
}

/** importSingleFile on a worker thread (import_worker.ts); its input errors come back as CheckpointError. */
function importOnWorker(
  file: string,
  options: Omit<ImportOptions, "onProgress">,
  onProgress: ImportProgress,
): Promise<void> {
  const worker = new Worker(new URL("./import_worker.ts", import.meta.url), { type: "module" });
  const done = Promise.withResolvers<void>();
  worker.onmessage = (e: MessageEvent<ImportMessage>) => {
    const m = e.data;
    if ("progress" in m) onProgress(...m.progress);
    else if ("done" in m) done.resolve();
    else done.reject(m.input ? new CheckpointError(m.error) : new Error(m.error));
  };
  worker.onerror = (e) => {
    e.preventDefault();
    done.reject(new Error(`the import worker failed: ${e.message}`));
  };
  worker.postMessage({ file, options } satisfies ImportRequest);
  return done.promise.finally(() => worker.terminate());
}

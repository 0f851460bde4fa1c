// Makes one aesthetic embedding at a time in the background for the WebUI: the mean CLIP image embedding of a
// folder on the server or of images uploaded from the browser (kept in a temporary folder while it runs),
// written into the embeddings folder under a confined name, with progress to poll, every skipped file with
// its reason, and a quality report of the set. With a RemoteEmbedder (serve --queue) the images go to a queue
// worker, and the vector it sends back is written here.
import { basename, extname, join, resolve } from "node:path";
import { makeEmbedding, NoImagesError, type Progress } from "../embed/make_embedding.ts";
import { listImageFiles } from "../embed/list_images.ts";
import { QualityCollector, type QualityReport } from "../embed/quality.ts";
import { checkSourceFolder, embeddingTarget, writeMadeEmbedding } from "../embed/save_embedding.ts";
import { DEFAULT_MAX_FILE_BYTES, hasImageExtension } from "../io/image.ts";
import { InputError, InputLimitError } from "../io/input_error.ts";
import { readRegularFile } from "../io/read_capped.ts";
import type { SessionOptions } from "../onnx/session.ts";

/** An image sent from the browser: its name (a folder upload's relative path) and bytes. */
export interface UploadedFile {
  name: string;
  data: Uint8Array;
}

export interface MakeRequest {
  name: string;
  /** A folder on the server's disk, searched recursively for images; or `uploads`. */
  source?: string;
  uploads?: UploadedFile[];
  batchSize: number;
  overwrite: boolean;
  clipDir: string;
}

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface MakerStatus {
  running: boolean;
  /** The embedding being (or last) made, as it will be listed. */
  name: string | null;
  progress: Progress | null;
  /** The outcome of the last run, for people. */
  message: string | null;
  ok: boolean | null;
  /** Every file left out, with why. */
  skipped: SkippedFile[];
  quality: QualityReport | null;
}

const IDLE: MakerStatus = {
  running: false,
  name: null,
  progress: null,
  message: null,
  ok: null,
  skipped: [],
  quality: null,
};

/** An embedding made from a set of images, wherever it ran, with what the tab reports of it. */
export interface MadeEmbedding {
  embedding: Float32Array;
  dim: number;
  used: number;
  skipped: SkippedFile[];
  quality: QualityReport;
  /** The CLIP pair's folder name (the file's source_model). */
  sourceModel: string;
}

/** No usable image among them (every file skipped, listed with why), or nothing to make it from. */
export class EmbeddingFailure extends Error {
  constructor(message: string, readonly skipped: SkippedFile[] = []) {
    super(message);
    this.name = "EmbeddingFailure";
  }
}

/** The images of one embedding job, named as the person knows them; `label` names the set in messages. */
export interface EmbedFiles {
  files: UploadedFile[];
  batchSize: number;
  label: string;
}

/** Makes embeddings on other machines (serve --queue: a queue worker with the current checkpoint's pair). */
export interface RemoteEmbedder {
  embed(job: EmbedFiles, onProgress: (p: Progress) => void): Promise<MadeEmbedding>;
}

/** One queued job's images may hold this many bytes (Redis keeps them in the job until a worker takes it). */
export const MAX_REMOTE_EMBED_BYTES = 256 << 20;

/** What an unauthenticated caller is told about any source-folder problem: nothing about which paths exist. */
export const SOURCE_UNUSABLE =
  "the source folder cannot be used (it is missing, not a folder, unreadable, or holds no usable images)";

export class EmbeddingMaker {
  #status: MakerStatus = structuredClone(IDLE);
  #done: Promise<void> = Promise.resolve();

  /**
   * `revealPaths`: messages may say what is wrong with a server path (missing, not a folder, which file was
   * skipped). Only for authenticated servers: otherwise they would tell anyone which paths exist.
   */
  constructor(
    readonly dir: string,
    readonly revealPaths = true,
    readonly remote?: RemoteEmbedder,
  ) {}

  get busy(): boolean {
    return this.#status.running;
  }

  status(): MakerStatus {
    return structuredClone(this.#status);
  }

  /** Resolves when the current run (if any) has finished. */
  finished(): Promise<void> {
    return this.#done;
  }

  /** Checks the request and starts making the embedding; throws at once on a bad name, folder or upload. */
  start(req: MakeRequest): void {
    if (this.busy) {
      throw new Error(`an embedding (${this.#status.name}) is being made; wait for it to finish`);
    }
    const target = embeddingTarget({
      name: req.name,
      outDir: this.dir,
      overwrite: req.overwrite,
      overwriteHint: 'tick "overwrite"',
    });
    if (req.uploads) {
      if (req.uploads.length === 0) throw new InputError("choose images or a folder to upload", "files");
    } else if (req.source) {
      try {
        checkSourceFolder(req.source);
      } catch (e) {
        if (this.revealPaths) throw e;
        throw new InputError(SOURCE_UNUSABLE, "source");
      }
    } else {
      throw new InputError("give a folder on the server or upload images", "source");
    }
    this.#status = { ...structuredClone(IDLE), running: true, name: target.name, message: "Starting…" };
    this.#done = this.#run(req, target);
  }

  /** Made by a queue worker from the images sent with the job (a server folder's are read here first). */
  async #madeRemotely(
    remote: RemoteEmbedder,
    req: MakeRequest,
    label: string,
    onProgress: (p: Progress) => void,
  ): Promise<MadeEmbedding> {
    this.#status.message = "Queued: waiting for a worker";
    const { files, skipped } = req.uploads
      ? { files: req.uploads, skipped: [] }
      : await readFolderImages(req.source!);
    try {
      if (files.length === 0) throw new EmbeddingFailure(`no usable image files in ${label}`);
      const made = await remote.embed({ files, batchSize: req.batchSize, label }, onProgress);
      return { ...made, skipped: [...skipped, ...made.skipped] };
    } catch (e) {
      if (e instanceof EmbeddingFailure) throw new EmbeddingFailure(e.message, [...skipped, ...e.skipped]);
      throw e;
    }
  }

  async #run(req: MakeRequest, target: ReturnType<typeof embeddingTarget>): Promise<void> {
    const label = req.uploads ? "the uploaded files" : req.source!;
    const onProgress = (p: Progress) => {
      this.#status.progress = p;
      this.#status.message = `${p.done}/${p.total} images`;
    };
    const o = { clipDir: req.clipDir, batchSize: req.batchSize, label, onProgress };
    try {
      const made = this.remote
        ? await this.#madeRemotely(this.remote, req, label, onProgress)
        : req.uploads
        ? await embedUploads(req.uploads, o)
        : await embedFolder(req.source!, (p) => p, o);
      await writeMadeEmbedding(target, { ...made, skippedCount: made.skipped.length }, req.overwrite);
      this.#status.skipped = made.skipped;
      this.#status.quality = made.quality;
      const left = made.skipped.length ? `, ${made.skipped.length} skipped` : "";
      this.#status.message = `Created ${target.name} from ${made.used} images${left} (${made.dim}-d)`;
      this.#status.ok = true;
    } catch (e) {
      // Uploads are the caller's own files; a server folder's contents are told only to authenticated callers.
      const reveal = this.revealPaths || req.uploads !== undefined;
      if (e instanceof EmbeddingFailure && reveal) this.#status.skipped = e.skipped;
      this.#status.message = reveal ? `Failed: ${(e as Error).message}` : `Failed: ${SOURCE_UNUSABLE}`;
      this.#status.ok = false;
    } finally {
      this.#status.running = false;
    }
  }
}

interface EmbedOptions {
  clipDir: string;
  batchSize: number;
  /** What to call the folder in messages. */
  label: string;
  onProgress?: (p: Progress) => void;
  session?: SessionOptions;
}

/** The embedding of a folder's images; `shown` names each file as the person knows it. */
export async function embedFolder(
  src: string,
  shown: (path: string) => string,
  o: EmbedOptions,
): Promise<MadeEmbedding> {
  const quality = new QualityCollector();
  const named = (s: { path: string; skip: { message: string } }) => ({
    file: shown(s.path),
    reason: s.skip.message,
  });
  try {
    const r = await makeEmbedding({
      src,
      clipDir: o.clipDir,
      batchSize: o.batchSize,
      onEmbeds: quality.add,
      onProgress: o.onProgress,
      session: o.session,
    });
    return {
      embedding: r.embedding,
      dim: r.dim,
      used: r.used,
      skipped: r.skipped.map(named),
      quality: quality.report(r.embedding, shown),
      sourceModel: basename(resolve(r.clipDir)),
    };
  } catch (e) {
    const message = (e as Error).message.replaceAll(src, o.label);
    if (e instanceof NoImagesError) throw new EmbeddingFailure(message, e.skipped.map(named));
    throw new Error(message);
  }
}

/** The embedding of images given as bytes (uploads, or a queued job's files), staged in a temporary folder. */
export async function embedUploads(uploads: UploadedFile[], o: EmbedOptions): Promise<MadeEmbedding> {
  const staged = await stageUploads(uploads);
  try {
    const made = await embedFolder(staged.dir, (p) => staged.names.get(p) ?? p, o);
    return { ...made, skipped: [...staged.skipped, ...made.skipped] };
  } catch (e) {
    if (e instanceof EmbeddingFailure) {
      throw new EmbeddingFailure(e.message, [...staged.skipped, ...e.skipped]);
    }
    throw e;
  } finally {
    await Deno.remove(staged.dir, { recursive: true });
  }
}

/**
 * A server folder's images as bytes, for a worker that cannot read this disk: each named by its path here,
 * read only when it is a regular file under the image size cap (otherwise skipped, with why).
 */
export async function readFolderImages(
  src: string,
  maxBytes = MAX_REMOTE_EMBED_BYTES,
): Promise<{ files: UploadedFile[]; skipped: SkippedFile[] }> {
  const files: UploadedFile[] = [];
  const skipped: SkippedFile[] = [];
  let total = 0;
  for (const path of await listImageFiles(src)) {
    let data: Uint8Array;
    try {
      data = await readRegularFile(path, DEFAULT_MAX_FILE_BYTES, "the file");
    } catch (e) {
      skipped.push({ file: path, reason: (e as Error).message });
      continue;
    }
    total += data.byteLength;
    if (total > maxBytes) {
      throw new InputLimitError(
        `the folder's images are over ${maxBytes >> 20} MB, the most one queued embedding job carries`,
        "source",
      );
    }
    files.push({ name: path, data });
  }
  return { files, skipped };
}

/**
 * Writes uploads to a temporary folder under numbered names (the names people gave are never paths here),
 * keeping each file's extension so the image lister finds it; files without an image extension are skipped.
 */
async function stageUploads(
  uploads: UploadedFile[],
): Promise<{ dir: string; names: Map<string, string>; skipped: SkippedFile[] }> {
  const dir = await Deno.makeTempDir({ prefix: "embedding-upload-" });
  const names = new Map<string, string>();
  const skipped: SkippedFile[] = [];
  for (const [i, f] of uploads.entries()) {
    if (!hasImageExtension(f.name)) {
      skipped.push({ file: f.name, reason: "not an image file (by its extension)" });
      continue;
    }
    const path = join(dir, `${String(i).padStart(6, "0")}${extname(f.name).toLowerCase()}`);
    await Deno.writeFile(path, f.data);
    names.set(path, f.name);
  }
  return { dir, names, skipped };
}

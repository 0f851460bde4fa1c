// Makes one aesthetic embedding at a time in the background for the WebUI: the mean CLIP image embedding of a
// folder on the server or of images uploaded from the browser (kept in a temporary folder while it runs),
// written into the embeddings folder under a confined name, with progress to poll, every skipped file with
// its reason, and a quality report of the set.
import { extname, join } from "node:path";
import { NoImagesError, type Progress } from "../embed/make_embedding.ts";
import { QualityCollector, type QualityReport } from "../embed/quality.ts";
import { checkSourceFolder, embeddingTarget, saveEmbedding } from "../embed/save_embedding.ts";
import { hasImageExtension } from "../io/image.ts";
import { InputError } from "../io/input_error.ts";

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
  constructor(readonly dir: string, readonly revealPaths = true) {}

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

  async #run(req: MakeRequest, target: ReturnType<typeof embeddingTarget>): Promise<void> {
    const staged = req.uploads ? await stageUploads(req.uploads) : undefined;
    const src = staged?.dir ?? req.source!;
    const shown = (path: string) => staged?.names.get(path) ?? path;
    const quality = new QualityCollector();
    const skipped: SkippedFile[] = staged?.skipped ?? [];
    try {
      const result = await saveEmbedding(target, {
        src,
        clipDir: req.clipDir,
        batchSize: req.batchSize,
        overwrite: req.overwrite,
        onEmbeds: quality.add,
        onProgress: (p) => {
          this.#status.progress = p;
          this.#status.message = `${p.done}/${p.total} images`;
        },
      });
      skipped.push(...result.skipped.map((s) => ({ file: shown(s.path), reason: s.skip.message })));
      this.#status.quality = quality.report(result.embedding, shown);
      const left = skipped.length ? `, ${skipped.length} skipped` : "";
      this.#status.message = `Created ${target.name} from ${result.used} images${left} (${result.dim}-d)`;
      this.#status.ok = true;
    } catch (e) {
      // Uploads are the caller's own files; a server folder's contents are told only to authenticated callers.
      const reveal = this.revealPaths || staged !== undefined;
      if (e instanceof NoImagesError && reveal) {
        skipped.push(...e.skipped.map((s) => ({ file: shown(s.path), reason: s.skip.message })));
      }
      this.#status.message = reveal
        ? `Failed: ${(e as Error).message.replaceAll(src, staged ? "the uploaded files" : src)}`
        : `Failed: ${SOURCE_UNUSABLE}`;
      this.#status.ok = false;
    } finally {
      this.#status.skipped = skipped;
      this.#status.running = false;
      if (staged) await Deno.remove(staged.dir, { recursive: true });
    }
  }
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

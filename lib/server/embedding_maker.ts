// Makes one aesthetic embedding at a time in the background for the WebUI: the mean CLIP image embedding of a
// folder, written into the embeddings folder under a confined name, with progress to poll and a result message.
import { NoImagesError, type Progress } from "../embed/make_embedding.ts";
import { checkSourceFolder, embeddingTarget, saveEmbedding } from "../embed/save_embedding.ts";
import { InputError } from "../io/input_error.ts";

export interface MakeRequest {
  name: string;
  /** A folder on the server's disk, searched recursively for images. */
  source: string;
  batchSize: number;
  overwrite: boolean;
  clipDir: string;
}

export interface MakerStatus {
  running: boolean;
  /** The embedding being (or last) made, as it will be listed. */
  name: string | null;
  progress: Progress | null;
  /** The outcome of the last run, for people. */
  message: string | null;
  ok: boolean | null;
}

/** What an unauthenticated caller is told about any source-folder problem: nothing about which paths exist. */
export const SOURCE_UNUSABLE =
  "the source folder cannot be used (it is missing, not a folder, unreadable, or holds no usable images)";

export class EmbeddingMaker {
  #status: MakerStatus = { running: false, name: null, progress: null, message: null, ok: null };
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

  /** Checks the request and starts making the embedding; throws at once on a bad name or folder. */
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
    try {
      checkSourceFolder(req.source);
    } catch (e) {
      if (this.revealPaths) throw e;
      throw new InputError(SOURCE_UNUSABLE, "source");
    }
    this.#status = { running: true, name: target.name, progress: null, message: "Starting…", ok: null };
    this.#done = this.#run(req, target);
  }

  async #run(req: MakeRequest, target: ReturnType<typeof embeddingTarget>): Promise<void> {
    try {
      const result = await saveEmbedding(target, {
        src: req.source,
        clipDir: req.clipDir,
        batchSize: req.batchSize,
        overwrite: req.overwrite,
        onProgress: (p) => {
          this.#status.progress = p;
          this.#status.message = `${p.done}/${p.total} images`;
        },
      });
      const skipped = result.skipped.length ? `, ${result.skipped.length} skipped` : "";
      this.#status.message = `Created ${target.name} from ${result.used} images${skipped} (${result.dim}-d)`;
      this.#status.ok = true;
    } catch (e) {
      const why = e instanceof NoImagesError && e.skipped.length
        ? ` (${e.skipped[0].path}: ${e.skipped[0].skip.message})`
        : "";
      this.#status.message = this.revealPaths
        ? `Failed: ${(e as Error).message}${why}`
        : `Failed: ${SOURCE_UNUSABLE}`;
      this.#status.ok = false;
    } finally {
      this.#status.running = false;
    }
  }
}

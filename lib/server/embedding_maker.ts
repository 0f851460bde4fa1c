// Makes one aesthetic embedding at a time in the background for the WebUI: the mean CLIP image embedding of a
// folder, written into the embeddings folder under a confined name, with progress to poll and a result message.
import { extname } from "node:path";
import { writeEmbedding } from "../io/embedding.ts";
import { makeEmbedding, NoImagesError, type Progress } from "../embed/make_embedding.ts";
import { pathIn } from "./safe_name.ts";

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

export class EmbeddingMaker {
  #status: MakerStatus = { running: false, name: null, progress: null, message: null, ok: null };
  #done: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {}

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
    const ext = extname(req.name).toLowerCase();
    const file = ext === ".pt" || ext === ".safetensors" ? req.name : `${req.name}.pt`;
    const path = pathIn(this.dir, file, "embedding name");
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(req.source);
    } catch {
      throw new Error(`source folder ${req.source} does not exist`);
    }
    if (!info.isDirectory) throw new Error(`source ${req.source} is not a folder`);
    if (!req.overwrite) {
      try {
        Deno.statSync(path);
        throw new Error(`an embedding named ${file} already exists; tick "overwrite" to replace it`);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    const name = file.slice(0, file.length - extname(file).length);
    this.#status = { running: true, name, progress: null, message: "Starting…", ok: null };
    this.#done = this.#run(req, path, name);
  }

  async #run(req: MakeRequest, path: string, name: string): Promise<void> {
    try {
      const result = await makeEmbedding({
        src: req.source,
        clipDir: req.clipDir,
        batchSize: req.batchSize,
        onProgress: (p) => {
          this.#status.progress = p;
          this.#status.message = `${p.done}/${p.total} images`;
        },
      });
      await Deno.mkdir(this.dir, { recursive: true });
      await writeEmbedding(path, result.embedding, {
        overwrite: req.overwrite,
        metadata: { images: String(result.used), clip: req.clipDir },
      });
      const skipped = result.skipped.length ? `, ${result.skipped.length} skipped` : "";
      this.#status.message = `Created ${name} from ${result.used} images${skipped} (${result.dim}-d)`;
      this.#status.ok = true;
    } catch (e) {
      const why = e instanceof NoImagesError && e.skipped.length
        ? ` (${e.skipped[0].path}: ${e.skipped[0].skip.message})`
        : "";
      this.#status.message = `Failed: ${(e as Error).message}${why}`;
      this.#status.ok = false;
    } finally {
      this.#status.running = false;
    }
  }
}

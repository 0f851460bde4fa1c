// An aesthetic embedding (Gallego 2022): the mean CLIP image_embeds of a folder of images, unnormalized, as
// the paper's scripts and the A1111 extension compute it. Decoding runs in workers a batch ahead of
// inference; the mean is kept as a running sum, so memory does not grow with the number of images.
import { outputSize, readImageProcessorConfig } from "../clip/image_processor.ts";
import { openClipVision } from "../clip/vision.ts";
import type { SessionOptions } from "../onnx/session.ts";
import type { ImageSkip } from "../io/image.ts";
import { listImageFiles } from "./list_images.ts";
import { PreprocessPool } from "./preprocess_pool.ts";
import { RunningMean } from "./running_mean.ts";

import { DEFAULT_CLIP_DIR } from "../models/defaults.ts";

/** The CLIP model used when none is given: the embedded demo pair. */
export { DEFAULT_CLIP_DIR };

export const DEFAULT_BATCH_SIZE = 32;

export interface Progress {
  /** Files handled so far (used + skipped). */
  done: number;
  total: number;
  used: number;
  skipped: number;
  elapsedSeconds: number;
  imagesPerSecond: number;
  /** Estimated seconds left; undefined until something is done. */
  etaSeconds?: number;
}

export interface SkippedImage {
  path: string;
  skip: ImageSkip;
}

export interface MakeEmbeddingOptions {
  src: string;
  clipDir?: string;
  batchSize?: number;
  /** Called after every batch. */
  onProgress?: (p: Progress) => void;
  /** Each batch's used files and their image_embeds (n × dim), e.g. for a quality report of the set. */
  onEmbeds?: (files: string[], embeds: Float32Array) => void;
  session?: SessionOptions;
  /** Preprocessing workers (see PreprocessPool). */
  workers?: number;
  maxPixels?: number;
}

export interface AestheticEmbedding {
  /** Mean image_embeds, length dim. */
  embedding: Float32Array;
  dim: number;
  used: number;
  skipped: SkippedImage[];
  clipDir: string;
}

/** No usable image: the folder has no image files, or every one was skipped (listed in `skipped`). */
export class NoImagesError extends Error {
  constructor(message: string, readonly skipped: SkippedImage[] = []) {
    super(message);
    this.name = "NoImagesError";
  }
}

export async function makeEmbedding(opts: MakeEmbeddingOptions): Promise<AestheticEmbedding> {
  const clipDir = opts.clipDir ?? DEFAULT_CLIP_DIR;
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer`);
  const files = await listImageFiles(opts.src);
  if (files.length === 0) throw new NoImagesError(`no image files in ${opts.src}`);

  const config = await readImageProcessorConfig(clipDir);
  const size = outputSize(config);
  if (!size) throw new Error(`${clipDir}: the preprocessing config must crop or resize to a fixed size`);
  const vision = await openClipVision(clipDir, opts.session);
  const perImage = 3 * size.height * size.width;
  // Two batches of slots: the workers fill one while the other is read and inferred.
  const pool = new PreprocessPool(config, {
    workers: opts.workers,
    maxPixels: opts.maxPixels,
    slots: 2 * batchSize,
    perImage,
  });
  try {
    const batch = new Float32Array(batchSize * perImage);
    const skipped: SkippedImage[] = [];
    let mean: RunningMean | undefined;
    const start = performance.now();

    const batches = Math.ceil(files.length / batchSize);
    const paths = (k: number) => files.slice(k * batchSize, (k + 1) * batchSize);
    const prepare = (k: number) => {
      const ready = pool.prepare(paths(k), (k % 2) * batchSize);
      // A batch read ahead may fail (or be cancelled by close()) while an earlier one is still in use; its
      // error surfaces when it is awaited, not as an unhandled rejection.
      ready.catch(() => {});
      return ready;
    };
    const ahead = [prepare(0), batches > 1 ? prepare(1) : undefined];
    for (let k = 0; k < batches; k++) {
      const skips = await ahead[k % 2]!;
      const names = paths(k);
      let n = 0;
      const used: string[] = [];
      for (let i = 0; i < skips.length; i++) {
        const skip = skips[i];
        if (skip) skipped.push({ path: names[i], skip });
        else {
          batch.set(pool.pixels((k % 2) * batchSize + i), n++ * perImage);
          used.push(names[i]);
        }
      }
      // Those slots are copied out: the workers can fill them with the batch after next during inference.
      ahead[k % 2] = k + 2 < batches ? prepare(k + 2) : undefined;
      if (n > 0) {
        const embeds = await vision.embed(batch.subarray(0, n * perImage), n, size.height, size.width);
        mean ??= new RunningMean(embeds.length / n);
        mean.add(embeds, n);
        opts.onEmbeds?.(used, embeds);
      }
      if (opts.onProgress) {
        const used = mean?.count ?? 0;
        const done = used + skipped.length;
        const elapsedSeconds = (performance.now() - start) / 1000;
        const imagesPerSecond = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
        opts.onProgress({
          done,
          total: files.length,
          used,
          skipped: skipped.length,
          elapsedSeconds,
          imagesPerSecond,
          etaSeconds: imagesPerSecond > 0 ? (files.length - done) / imagesPerSecond : undefined,
        });
      }
    }
    if (!mean) {
      throw new NoImagesError(
        `none of the ${files.length} image files in ${opts.src} could be used`,
        skipped,
      );
    }
    return { embedding: mean.mean(), dim: mean.dim, used: mean.count, skipped, clipDir };
  } finally {
    pool.close();
    await vision.release();
  }
}

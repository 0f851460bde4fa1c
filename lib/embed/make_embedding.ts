// An aesthetic embedding (Gallego 2022): the mean CLIP image_embeds of a folder of images, unnormalized, as
// the paper's scripts and the A1111 extension compute it. Decoding runs in workers a couple of batches ahead
// of inference; the mean is kept as a running sum, so memory does not grow with the number of images.
import { outputSize, readImageProcessorConfig } from "../clip/image_processor.ts";
import { openClipVision } from "../clip/vision.ts";
import type { SessionOptions } from "../onnx/session.ts";
import type { ImageSkip } from "../io/image.ts";
import { listImageFiles } from "./list_images.ts";
import { type Prepared, PreprocessPool } from "./preprocess_pool.ts";
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
  // Requests run ahead of inference by up to two batches; results are consumed in file order.
  const window = 2 * batchSize;
  const pool = new PreprocessPool(config, {
    workers: opts.workers,
    maxPixels: opts.maxPixels,
    slots: window,
    perImage,
  });
  try {
    const batch = new Float32Array(batchSize * perImage);
    const skipped: SkippedImage[] = [];
    let mean: RunningMean | undefined;
    const start = performance.now();

    const queue: { path: string; result: Promise<Prepared> }[] = [];
    let next = 0;
    const refill = () => {
      while (next < files.length && queue.length < window) {
        const path = files[next];
        queue.push({ path, result: pool.process(path, next % window) });
        next++;
      }
    };
    refill();
    while (queue.length > 0) {
      let n = 0;
      while (n < batchSize && queue.length > 0) {
        const { path, result } = queue.shift()!;
        const prepared = await result;
        // Copy out of the shared slot before refill() hands that slot to the next file.
        if (prepared.ok) batch.set(prepared.pixels, n++ * perImage);
        else skipped.push({ path, skip: prepared.skip });
        refill();
      }
      if (n > 0) {
        const embeds = await vision.embed(batch.subarray(0, n * perImage), n, size.height, size.width);
        mean ??= new RunningMean(embeds.length / n);
        mean.add(embeds, n);
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

// Worker side of PreprocessPool: decodes and preprocesses images off the main thread, which onnxruntime-node
// blocks while a batch runs.
import { type ImageSkip, loadImage, type RgbImage } from "../io/image.ts";
import { preprocessImage } from "../clip/image_processor.ts";
import { release } from "../io/release.ts";
import type { PoolInit, PoolReply, PoolRequest } from "./preprocess_pool.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<PoolRequest | PoolInit>) => void) | null;
  postMessage(message: PoolReply): void;
};

let init: PoolInit | undefined;
let pixels: Float32Array | undefined;

// Requests run one after another, one image at a time: the pool already keeps every worker busy, and decoding
// many at once only holds more decoded images in memory.
let chain: Promise<void> = Promise.resolve();

scope.onmessage = (e) => {
  const data = e.data;
  if ("shared" in data) {
    init = data;
    pixels = new Float32Array(data.shared);
    return;
  }
  chain = chain.then(() => handle(data));
};

async function handle({ id, paths, slot }: PoolRequest): Promise<void> {
  const skips: (ImageSkip | null)[] = [];
  for (let i = 0; i < paths.length; i++) skips.push(await prepare(paths[i], (slot + i) * init!.perImage));
  scope.postMessage({ id, skips });
}

async function prepare(path: string, offset: number): Promise<ImageSkip | null> {
  // Any failure is this file's skip, never the worker's end: a rejected chain would stall every later batch.
  let image: RgbImage | undefined;
  try {
    const loaded = await loadImage(path, { maxPixels: init!.maxPixels });
    if (!loaded.ok) return loaded.skip;
    image = loaded.image;
    preprocessImage(image, init!.config, pixels!, offset);
    return null;
  } catch (err) {
    return { code: "unprocessable", message: (err as Error).message };
  } finally {
    // The full-size decoded image is the biggest allocation per file: free it now, not at a later full GC.
    if (image) release(image.data);
  }
}

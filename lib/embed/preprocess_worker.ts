// Worker side of PreprocessPool: decodes and preprocesses images off the main thread, which onnxruntime-node
// blocks while a batch runs.
import { loadImage } from "../io/image.ts";
import { preprocessImage } from "../clip/image_processor.ts";
import type { PoolInit, PoolReply, PoolRequest } from "./preprocess_pool.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<PoolRequest | PoolInit>) => void) | null;
  postMessage(message: PoolReply, transfer?: Transferable[]): void;
};

let pixels: Float32Array | undefined;

// One image at a time: the pool already keeps every worker busy, and decoding many at once only holds more
// decoded images in memory.
let chain: Promise<void> = Promise.resolve();

scope.onmessage = (e) => {
  const data = e.data;
  if ("shared" in data) {
    pixels = new Float32Array(data.shared);
    return;
  }
  chain = chain.then(() => handle(data));
};

async function handle({ id, path, config, maxPixels, offset }: PoolRequest): Promise<void> {
  const loaded = await loadImage(path, { maxPixels });
  if (!loaded.ok) return scope.postMessage({ id, ok: false, skip: loaded.skip });
  try {
    preprocessImage(loaded.image, config, pixels!, offset);
  } catch (err) {
    return scope.postMessage({
      id,
      ok: false,
      skip: { code: "unprocessable", message: (err as Error).message },
    });
  }
  scope.postMessage({ id, ok: true });
}

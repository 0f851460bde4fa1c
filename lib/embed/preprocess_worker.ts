// Worker side of PreprocessPool: decodes and preprocesses images off the main thread, which onnxruntime-node
// blocks while a batch runs.
import { loadImage } from "../io/image.ts";
import { preprocessImage } from "../clip/image_processor.ts";
import type { PoolReply, PoolRequest } from "./preprocess_pool.ts";

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<PoolRequest>) => void) | null;
  postMessage(message: PoolReply, transfer?: Transferable[]): void;
};

scope.onmessage = async (e) => {
  const { id, path, config, maxPixels } = e.data;
  const loaded = await loadImage(path, { maxPixels });
  if (!loaded.ok) return scope.postMessage({ id, ok: false, skip: loaded.skip });
  let pixels: Float32Array;
  try {
    pixels = preprocessImage(loaded.image, config);
  } catch (err) {
    return scope.postMessage({
      id,
      ok: false,
      skip: { code: "unprocessable", message: (err as Error).message },
    });
  }
  scope.postMessage({ id, ok: true, pixels }, [pixels.buffer as ArrayBuffer]);
};

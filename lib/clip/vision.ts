// CLIP's vision tower through onnxruntime, in the transformers.js layout: <clip dir>/onnx/vision_model.onnx
// takes pixel_values (batch, 3, H, W) and returns image_embeds (batch, D), the projected image features.
import { join } from "node:path";
import { release } from "../io/release.ts";
import { openSession, type Session, type SessionOptions, Tensor } from "../onnx/session.ts";

export const VISION_MODEL_PATH = join("onnx", "vision_model.onnx");

export interface ClipVision {
  /** The model file opened. */
  path: string;
  /** Input image size the graph fixes, when it fixes one. */
  imageSize?: { height: number; width: number };
  /** Width of image_embeds, when the graph fixes it (it does for every real export). */
  embedDim?: number;
  /** image_embeds for `batch` images laid out as (batch, 3, H, W) in `pixels`; returns (batch, D) row-major. */
  embed(pixels: Float32Array, batch: number, height: number, width: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * Images per onnxruntime call on the CPU. A ViT-L/14 batch of 32 has attention scores of 32×16×257×257 floats
 * (135 MB) per layer: far past any cache. Four at a time runs ~25 % faster per image on the same cores
 * (`deno task bench embed`), and each image's embedding does not depend on its batch. Other devices take the
 * whole batch.
 */
export const CPU_MICRO_BATCH = 4;

export interface ClipVisionOptions extends SessionOptions {
  /** Images per onnxruntime call; default CPU_MICRO_BATCH on the CPU, the whole batch elsewhere. */
  microBatch?: number;
}

/** Opens `<clipDir>/onnx/vision_model.onnx` and checks it has the pixel_values → image_embeds signature. */
export async function openClipVision(clipDir: string, opts: ClipVisionOptions = {}): Promise<ClipVision> {
  const path = join(clipDir, VISION_MODEL_PATH);
  try {
    await Deno.stat(path);
  } catch {
    throw new Error(
      `no CLIP vision model at ${path} (expected the transformers.js layout: onnx/vision_model.onnx)`,
    );
  }
  const micro = opts.microBatch ?? ((opts.device ?? "cpu") === "cpu" ? CPU_MICRO_BATCH : Infinity);
  if (!(micro >= 1)) throw new Error(`micro-batch size must be at least 1, got ${opts.microBatch}`);
  const session = await openSession(path, opts);
  return wrap(path, session, micro);
}

function wrap(path: string, session: Session, micro: number): ClipVision {
  if (!session.inputNames.includes("pixel_values") || !session.outputNames.includes("image_embeds")) {
    throw new Error(
      `${path} is not a CLIP vision model with projection: inputs [${session.inputNames}], ` +
        `outputs [${session.outputNames}]; expected input pixel_values and output image_embeds`,
    );
  }
  const input = session.inputMetadata.find((m) => m.name === "pixel_values");
  const output = session.outputMetadata.find((m) => m.name === "image_embeds");
  const inShape = input?.isTensor ? input.shape : [];
  const outShape = output?.isTensor ? output.shape : [];
  const fixed = (d: unknown) => (typeof d === "number" && d > 0 ? d : undefined);
  if (inShape.length === 4 && fixed(inShape[1]) !== undefined && inShape[1] !== 3) {
    throw new Error(`${path}: pixel_values has ${inShape[1]} channels, expected 3`);
  }
  const h = fixed(inShape[2]), w = fixed(inShape[3]);
  const imageSize = h && w ? { height: h, width: w } : undefined;
  const embedDim = outShape.length === 2 ? fixed(outShape[1]) : undefined;

  return {
    path,
    imageSize,
    embedDim,
    async embed(pixels, batch, height, width) {
      if (!Number.isInteger(batch) || batch < 1) {
        throw new Error(`batch must be a positive integer, got ${batch}`);
      }
      if (pixels.length !== batch * 3 * height * width) {
        throw new Error(`pixel buffer holds ${pixels.length} values, expected ${batch}×3×${height}×${width}`);
      }
      if (imageSize && (imageSize.height !== height || imageSize.width !== width)) {
        throw new Error(
          `${path} takes ${imageSize.height}×${imageSize.width} images, got ${height}×${width}`,
        );
      }
      const per = 3 * height * width;
      let result: Float32Array | undefined;
      for (let start = 0; start < batch; start += micro) {
        const n = Math.min(micro, batch - start);
        const input = pixels.subarray(start * per, (start + n) * per);
        const out = await session.run({ pixel_values: new Tensor("float32", input, [n, 3, height, width]) }, [
          "image_embeds",
        ]);
        const t = out.image_embeds;
        if (t.type !== "float32" || t.dims.length !== 2 || t.dims[0] !== n) {
          throw new Error(
            `${path}: image_embeds came back as ${t.type} [${t.dims}], expected float32 [${n}, D]`,
          );
        }
        const data = t.data as Float32Array;
        result ??= new Float32Array(batch * data.length / n);
        // Copied out, then freed at once rather than at a later full GC.
        result.set(data, start * (data.length / n));
        release(data);
        t.dispose();
      }
      return result!;
    },
    release: () => session.release(),
  };
}

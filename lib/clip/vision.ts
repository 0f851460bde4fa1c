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

/** Opens `<clipDir>/onnx/vision_model.onnx` and checks it has the pixel_values → image_embeds signature. */
export async function openClipVision(clipDir: string, opts: SessionOptions = {}): Promise<ClipVision> {
  const path = join(clipDir, VISION_MODEL_PATH);
  try {
    await Deno.stat(path);
  } catch {
    throw new Error(
      `no CLIP vision model at ${path} (expected the transformers.js layout: onnx/vision_model.onnx)`,
    );
  }
  const session = await openSession(path, opts);
  return wrap(path, session);
}

function wrap(path: string, session: Session): ClipVision {
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
      if (pixels.length !== batch * 3 * height * width) {
        throw new Error(`pixel buffer holds ${pixels.length} values, expected ${batch}×3×${height}×${width}`);
      }
      if (imageSize && (imageSize.height !== height || imageSize.width !== width)) {
        throw new Error(
          `${path} takes ${imageSize.height}×${imageSize.width} images, got ${height}×${width}`,
        );
      }
      const feeds = { pixel_values: new Tensor("float32", pixels, [batch, 3, height, width]) };
      const out = await session.run(feeds, ["image_embeds"]);
      const t = out.image_embeds;
      if (t.type !== "float32" || t.dims.length !== 2 || t.dims[0] !== batch) {
        throw new Error(
          `${path}: image_embeds came back as ${t.type} [${t.dims}], expected float32 [${batch}, D]`,
        );
      }
      const data = t.data as Float32Array;
      // Copy out so the result does not pin onnxruntime's output buffer.
      const result = new Float32Array(data);
      release(data);
      t.dispose();
      return result;
    },
    release: () => session.release(),
  };
}

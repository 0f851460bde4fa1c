// The eval's CLIP measures: cosine of an image's CLIP embedding to the aesthetic embedding and to its prompt.
import {
  type ClipImageConfig,
  outputSize,
  preprocessImage,
  readImageProcessorConfig,
} from "../clip/image_processor.ts";
import { type ClipVision, openClipVision } from "../clip/vision.ts";
import type { RgbImage } from "../io/image.ts";
import type { SessionOptions } from "../onnx/session.ts";

export class ClipMeasure {
  private constructor(private readonly vision: ClipVision, private readonly config: ClipImageConfig) {}

  static async open(clipDir: string, session: SessionOptions): Promise<ClipMeasure> {
    const config = await readImageProcessorConfig(clipDir);
    return new ClipMeasure(await openClipVision(clipDir, session), config);
  }

  /** image_embeds of one image, as the embed task computes them. */
  async embed(image: RgbImage): Promise<Float32Array> {
    const pixels = preprocessImage(image, this.config);
    const size = outputSize(this.config) ?? { height: image.height, width: image.width };
    return await this.vision.embed(pixels, 1, size.height, size.width);
  }

  release(): Promise<void> {
    return this.vision.release();
  }
}

export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`cannot compare a ${a.length}-d and a ${b.length}-d vector`);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}

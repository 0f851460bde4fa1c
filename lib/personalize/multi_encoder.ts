// Models with several text encoders (SDXL) condition on their outputs side by side: each token's vector is the
// concatenation of every encoder's hidden state. Each encoder that can be personalized is personalized toward an
// embedding of its own dimension and mixed into its own columns; the others' columns are left as they are. The
// pooled vector (SDXL: the second encoder's text_embeds) follows the encoder whose personalizer gives one.
import type { AestheticPersonalizer, AestheticResult, AestheticSettings } from "./aesthetic.ts";

export interface EncoderPart {
  /** Hidden width of this encoder's block of columns. */
  hidden: number;
  /** This encoder's 77-token chunks (each encoder has its own tokenizer and padding). */
  chunkIds: Int32Array[];
  /** Absent: this encoder is not personalized. */
  personalizer?: AestheticPersonalizer;
  /** The aesthetic embedding in this encoder's projection space. */
  embedding?: Float32Array;
}

export interface MultiEncoderResult {
  conditioning: Map<number, Float32Array>;
  /** Per encoder (undefined when not personalized): per chunk similarity traces. */
  similarity: (number[][] | undefined)[];
  /** The pooled vector per step count, when a personalized encoder gives one (else the caller's stays). */
  pooled?: Map<number, Float32Array>;
}

/** z is tokens × Σ hidden, row-major, the encoders' blocks in `parts` order. */
export async function applyToEncoders(
  z: Float32Array,
  parts: EncoderPart[],
  settings: AestheticSettings,
  sweep: number[] = [],
  pooled?: Float32Array,
  shouldStop?: () => boolean,
): Promise<MultiEncoderResult> {
  const width = parts.reduce((n, p) => n + p.hidden, 0);
  if (z.length % width !== 0) {
    throw new Error(`the conditioning's width is not ${width} (the encoders' widths summed)`);
  }
  const tokens = z.length / width;
  const steps = [...new Set([settings.steps, ...sweep])];
  const conditioning = new Map(steps.map((s) => [s, z.slice()]));
  const similarity: (number[][] | undefined)[] = [];
  let pooledOut: Map<number, Float32Array> | undefined;
  let offset = 0;
  for (const part of parts) {
    if (!part.personalizer) {
      similarity.push(undefined);
      offset += part.hidden;
      continue;
    }
    if (!part.embedding) throw new Error("an encoder to personalize needs its aesthetic embedding");
    if (part.personalizer.engine.info.hiddenSize !== part.hidden) {
      throw new Error(
        `the personalized encoder is ${part.personalizer.engine.info.hiddenSize} wide, its block ${part.hidden}`,
      );
    }
    const block = columns(z, tokens, width, offset, part.hidden);
    const r: AestheticResult = await part.personalizer.apply(
      block,
      part.chunkIds,
      part.embedding,
      settings,
      sweep,
      pooled,
      shouldStop,
    );
    pooledOut = r.pooled ?? pooledOut;
    for (const s of steps) {
      setColumns(conditioning.get(s)!, r.conditioning.get(s)!, tokens, width, offset, part.hidden);
    }
    similarity.push(r.similarity);
    offset += part.hidden;
  }
  return pooledOut ? { conditioning, similarity, pooled: pooledOut } : { conditioning, similarity };
}

function columns(z: Float32Array, rows: number, width: number, offset: number, n: number): Float32Array {
  const out = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) out.set(z.subarray(r * width + offset, r * width + offset + n), r * n);
  return out;
}

function setColumns(
  z: Float32Array,
  block: Float32Array,
  rows: number,
  width: number,
  offset: number,
  n: number,
) {
  for (let r = 0; r < rows; r++) z.set(block.subarray(r * n, (r + 1) * n), r * width + offset);
}

// The prompt and negative prompt as the UNet sees them, built as A1111 builds them: each prompt split into
// 77-token chunks with emphasis (lib/clip/chunks.ts), encoded, passed through the caller's conditioning hooks
// (aesthetic personalization), and the shorter of the two padded with encodings of the empty prompt so both
// have the same number of tokens. SDXL: each chunk goes through both text encoders (their penultimate layers,
// side by side; CLIP skip does not apply, as in A1111), the pooled vector is the second encoder's text_embeds of
// the first chunk, and an empty negative prompt is all zeros (force_zeros_for_empty_prompt; A1111 does the
// same).
import {
  type ChunkedPrompt,
  chunkIds,
  emptyChunk,
  type EncodeChunk,
  encodeChunks,
  promptChunks,
} from "../clip/chunks.ts";
import {
  asHooked,
  type ConditioningHook,
  type EncoderBlock,
  type HookedConditioning,
  type PromptConditioning,
} from "../clip/conditioning_hook.ts";
import type { ClipTextEncoder } from "../clip/text_encoder.ts";
import type { ClipTokenizer } from "../clip/tokenizer.ts";
import type { SdModel } from "./sd_model.ts";

export type { ConditioningHook, HookedConditioning, PromptConditioning };

export interface PromptPair {
  /** Both tokens × hidden with the same token count. */
  cond: Float32Array;
  uncond: Float32Array;
  tokens: number;
  hidden: number;
  /** SDXL: each prompt's pooled vector. */
  pooledCond?: Float32Array;
  pooledUncond?: Float32Array;
}

/** Lays blocks of tokens × widths[i] side by side: tokens × Σ widths. */
function sideBySide(blocks: Float32Array[], widths: number[], tokens: number): Float32Array {
  const width = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(tokens * width);
  let offset = 0;
  blocks.forEach((b, i) => {
    const w = widths[i];
    for (let t = 0; t < tokens; t++) out.set(b.subarray(t * w, (t + 1) * w), t * width + offset);
    offset += w;
  });
  return out;
}

/** SDXL's two tokenizers and text encoders. */
export interface SdxlText {
  tokenizer: ClipTokenizer;
  textEncoder: ClipTextEncoder;
  tokenizer2: ClipTokenizer;
  textEncoder2: ClipTextEncoder;
}

function sdxlText(model: SdModel): SdxlText {
  return { tokenizer: model.tokenizer, textEncoder: model.textEncoder, ...model.xl! };
}

/** The second SDXL encoder on chunks: penultimate hidden states, and the first chunk's text_embeds (pooled). */
async function encodeWithPooled(
  chunks: ChunkedPrompt["chunks"],
  textEncoder2: ClipTextEncoder,
  weighted: boolean,
) {
  // One pass of the encoder per chunk: its hidden states, and the first chunk's text_embeds.
  let pooled: Float32Array | undefined;
  const hidden2 = textEncoder2.chunkEncoder("penultimate");
  const e = await encodeChunks(chunks, async (ids) => {
    if (pooled) return hidden2(ids);
    const out = await textEncoder2.encode(ids);
    pooled = out.pooled ?? new Float32Array(0);
    if (!out.penultimate) throw new Error("text_encoder_2 gives no penultimate layer");
    return out.penultimate;
  }, { weighted });
  if (!pooled?.length) throw new Error("text_encoder_2 gives no text_embeds (SDXL's pooled vector)");
  return { ...e, pooled };
}

/** SDXL: both encoders on the same text, each with its own tokenizer; the pooled vector from the first chunk. */
export async function encodeXl(
  xl: SdxlText,
  text: string,
  weighted: boolean,
): Promise<{ z: Float32Array; encoders: EncoderBlock[]; pooled: Float32Array }> {
  const first = promptChunks(text, xl.tokenizer).chunks;
  const second = promptChunks(text, xl.tokenizer2).chunks;
  if (first.length !== second.length) {
    throw new Error(
      `the two SDXL tokenizers split the prompt into ${first.length} and ${second.length} chunks`,
    );
  }
  const e1 = await encodeChunks(first, xl.textEncoder.chunkEncoder("penultimate"), { weighted });
  const e2 = await encodeWithPooled(second, xl.textEncoder2, weighted);
  return {
    z: sideBySide([e1.data, e2.data], [e1.hidden, e2.hidden], e1.tokens),
    encoders: [{ hidden: e1.hidden, chunkIds: e1.chunkIds }, { hidden: e2.hidden, chunkIds: e2.chunkIds }],
    pooled: e2.pooled,
  };
}

/** What an SDXL refiner conditions on: its text_encoder_2 alone. */
export interface RefinerText {
  tokenizer2: ClipTokenizer;
  textEncoder2: ClipTextEncoder;
  hiddenSize: number;
  zeroEmptyNegative: boolean;
}

/**
 * An SDXL refiner's prompt pair: text_encoder_2's penultimate hidden states and pooled vector (as diffusers'
 * refiner and A1111's refiner conditioner encode), evened out as encodePromptPair does. No hooks: aesthetic
 * personalization applies to the base model's encoders.
 */
export async function encodeRefinerPair(
  refiner: RefinerText,
  prompt: string,
  negativePrompt: string,
): Promise<PromptPair> {
  const encode = async (text: string, weighted: boolean, negative: boolean): Promise<PromptConditioning> => {
    const e = await encodeWithPooled(
      promptChunks(text, refiner.tokenizer2).chunks,
      refiner.textEncoder2,
      weighted,
    );
    return { z: e.data, chunkIds: e.chunkIds, negative, pooled: e.pooled };
  };
  const cond = await encode(prompt, true, false);
  const zeroNegative = refiner.zeroEmptyNegative && negativePrompt.trim() === "";
  const uncond = zeroNegative ? undefined : await encode(negativePrompt, true, true);
  return await evenOut(cond, uncond, refiner.hiddenSize, async () => (await encode("", false, false)).z);
}

async function encodePrompt(
  model: SdModel,
  prompt: string,
  clipSkip: number,
  negative: boolean,
  hooks: readonly ConditioningHook[],
): Promise<PromptConditioning> {
  let c: PromptConditioning;
  if (model.xl) {
    const e = await encodeXl(sdxlText(model), prompt, true);
    c = { z: e.z, chunkIds: e.encoders[0].chunkIds, negative, encoders: e.encoders, pooled: e.pooled };
  } else {
    const chunked: ChunkedPrompt = promptChunks(prompt, model.tokenizer);
    const encoded = await encodeChunks(chunked.chunks, await plainEncoder(model, clipSkip));
    c = { z: encoded.data, chunkIds: encoded.chunkIds, negative };
  }
  for (const hook of hooks) {
    const next = asHooked(await hook(c));
    if (next.z.length !== c.z.length) {
      throw new Error(
        `a conditioning hook returned ${next.z.length} values for a ${
          negative ? "negative " : ""
        }prompt of ` +
          `${c.z.length} (${c.chunkIds.length} chunk(s) × 77 × ${model.hiddenSize})`,
      );
    }
    if (next.pooled && next.pooled.length !== c.pooled?.length) {
      throw new Error(`a conditioning hook returned a pooled vector of ${next.pooled.length} values`);
    }
    c = { ...c, z: next.z, pooled: next.pooled ?? c.pooled };
  }
  return c;
}

async function plainEncoder(model: SdModel, clipSkip: number): Promise<EncodeChunk> {
  return clipSkip === 2
    ? (await model.clipSkipEncoder()).chunkEncoder("clip_skip")
    : model.textEncoder.chunkEncoder("last");
}

/** A1111's filler chunk for evening out prompt lengths: the empty prompt's encoding, unweighted and unhooked. */
async function emptyEncoding(model: SdModel, clipSkip: number): Promise<Float32Array> {
  if (model.xl) return (await encodeXl(sdxlText(model), "", false)).z;
  return (await encodeChunks([emptyChunk(chunkIds(model.tokenizer))], await plainEncoder(model, clipSkip)))
    .data;
}

/** Encodes both prompts, applies the hooks to each, then evens out their lengths with empty-prompt chunks. */
export async function encodePromptPair(
  model: SdModel,
  prompt: string,
  negativePrompt: string,
  clipSkip: number,
  hooks: readonly ConditioningHook[] = [],
): Promise<PromptPair> {
  const cond = await encodePrompt(model, prompt, clipSkip, false, hooks);
  // SDXL's empty negative prompt is zeros, whatever the prompt's length: nothing to encode or hook.
  const zeroNegative = model.xl?.zeroEmptyNegative === true && negativePrompt.trim() === "";
  const uncond = zeroNegative ? undefined : await encodePrompt(model, negativePrompt, clipSkip, true, hooks);
  return await evenOut(cond, uncond, model.hiddenSize, () => emptyEncoding(model, clipSkip));
}

/**
 * The pair with the same token count: the shorter padded with the empty prompt's encoding (A1111 repeats
 * cond_stage_model_empty_prompt, unweighted and unhooked); a missing negative (zeroed) is all zeros.
 */
async function evenOut(
  cond: PromptConditioning,
  uncond: PromptConditioning | undefined,
  hidden: number,
  emptyEncoding: () => Promise<Float32Array>,
): Promise<PromptPair> {
  const chunks = Math.max(cond.chunkIds.length, uncond?.chunkIds.length ?? 0);
  const tokens = chunks * 77;
  let empty: Float32Array | undefined;
  const pad = async (c: PromptConditioning) => {
    if (c.chunkIds.length === chunks) return c.z;
    empty ??= await emptyEncoding();
    const out = new Float32Array(tokens * hidden);
    out.set(c.z);
    for (let k = c.chunkIds.length; k < chunks; k++) out.set(empty, k * 77 * hidden);
    return out;
  };
  return {
    cond: await pad(cond),
    uncond: uncond ? await pad(uncond) : new Float32Array(tokens * hidden),
    tokens,
    hidden,
    pooledCond: cond.pooled,
    pooledUncond: cond.pooled ? uncond?.pooled ?? new Float32Array(cond.pooled.length) : undefined,
  };
}

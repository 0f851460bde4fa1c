// The prompt and negative prompt as the UNet sees them, built as A1111 builds them: each prompt split into
// 77-token chunks with emphasis (lib/clip/chunks.ts), encoded, passed through the caller's conditioning hooks
// (aesthetic personalization), and the shorter of the two padded with encodings of the empty prompt so both
// have the same number of tokens.
import { type ChunkedPrompt, chunkIds, emptyChunk, encodeChunks, promptChunks } from "../clip/chunks.ts";
import type { ConditioningHook, PromptConditioning } from "../clip/conditioning_hook.ts";
import type { SdModel } from "./sd_model.ts";

export type { ConditioningHook, PromptConditioning };

export interface PromptPair {
  /** Both tokens × hidden with the same token count. */
  cond: Float32Array;
  uncond: Float32Array;
  tokens: number;
  hidden: number;
}

async function encodePrompt(
  model: SdModel,
  prompt: ChunkedPrompt,
  clipSkip: number,
  negative: boolean,
  hooks: readonly ConditioningHook[],
): Promise<PromptConditioning> {
  const encoder = clipSkip === 2 ? (await model.clipSkipEncoder()).chunkEncoder("clip_skip") : undefined;
  const encoded = await encodeChunks(prompt.chunks, encoder ?? model.textEncoder.chunkEncoder("last"));
  let z = encoded.data;
  for (const hook of hooks) {
    const next = await hook({ z, chunkIds: encoded.chunkIds, negative });
    if (next.length !== z.length) {
      throw new Error(
        `a conditioning hook returned ${next.length} values for a ${negative ? "negative " : ""}prompt of ` +
          `${z.length} (${encoded.chunkIds.length} chunk(s) × 77 × ${encoded.hidden})`,
      );
    }
    z = next;
  }
  return { z, chunkIds: encoded.chunkIds, negative };
}

/** Encodes both prompts, applies the hooks to each, then evens out their lengths with empty-prompt chunks. */
export async function encodePromptPair(
  model: SdModel,
  prompt: string,
  negativePrompt: string,
  clipSkip: number,
  hooks: readonly ConditioningHook[] = [],
): Promise<PromptPair> {
  const tokenizer = model.tokenizer;
  const cond = await encodePrompt(model, promptChunks(prompt, tokenizer), clipSkip, false, hooks);
  const uncond = await encodePrompt(model, promptChunks(negativePrompt, tokenizer), clipSkip, true, hooks);
  const hidden = model.hiddenSize;
  const chunks = Math.max(cond.chunkIds.length, uncond.chunkIds.length);
  const tokens = chunks * 77;
  let empty: Float32Array | undefined;
  const pad = async (c: PromptConditioning) => {
    if (c.chunkIds.length === chunks) return c.z;
    // A1111 repeats the empty prompt's encoding (cond_stage_model_empty_prompt), unweighted and unhooked.
    empty ??= (await encodeChunks(
      [emptyChunk(chunkIds(tokenizer))],
      clipSkip === 2
        ? (await model.clipSkipEncoder()).chunkEncoder("clip_skip")
        : model.textEncoder.chunkEncoder(),
    )).data;
    const out = new Float32Array(tokens * hidden);
    out.set(c.z);
    for (let k = c.chunkIds.length; k < chunks; k++) out.set(empty, k * 77 * hidden);
    return out;
  };
  return { cond: await pad(cond), uncond: await pad(uncond), tokens, hidden };
}

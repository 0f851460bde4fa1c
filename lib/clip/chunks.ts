// AUTOMATIC1111's long-prompt handling: the prompt's tokens go into chunks of 75, each sent to the text encoder
// as BOS + 75 + EOS (77 ids) and the results laid end to end (77·k tokens), so prompts are not cut at 77. A
// chunk that fills up near a comma moves the words after that comma to the next chunk ("comma padding
// backtrack"), BREAK starts a new chunk, and emphasis scales each token's output vector by its weight, then
// rescales the chunk so its mean is unchanged (A1111's "Original" emphasis).
import { parsePrompt, type PromptPart } from "./prompt.ts";
import type { ClipTokenizer } from "./tokenizer.ts";

/** Prompt tokens per chunk; with BOS and EOS a chunk is the encoder's 77. */
export const CHUNK_TOKENS = 75;
export const CHUNK_LENGTH = CHUNK_TOKENS + 2;

/** One 77-token encoder input and the weight of each of its tokens (1 for BOS, EOS and padding). */
export interface PromptChunk {
  ids: Int32Array;
  weights: Float32Array;
}

export interface ChunkedPrompt {
  chunks: PromptChunk[];
  /** A1111's token count: 75 per full chunk, the tokens of the last one (what its UI shows as "n/75"). */
  tokenCount: number;
}

/** The ids chunking needs, from the model's tokenizer. */
export interface ChunkIds {
  bos: number;
  eos: number;
  /** SD 1.x pads with EOS, SD 2.x with "!" (0): after a chunk's first EOS every id becomes this. */
  pad: number;
  /** ",</w>", or undefined when the vocabulary has none (then no comma backtracking). */
  comma?: number;
}

export interface ChunkOptions {
  /** A1111's comma_padding_backtrack: how far back (in tokens) a comma may be to move the rest on; 0 = off. */
  commaPaddingBacktrack?: number;
  /** false is A1111's emphasis "None": the prompt is one text of weight 1 and brackets and BREAK are plain text. */
  emphasis?: boolean;
}

export const DEFAULT_COMMA_PADDING_BACKTRACK = 20;

/** A run of token ids with one weight, or a BREAK. */
export type WeightedTokens = { ids: number[]; weight: number } | { break: true };

export function chunkIds(tokenizer: ClipTokenizer): ChunkIds {
  return {
    bos: tokenizer.bosId,
    eos: tokenizer.eosId,
    pad: tokenizer.padId,
    comma: tokenizer.tokenId(",</w>"),
  };
}

/** Parses, tokenizes and chunks a prompt as A1111 does. */
export function promptChunks(
  prompt: string,
  tokenizer: ClipTokenizer,
  opts: ChunkOptions = {},
): ChunkedPrompt {
  const parts: PromptPart[] = opts.emphasis === false
    ? [{ kind: "text", text: prompt, weight: 1 }]
    : parsePrompt(prompt);
  const runs: WeightedTokens[] = parts.map((p) =>
    p.kind === "break" ? { break: true } : { ids: tokenizer.tokenize(p.text), weight: p.weight }
  );
  return chunkTokens(runs, chunkIds(tokenizer), opts);
}

/** Lays weighted token runs into 77-token chunks (A1111's tokenize_line without textual-inversion embeddings). */
export function chunkTokens(runs: WeightedTokens[], ids: ChunkIds, opts: ChunkOptions = {}): ChunkedPrompt {
  const backtrack = opts.commaPaddingBacktrack ?? DEFAULT_COMMA_PADDING_BACKTRACK;
  const chunks: PromptChunk[] = [];
  let tokens: number[] = [];
  let weights: number[] = [];
  let tokenCount = 0;
  let lastComma = -1;

  const nextChunk = (isLast = false) => {
    tokenCount += isLast ? tokens.length : CHUNK_TOKENS;
    chunks.push(wrapChunk(tokens, weights, ids));
    tokens = [];
    weights = [];
    lastComma = -1;
  };

  for (const run of runs) {
    if ("break" in run) {
      nextChunk();
      continue;
    }
    for (const token of run.ids) {
      if (token === ids.comma) {
        lastComma = tokens.length;
      } else if (
        backtrack !== 0 && tokens.length === CHUNK_TOKENS && lastComma !== -1 &&
        tokens.length - lastComma <= backtrack
      ) {
        // The chunk is full a few tokens after a comma: end it at the comma, carry the rest over.
        const keep = lastComma + 1;
        const [movedTokens, movedWeights] = [tokens.slice(keep), weights.slice(keep)];
        [tokens, weights] = [tokens.slice(0, keep), weights.slice(0, keep)];
        nextChunk();
        [tokens, weights] = [movedTokens, movedWeights];
      }
      if (tokens.length === CHUNK_TOKENS) nextChunk();
      tokens.push(token);
      weights.push(run.weight);
    }
  }
  if (tokens.length > 0 || chunks.length === 0) nextChunk(true);
  return { chunks, tokenCount };
}

/** A1111's filler chunk (BOS then EOS/padding) for evening out prompts of different chunk counts. */
export function emptyChunk(ids: ChunkIds): PromptChunk {
  return wrapChunk([], [], ids);
}

function wrapChunk(tokens: number[], weights: number[], ids: ChunkIds): PromptChunk {
  const chunk: PromptChunk = {
    ids: new Int32Array(CHUNK_LENGTH).fill(ids.eos),
    weights: new Float32Array(CHUNK_LENGTH).fill(1),
  };
  chunk.ids[0] = ids.bos;
  chunk.ids.set(tokens, 1);
  chunk.weights.set(weights, 1);
  // A1111 pads with EOS, then overwrites everything after the first EOS with the pad id (a no-op for SD 1.x).
  const firstEos = chunk.ids.indexOf(ids.eos);
  chunk.ids.fill(ids.pad, firstEos + 1);
  return chunk;
}

/** Runs the text encoder on one 77-id chunk; returns its 77×hidden output, row-major. */
export type EncodeChunk = (ids: Int32Array) => Promise<Float32Array>;

export interface Conditioning {
  /** (77·chunks) × hidden, row-major: the chunks' outputs laid end to end along the sequence. */
  data: Float32Array;
  tokens: number;
  hidden: number;
  /** Each chunk's 77 ids, in order (the personalization engine works chunk by chunk). */
  chunkIds: Int32Array[];
}

export interface EncodeOptions {
  /** false ignores the weights (an unweighted negative prompt); default true. */
  weighted?: boolean;
}

/** Encodes every chunk and applies A1111's emphasis to each. */
export async function encodeChunks(
  chunks: PromptChunk[],
  encode: EncodeChunk,
  opts: EncodeOptions = {},
): Promise<Conditioning> {
  if (chunks.length === 0) throw new Error("encodeChunks: no chunks to encode");
  const outputs: Float32Array[] = [];
  for (const chunk of chunks) {
    if (chunk.ids.length !== CHUNK_LENGTH || chunk.weights.length !== CHUNK_LENGTH) {
      throw new Error(`encodeChunks: a chunk has ${chunk.ids.length} ids, expected ${CHUNK_LENGTH}`);
    }
    const z = await encode(chunk.ids);
    if (z.length === 0 || z.length % CHUNK_LENGTH !== 0) {
      throw new Error(`encodeChunks: the encoder returned ${z.length} values, not ${CHUNK_LENGTH}×hidden`);
    }
    outputs.push(opts.weighted === false ? z : applyEmphasis(z, chunk.weights));
  }
  const hidden = outputs[0].length / CHUNK_LENGTH;
  if (outputs.some((z) => z.length !== CHUNK_LENGTH * hidden)) {
    throw new Error("encodeChunks: the encoder returned outputs of different sizes");
  }
  const data = new Float32Array(outputs.length * CHUNK_LENGTH * hidden);
  outputs.forEach((z, i) => data.set(z, i * CHUNK_LENGTH * hidden));
  return { data, tokens: outputs.length * CHUNK_LENGTH, hidden, chunkIds: chunks.map((c) => c.ids) };
}

/** z·w per token, then scaled so the mean over the whole chunk equals the mean before weighting. */
export function applyEmphasis(z: Float32Array, weights: Float32Array): Float32Array {
  const hidden = z.length / weights.length;
  if (!Number.isInteger(hidden)) {
    throw new Error(`applyEmphasis: ${z.length} values for ${weights.length} tokens`);
  }
  const out = new Float32Array(z.length);
  let before = 0;
  let after = 0;
  for (let t = 0; t < weights.length; t++) {
    for (let h = t * hidden; h < (t + 1) * hidden; h++) {
      out[h] = z[h] * weights[t];
      before += z[h];
      after += out[h];
    }
  }
  const scale = before / after;
  for (let i = 0; i < out.length; i++) out[i] *= scale;
  return out;
}

// A1111's token counter beside each prompt box ("12/75"): the prompt's tokens as its chunking counts them,
// out of the chunks they fill, with the checkpoint's own tokenizer (loaded once per model folder).
import { CHUNK_TOKENS, promptChunks } from "../clip/chunks.ts";
import { ClipTokenizer } from "../clip/tokenizer.ts";

export interface TokenCount {
  tokens: number;
  /** 75 per chunk the prompt fills (A1111 shows tokens/max). */
  max: number;
}

export class TokenCounter {
  #tokenizers = new Map<string, Promise<ClipTokenizer>>();

  async count(modelDir: string, prompt: string): Promise<TokenCount> {
    let tokenizer = this.#tokenizers.get(modelDir);
    if (!tokenizer) {
      tokenizer = ClipTokenizer.load(modelDir);
      this.#tokenizers.set(modelDir, tokenizer);
      tokenizer.catch(() => this.#tokenizers.delete(modelDir));
    }
    const { chunks, tokenCount } = promptChunks(prompt, await tokenizer);
    return { tokens: tokenCount, max: Math.max(1, chunks.length) * CHUNK_TOKENS };
  }
}

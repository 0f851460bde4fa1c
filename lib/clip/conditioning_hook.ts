// A prompt's conditioning as the text encoder gives it, and the hook that may rewrite it before the UNet sees
// it: the contract between the pipeline, which calls hooks, and what builds them (the aesthetic session).

/** One text encoder's block of columns in an SDXL conditioning, with the ids its own tokenizer gave. */
export interface EncoderBlock {
  hidden: number;
  chunkIds: Int32Array[];
}

/** One prompt's conditioning: (77·chunks) × hidden, row-major, and the ids of each chunk. */
export interface PromptConditioning {
  z: Float32Array;
  chunkIds: Int32Array[];
  /** True for the negative prompt (the unconditional side of classifier-free guidance). */
  negative: boolean;
  /**
   * SDXL: z is both encoders' hidden states side by side, each token's row their blocks in this order
   * (`chunkIds` are the first's); absent for SD 1.x/2.x.
   */
  encoders?: EncoderBlock[];
  /** SDXL: the pooled vector (the second encoder's text_embeds of the first chunk). */
  pooled?: Float32Array;
}

/** A hook's answer when it rewrites the pooled vector too (SDXL's personalized second encoder). */
export interface HookedConditioning {
  z: Float32Array;
  pooled?: Float32Array;
}

/**
 * Rewrites a prompt's conditioning; must return as many values as `z` has (and `pooled`, when it returns one).
 * The aesthetic extension passes one built by AestheticSession.hook; WebUI extensions push theirs onto the job
 * (lib/extensions/job.ts).
 */
export type ConditioningHook = (c: PromptConditioning) => Promise<Float32Array | HookedConditioning>;

/** A hook's answer in its object form. */
export function asHooked(r: Float32Array | HookedConditioning): HookedConditioning {
  return r instanceof Float32Array ? { z: r } : r;
}

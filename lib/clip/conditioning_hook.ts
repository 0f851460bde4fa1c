// A prompt's conditioning as the text encoder gives it, and the hook that may rewrite it before the UNet sees
// it: the contract between the pipeline, which calls hooks, and what builds them (the aesthetic session).

/** One prompt's conditioning: (77·chunks) × hidden, row-major, and the ids of each chunk. */
export interface PromptConditioning {
  z: Float32Array;
  chunkIds: Int32Array[];
  /** True for the negative prompt (the unconditional side of classifier-free guidance). */
  negative: boolean;
}

/**
 * Rewrites a prompt's conditioning; must return as many values as `z` has. The aesthetic extension passes one
 * built by AestheticSession.hook; WebUI extensions push theirs onto the job (lib/extensions/job.ts).
 */
export type ConditioningHook = (c: PromptConditioning) => Promise<Float32Array>;

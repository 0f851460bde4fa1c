// The request fields a reference case of fx_hires.py / fx_inpaint.py records, as the pipeline takes them.
import type { GenerationRequest } from "../../../lib/diffusion/pipeline.ts";

export interface ReferenceCase {
  prompt: string;
  seed: number;
  cfg_scale: number;
  width: number;
  height: number;
  sampler: string;
  schedule: string | null;
  steps: number;
  denoising_strength: number;
}

export function referenceRequest(c: ReferenceCase): GenerationRequest {
  return {
    prompt: c.prompt,
    sampler: c.sampler,
    scheduler: c.schedule ?? undefined,
    steps: c.steps,
    cfgScale: c.cfg_scale,
    width: c.width,
    height: c.height,
    seed: c.seed,
    denoisingStrength: c.denoising_strength,
  };
}

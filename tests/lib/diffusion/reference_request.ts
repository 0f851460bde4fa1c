// The request fields the reference cases record, as the pipeline takes them: diffusers runs (fx_refs.py,
// fx_noise.py, fx_sdxl.py, fx_single_file.py) and A1111-algorithm runs (fx_hires.py, fx_inpaint.py).
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

/** What a diffusers txt2img reference ran with (its manifest entry's fields). */
export interface DiffusersCase {
  prompt: string;
  negative_prompt: string;
  steps: number;
  guidance_scale: number;
  eta?: number;
  width: number;
  height: number;
  seed: number;
}

export function diffusersRequest(e: DiffusersCase, sampler: string): GenerationRequest {
  return {
    prompt: e.prompt,
    negativePrompt: e.negative_prompt,
    sampler,
    steps: e.steps,
    cfgScale: e.guidance_scale,
    eta: e.eta,
    width: e.width,
    height: e.height,
    seed: e.seed,
  };
}

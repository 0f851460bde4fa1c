// What a sampler sees: the current latents, a noise schedule, and two functions the caller provides. The
// samplers never see the UNet: `denoise` is the classifier-free-guided model wrapped as k-diffusion's
// denoiser (lib/diffusion/samplers/denoiser.ts), `noise` draws fresh per-image noise (A1111's randn_like).
// Latents of a whole batch travel as one Float32Array; every sampler works elementwise, so an image does not
// depend on its batch (DPM adaptive's step-size control excepted, as in A1111).

/** The denoised estimate of x at noise level sigma (k-diffusion's model(x, sigma)). */
export type Denoise = (x: Float32Array, sigma: number) => Promise<Float32Array>;

/** Fresh standard-normal noise shaped like the latents, one draw from each image's noise source. */
export type NoiseFn = () => Float32Array;

/** The eta / churn / noise options A1111 passes to the k-diffusion functions that take them. */
export interface SamplerSettings {
  /** Ancestral and SDE samplers' eta (A1111's "Eta", default 1) and DDIM's (default 0). */
  eta: number;
  /** Euler, Heun and DPM2's stochastic churn (Karras et al.), off by default. */
  sChurn: number;
  sTmin: number;
  sTmax: number;
  /** Scale of the noise added by churn, ancestral and SDE steps. */
  sNoise: number;
}

export const DEFAULT_SETTINGS: SamplerSettings = { eta: 1, sChurn: 0, sTmin: 0, sTmax: Infinity, sNoise: 1 };

/** Called once per sampler step with the step's denoised estimate (A1111's callback_state). */
export type OnStep = (step: number, denoised: Float32Array) => void;

/** One run of a sigma-walking (k-diffusion) sampler. */
export interface SigmaRun {
  /** Starting latents, already scaled to sigmas[0]. */
  x: Float32Array;
  /** Descending noise levels; the last is 0 for most schedules (KL Optimal ends at sigma_min). */
  sigmas: Float32Array;
  denoise: Denoise;
  noise: NoiseFn;
  /**
   * The SDE samplers' noise between two noise levels: A1111 draws it from a Brownian tree per image seeded with
   * the image's seed (lib/diffusion/samplers/brownian_tree.ts), so it does not depend on the steps taken.
   */
  brownian?: (sigma: number, sigmaNext: number) => Float32Array;
  settings: SamplerSettings;
  onStep: OnStep;
}

export type SigmaSampler = (run: SigmaRun) => Promise<Float32Array>;

/** Thrown by a model call to stop sampling (interrupt / skip); the run then ends with its last estimate. */
export class SamplingStopped extends Error {
  constructor() {
    super("sampling stopped");
    this.name = "SamplingStopped";
  }
}

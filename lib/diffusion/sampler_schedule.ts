// Which timesteps a sampler visits. A1111's k-diffusion samplers (Euler, Euler a, LMS, DPM++ 2M [Karras]) walk
// the whole discrete schedule from t = 999 down to 0, which is diffusers' "linspace" spacing; its DDIM and
// PLMS use the model's own spacing ("leading" with steps_offset 1 for SD 1.x/2.x). diffusers reaches the same
// split when a scheduler class is built from a released config that never set timestep_spacing (each class
// then uses its own default), which is how the reference pipelines were run. Diffusers class names keep the
// model's config exactly.
import { type ConfigInput, createScheduler, type Scheduler } from "./schedulers/index.ts";

const K_DIFFUSION = new Set(["euler", "euler a", "lms", "dpm++ 2m", "dpm++ 2m karras"]);

/** Config the sampler name implies on top of the model's scheduler config. */
export function samplerOverrides(sampler: string): ConfigInput {
  return K_DIFFUSION.has(sampler.trim().toLowerCase()) ? { timestep_spacing: "linspace" } : {};
}

/** A fresh scheduler for one image: the model's config, the sampler's implied settings, DDIM's eta. */
export function schedulerFor(sampler: string, modelConfig: ConfigInput, eta: number): Scheduler {
  return createScheduler(sampler, modelConfig, samplerOverrides(sampler), { eta });
}

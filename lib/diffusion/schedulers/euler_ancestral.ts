// Ancestral Euler sampling (A1111's "Euler a"), as diffusers' EulerAncestralDiscreteScheduler: an Euler step
// down to sigma_down, then fresh noise of size sigma_up drawn from the generator every step.
import { BETA_SCHEMA, type BetaFields } from "./betas.ts";
import {
  checkChoice,
  checkSameLength,
  combine,
  type ConfigInput,
  indexForTimestep,
  requireTimesteps,
  resolveConfig,
  type Scheduler,
  type Schema,
} from "./scheduler.ts";
import { initSigma, predictOriginal, scaleBySigma, sigmaCumprod, trainSigmas } from "./sigmas.ts";
import { interpIndex, spacedTimesteps, SPACINGS, type TimestepSpacing } from "./timesteps.ts";
import type { NoiseGenerator } from "../noise_source.ts";

export interface EulerAncestralConfig extends BetaFields {
  prediction_type: "epsilon" | "v_prediction";
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  rescale_betas_zero_snr: boolean;
}

export const EULER_ANCESTRAL_SCHEMA: Schema<EulerAncestralConfig> = {
  ...BETA_SCHEMA,
  prediction_type: ["string", "epsilon"],
  timestep_spacing: ["string", "linspace"],
  steps_offset: ["integer", 0],
  rescale_betas_zero_snr: ["boolean", false],
};

const f = Math.fround;

export class EulerAncestralDiscreteScheduler implements Scheduler {
  readonly config: EulerAncestralConfig;
  timesteps: number[] = [];
  sigmas: Float32Array;
  readonly #trainSigmas: Float32Array;
  #stepIndex: number | undefined;

  constructor(config: ConfigInput = {}, overrides: ConfigInput = {}) {
    const c = this.config = resolveConfig(
      EULER_ANCESTRAL_SCHEMA,
      config,
      overrides,
      "EulerAncestralDiscreteScheduler",
    );
    checkChoice(c.prediction_type, ["epsilon", "v_prediction"], "Euler a prediction_type");
    checkChoice(c.timestep_spacing, SPACINGS, "Euler a timestep_spacing");
    this.#trainSigmas = trainSigmas(sigmaCumprod(c));
    this.sigmas = Float32Array.from([...this.#trainSigmas].reverse().concat([0]));
  }

  get initNoiseSigma(): number {
    return initSigma(this.sigmas, this.config.timestep_spacing);
  }

  setTimesteps(steps: number): void {
    const c = this.config;
    this.timesteps = spacedTimesteps({
      spacing: c.timestep_spacing,
      numTrainTimesteps: c.num_train_timesteps,
      steps,
      stepsOffset: c.steps_offset,
      roundLinspace: false,
    }).map(f);
    this.sigmas = Float32Array.from([...this.timesteps.map((t) => interpIndex(t, this.#trainSigmas)), 0]);
    this.#stepIndex = undefined;
  }

  #index(t: number): number {
    requireTimesteps(this.timesteps, "EulerAncestralDiscreteScheduler");
    this.#stepIndex ??= indexForTimestep(this.timesteps, t);
    return this.#stepIndex;
  }

  scaleModelInput(sample: Float32Array, t: number): Float32Array {
    return scaleBySigma(sample, this.sigmas[this.#index(t)]);
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array, rng?: NoiseGenerator): Float32Array {
    checkSameLength(modelOutput, sample, "Euler a step");
    if (!rng) {
      throw new Error(
        "Euler a draws fresh noise every step: pass a noise generator (TorchGenerator, PhiloxGenerator)",
      );
    }
    const i = this.#index(t);
    const from = this.sigmas[i];
    const to = this.sigmas[i + 1];
    const x0 = predictOriginal(this.config.prediction_type, modelOutput, sample, from);
    const from2 = f(from * from);
    const to2 = f(to * to);
    const up = f(Math.sqrt(f(f(to2 * f(from2 - to2)) / from2)));
    const down = f(Math.sqrt(f(to2 - f(up * up))));
    const dt = f(down - from);
    const out = new Float32Array(sample.length);
    for (let k = 0; k < out.length; k++) out[k] = sample[k] + f(f(f(sample[k] - x0[k]) / from) * dt);
    const noise = rng.randn([sample.length]);
    this.#stepIndex = i + 1;
    return combine([[1, out], [up, noise]]);
  }

  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    checkSameLength(original, noise, "Euler a addNoise");
    requireTimesteps(this.timesteps, "EulerAncestralDiscreteScheduler");
    return combine([[1, original], [this.sigmas[indexForTimestep(this.timesteps, t)], noise]]);
  }
}

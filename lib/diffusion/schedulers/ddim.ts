// DDIM (Song et al. 2020) as diffusers' DDIMScheduler: deterministic at eta = 0, ancestral noise at eta > 0.
import { alphasCumprod, BETA_SCHEMA, type BetaFields, betas } from "./betas.ts";
import {
  checkChoice,
  checkSameLength,
  combine,
  type ConfigInput,
  type PredictionType,
  requireTimesteps,
  resolveConfig,
  type Scheduler,
  type Schema,
} from "./scheduler.ts";
import { spacedTimesteps, SPACINGS, type TimestepSpacing } from "./timesteps.ts";
import type { NoiseGenerator } from "../noise_source.ts";

export interface DDIMConfig extends BetaFields {
  clip_sample: boolean;
  set_alpha_to_one: boolean;
  steps_offset: number;
  prediction_type: PredictionType;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  clip_sample_range: number;
  sample_max_value: number;
  timestep_spacing: TimestepSpacing;
  rescale_betas_zero_snr: boolean;
}

export const DDIM_SCHEMA: Schema<DDIMConfig> = {
  ...BETA_SCHEMA,
  clip_sample: ["boolean", true],
  set_alpha_to_one: ["boolean", true],
  steps_offset: ["integer", 0],
  prediction_type: ["string", "epsilon"],
  thresholding: ["boolean", false],
  dynamic_thresholding_ratio: ["number", 0.995],
  clip_sample_range: ["number", 1.0],
  sample_max_value: ["number", 1.0],
  timestep_spacing: ["string", "leading"],
  rescale_betas_zero_snr: ["boolean", false],
};

export interface DDIMOptions {
  /** Weight of the fresh noise added each step (A1111's "Eta for DDIM"); 0 is deterministic DDIM. */
  eta?: number;
}

const f = Math.fround;

export class DDIMScheduler implements Scheduler {
  readonly config: DDIMConfig;
  readonly eta: number;
  readonly initNoiseSigma = 1;
  timesteps: number[] = [];
  readonly #acp: Float32Array;
  readonly #finalAlphaCumprod: number;
  #steps = 0;

  constructor(config: ConfigInput = {}, overrides: ConfigInput = {}, options: DDIMOptions = {}) {
    this.config = resolveConfig(DDIM_SCHEMA, config, overrides, "DDIMScheduler");
    checkChoice(
      this.config.prediction_type,
      ["epsilon", "v_prediction", "sample"],
      "DDIMScheduler prediction_type",
    );
    checkChoice(this.config.timestep_spacing, SPACINGS, "DDIMScheduler timestep_spacing");
    if (this.config.thresholding) {
      throw new Error("DDIMScheduler thresholding (dynamic, for pixel-space models) is not supported");
    }
    this.eta = options.eta ?? 0;
    if (!(this.eta >= 0)) throw new Error(`DDIM eta must be >= 0, got ${this.eta}`);
    this.#acp = alphasCumprod(betas(this.config));
    this.#finalAlphaCumprod = this.config.set_alpha_to_one ? 1 : this.#acp[0];
  }

  setTimesteps(steps: number): void {
    this.timesteps = spacedTimesteps({
      spacing: this.config.timestep_spacing,
      numTrainTimesteps: this.config.num_train_timesteps,
      steps,
      stepsOffset: this.config.steps_offset,
      roundLinspace: true,
    });
    this.#steps = steps;
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  #alphaAt(t: number): number {
    if (!Number.isInteger(t) || t >= this.#acp.length) {
      throw new Error(`DDIM timestep ${t} is not a training step`);
    }
    return t >= 0 ? this.#acp[t] : this.#finalAlphaCumprod;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array, rng?: NoiseGenerator): Float32Array {
    requireTimesteps(this.timesteps, "DDIMScheduler");
    checkSameLength(modelOutput, sample, "DDIM step");
    const prevT = t - Math.floor(this.config.num_train_timesteps / this.#steps);
    const at = this.#alphaAt(t);
    const ap = this.#alphaAt(prevT);
    const bt = f(1 - at);
    const sa = f(Math.sqrt(at));
    const sb = f(Math.sqrt(bt));

    let x0: Float32Array;
    let eps: Float32Array;
    switch (this.config.prediction_type) {
      case "epsilon":
        x0 = combine([[1, sample], [-sb, modelOutput]]).map((v) => v / sa);
        eps = modelOutput;
        break;
      case "v_prediction":
        x0 = combine([[sa, sample], [-sb, modelOutput]]);
        eps = combine([[sa, modelOutput], [sb, sample]]);
        break;
      default:
        x0 = modelOutput;
        eps = combine([[1, sample], [-sa, x0]]).map((v) => v / sb);
    }
    if (this.config.clip_sample) {
      const r = f(this.config.clip_sample_range);
      x0 = x0.map((v) => Math.min(Math.max(v, -r), r));
    }
    const variance = f(f(f(1 - ap) / bt) * f(1 - f(at / ap)));
    const std = f(this.eta * f(Math.sqrt(variance)));
    const dirCoef = f(Math.sqrt(f(f(1 - ap) - f(std * std))));
    const prev = combine([[f(Math.sqrt(ap)), x0], [dirCoef, eps]]);
    if (this.eta > 0) {
      if (!rng) {
        throw new Error(
          "DDIM with eta > 0 draws noise each step: pass a noise generator (TorchGenerator, PhiloxGenerator)",
        );
      }
      return combine([[1, prev], [std, rng.randn([prev.length])]]);
    }
    return prev;
  }

  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    checkSameLength(original, noise, "DDIM addNoise");
    const a = this.#alphaAt(t);
    return combine([[f(Math.sqrt(a)), original], [f(Math.sqrt(f(1 - a))), noise]]);
  }
}

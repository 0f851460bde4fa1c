// Euler's method on the probability-flow ODE (Karras et al. 2022), as diffusers' EulerDiscreteScheduler
// without churn (A1111's "Euler").
import { BETA_SCHEMA, type BetaFields, linspaceF32 } from "./betas.ts";
import {
  checkChoice,
  checkSameLength,
  combine,
  type ConfigInput,
  indexForTimestep,
  type PredictionType,
  requireTimesteps,
  resolveConfig,
  type Scheduler,
  type Schema,
} from "./scheduler.ts";
import {
  exponentialSigmas,
  initSigma,
  karrasSigmas,
  logF32,
  predictOriginal,
  scaleBySigma,
  sigmaCumprod,
  sigmaToT,
  trainSigmas,
} from "./sigmas.ts";
import { interpIndex, spacedTimesteps, SPACINGS, type TimestepSpacing } from "./timesteps.ts";

export interface EulerConfig extends BetaFields {
  prediction_type: PredictionType;
  interpolation_type: "linear" | "log_linear";
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  sigma_min: number | null;
  sigma_max: number | null;
  timestep_spacing: TimestepSpacing;
  timestep_type: "discrete" | "continuous";
  steps_offset: number;
  rescale_betas_zero_snr: boolean;
  final_sigmas_type: "zero" | "sigma_min";
}

export const EULER_SCHEMA: Schema<EulerConfig> = {
  ...BETA_SCHEMA,
  prediction_type: ["string", "epsilon"],
  interpolation_type: ["string", "linear"],
  use_karras_sigmas: ["boolean", false],
  use_exponential_sigmas: ["boolean", false],
  use_beta_sigmas: ["boolean", false],
  sigma_min: ["number|null", null],
  sigma_max: ["number|null", null],
  timestep_spacing: ["string", "linspace"],
  timestep_type: ["string", "discrete"],
  steps_offset: ["integer", 0],
  rescale_betas_zero_snr: ["boolean", false],
  final_sigmas_type: ["string", "zero"],
};

const f = Math.fround;

export class EulerDiscreteScheduler implements Scheduler {
  readonly config: EulerConfig;
  timesteps: number[] = [];
  sigmas: Float32Array;
  readonly #trainSigmas: Float32Array;
  readonly #acp0: number;
  #stepIndex: number | undefined;

  constructor(config: ConfigInput = {}, overrides: ConfigInput = {}) {
    const c = this.config = resolveConfig(EULER_SCHEMA, config, overrides, "EulerDiscreteScheduler");
    checkChoice(c.prediction_type, ["epsilon", "v_prediction", "sample"], "Euler prediction_type");
    checkChoice(c.timestep_spacing, SPACINGS, "Euler timestep_spacing");
    checkChoice(c.interpolation_type, ["linear", "log_linear"], "Euler interpolation_type");
    checkChoice(c.timestep_type, ["discrete", "continuous"], "Euler timestep_type");
    checkChoice(c.final_sigmas_type, ["zero", "sigma_min"], "Euler final_sigmas_type");
    if (c.use_beta_sigmas) {
      throw new Error("Euler use_beta_sigmas (beta-distribution spacing) is not supported");
    }
    if (c.use_karras_sigmas && c.use_exponential_sigmas) {
      throw new Error("Euler: use_karras_sigmas and use_exponential_sigmas cannot both be set");
    }
    const acp = sigmaCumprod(c);
    this.#acp0 = acp[0];
    this.#trainSigmas = trainSigmas(acp);
    // Before setTimesteps diffusers holds the full training schedule; initNoiseSigma reads it.
    this.sigmas = Float32Array.from([...this.#trainSigmas].reverse().concat([0]));
  }

  get initNoiseSigma(): number {
    return initSigma(this.sigmas, this.config.timestep_spacing);
  }

  setTimesteps(steps: number): void {
    const c = this.config;
    let timesteps = spacedTimesteps({
      spacing: c.timestep_spacing,
      numTrainTimesteps: c.num_train_timesteps,
      steps,
      stepsOffset: c.steps_offset,
      roundLinspace: false,
    }).map(f);
    const train = this.#trainSigmas;
    const logSigmas = logF32(train);
    let sigmas: number[];
    if (c.interpolation_type === "linear") {
      sigmas = timesteps.map((t) => interpIndex(t, train));
    } else {
      sigmas = [...linspaceF32(Math.log(train[train.length - 1]), Math.log(train[0]), steps + 1)].map((v) =>
        f(Math.exp(v))
      );
    }
    if (c.use_karras_sigmas || c.use_exponential_sigmas) {
      const lo = c.sigma_min ?? sigmas[sigmas.length - 1];
      const hi = c.sigma_max ?? sigmas[0];
      sigmas = c.use_karras_sigmas ? karrasSigmas(lo, hi, steps) : exponentialSigmas(lo, hi, steps);
      timesteps = sigmas.map((s) => f(sigmaToT(s, logSigmas)));
    }
    const last = c.final_sigmas_type === "zero" ? 0 : f(Math.sqrt(f(f(1 - this.#acp0) / this.#acp0)));
    this.sigmas = Float32Array.from([...sigmas, last]);
    this.timesteps = c.timestep_type === "continuous" && c.prediction_type === "v_prediction"
      ? [...this.sigmas.subarray(0, -1)].map((s) => f(0.25 * f(Math.log(s))))
      : timesteps;
    this.#stepIndex = undefined;
  }

  #index(t: number): number {
    requireTimesteps(this.timesteps, "EulerDiscreteScheduler");
    this.#stepIndex ??= indexForTimestep(this.timesteps, t);
    return this.#stepIndex;
  }

  scaleModelInput(sample: Float32Array, t: number): Float32Array {
    return scaleBySigma(sample, this.sigmas[this.#index(t)]);
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    checkSameLength(modelOutput, sample, "Euler step");
    const i = this.#index(t);
    const sigma = this.sigmas[i];
    const x0 = predictOriginal(this.config.prediction_type, modelOutput, sample, sigma);
    const dt = f(this.sigmas[i + 1] - sigma);
    const out = new Float32Array(sample.length);
    for (let k = 0; k < out.length; k++) out[k] = sample[k] + f(f(f(sample[k] - x0[k]) / sigma) * dt);
    this.#stepIndex = i + 1;
    return out;
  }

  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    checkSameLength(original, noise, "Euler addNoise");
    requireTimesteps(this.timesteps, "EulerDiscreteScheduler");
    return combine([[1, original], [this.sigmas[indexForTimestep(this.timesteps, t)], noise]]);
  }
}

// Linear multistep (A1111's "LMS"), as diffusers' LMSDiscreteScheduler: the next sample integrates the
// Lagrange polynomial through the last (up to four) derivatives over [sigma_i, sigma_{i+1}].
import { alphasCumprod, BETA_SCHEMA, type BetaFields, betas } from "./betas.ts";
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
  sigmaToT,
  trainSigmas,
} from "./sigmas.ts";
import { interpIndex, spacedTimesteps, SPACINGS, type TimestepSpacing } from "./timesteps.ts";

export interface LMSConfig extends BetaFields {
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  prediction_type: PredictionType;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
}

export const LMS_SCHEMA: Schema<LMSConfig> = {
  ...BETA_SCHEMA,
  use_karras_sigmas: ["boolean", false],
  use_exponential_sigmas: ["boolean", false],
  use_beta_sigmas: ["boolean", false],
  prediction_type: ["string", "epsilon"],
  timestep_spacing: ["string", "linspace"],
  steps_offset: ["integer", 0],
};

/** The order diffusers' step() uses by default. */
const ORDER = 4;
const f = Math.fround;

// 5-point Gauss–Legendre nodes and weights on [-1, 1]: exact for polynomials up to degree 9, and the
// integrand here has degree at most 3, so the only error is rounding.
const GL_NODES = [
  0,
  -0.5384693101056831,
  0.5384693101056831,
  -0.906179845938664,
  0.906179845938664,
];
const GL_WEIGHTS = [
  0.5688888888888889,
  0.47862867049936647,
  0.47862867049936647,
  0.23692688505618908,
  0.23692688505618908,
];

/** ∫ over [a, b] of the Lagrange basis polynomial that is 1 at nodes[j] and 0 at the other nodes. */
export function lagrangeIntegral(nodes: readonly number[], j: number, a: number, b: number): number {
  const mid = (a + b) / 2;
  const half = (b - a) / 2;
  let sum = 0;
  for (let q = 0; q < GL_NODES.length; q++) {
    const tau = mid + half * GL_NODES[q];
    let prod = 1;
    for (let k = 0; k < nodes.length; k++) if (k !== j) prod *= (tau - nodes[k]) / (nodes[j] - nodes[k]);
    sum += GL_WEIGHTS[q] * prod;
  }
  return sum * half;
}

export class LMSDiscreteScheduler implements Scheduler {
  readonly config: LMSConfig;
  timesteps: number[] = [];
  sigmas: Float32Array;
  readonly #trainSigmas: Float32Array;
  #stepIndex: number | undefined;
  #derivatives: Float32Array[] = [];

  constructor(config: ConfigInput = {}, overrides: ConfigInput = {}) {
    const c = this.config = resolveConfig(LMS_SCHEMA, config, overrides, "LMSDiscreteScheduler");
    checkChoice(c.prediction_type, ["epsilon", "v_prediction", "sample"], "LMS prediction_type");
    checkChoice(c.timestep_spacing, SPACINGS, "LMS timestep_spacing");
    if (c.use_beta_sigmas) {
      throw new Error("LMS use_beta_sigmas (beta-distribution spacing) is not supported");
    }
    if (c.use_karras_sigmas && c.use_exponential_sigmas) {
      throw new Error("LMS: use_karras_sigmas and use_exponential_sigmas cannot both be set");
    }
    this.#trainSigmas = trainSigmas(alphasCumprod(betas(c)));
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
    let sigmas = timesteps.map((t) => interpIndex(t, this.#trainSigmas));
    if (c.use_karras_sigmas || c.use_exponential_sigmas) {
      const lo = sigmas[sigmas.length - 1];
      const hi = sigmas[0];
      sigmas = c.use_karras_sigmas ? karrasSigmas(lo, hi, steps) : exponentialSigmas(lo, hi, steps);
      const logSigmas = logF32(this.#trainSigmas);
      timesteps = sigmas.map((s) => f(sigmaToT(s, logSigmas)));
    }
    this.sigmas = Float32Array.from([...sigmas, 0]);
    this.timesteps = timesteps;
    this.#stepIndex = undefined;
    this.#derivatives = [];
  }

  #index(t: number): number {
    requireTimesteps(this.timesteps, "LMSDiscreteScheduler");
    this.#stepIndex ??= indexForTimestep(this.timesteps, t);
    return this.#stepIndex;
  }

  scaleModelInput(sample: Float32Array, t: number): Float32Array {
    return scaleBySigma(sample, this.sigmas[this.#index(t)]);
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    checkSameLength(modelOutput, sample, "LMS step");
    const i = this.#index(t);
    const sigma = this.sigmas[i];
    const x0 = predictOriginal(this.config.prediction_type, modelOutput, sample, sigma);
    const derivative = new Float32Array(sample.length);
    for (let k = 0; k < sample.length; k++) derivative[k] = f(sample[k] - x0[k]) / sigma;
    this.#derivatives.push(derivative);
    if (this.#derivatives.length > ORDER) this.#derivatives.shift();
    const order = Math.min(i + 1, ORDER);
    // Newest derivative first, paired with the basis polynomial of sigma_i, then sigma_{i-1}, …
    const nodes = Array.from({ length: order }, (_, k) => this.sigmas[i - k]);
    const terms: [number, Float32Array][] = [];
    for (let k = 0; k < order; k++) {
      const d = this.#derivatives[this.#derivatives.length - 1 - k];
      terms.push([lagrangeIntegral(nodes, k, sigma, this.sigmas[i + 1]), d]);
    }
    this.#stepIndex = i + 1;
    return combine([[1, sample], [1, combine(terms)]]);
  }

  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    checkSameLength(original, noise, "LMS addNoise");
    requireTimesteps(this.timesteps, "LMSDiscreteScheduler");
    return combine([[1, original], [this.sigmas[indexForTimestep(this.timesteps, t)], noise]]);
  }
}

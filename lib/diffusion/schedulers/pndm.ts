// PNDM (Liu et al. 2022) as diffusers' PNDMScheduler. With skip_prk_steps (every Stable Diffusion config) it is
// PLMS: a linear multistep method over the last four noise predictions, warmed up with one repeated timestep.
// Without it, three Runge–Kutta (PRK) rounds of four model calls come first.
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

export interface PNDMConfig extends BetaFields {
  skip_prk_steps: boolean;
  set_alpha_to_one: boolean;
  prediction_type: PredictionType;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
}

export const PNDM_SCHEMA: Schema<PNDMConfig> = {
  ...BETA_SCHEMA,
  skip_prk_steps: ["boolean", false],
  set_alpha_to_one: ["boolean", false],
  prediction_type: ["string", "epsilon"],
  timestep_spacing: ["string", "leading"],
  steps_offset: ["integer", 0],
};

const f = Math.fround;
const ORDER = 4;

export class PNDMScheduler implements Scheduler {
  readonly config: PNDMConfig;
  readonly initNoiseSigma = 1;
  timesteps: number[] = [];
  readonly #acp: Float32Array;
  readonly #finalAlphaCumprod: number;
  #steps = 0;
  #prkCount = 0;
  // Multistep state, reset by setTimesteps.
  #ets: Float32Array[] = [];
  #counter = 0;
  #curSample: Float32Array | undefined;
  #curModelOutput: Float32Array | undefined;

  constructor(config: ConfigInput = {}, overrides: ConfigInput = {}) {
    this.config = resolveConfig(PNDM_SCHEMA, config, overrides, "PNDMScheduler");
    checkChoice(this.config.prediction_type, ["epsilon", "v_prediction"], "PNDMScheduler prediction_type");
    checkChoice(this.config.timestep_spacing, SPACINGS, "PNDMScheduler timestep_spacing");
    this.#acp = alphasCumprod(betas(this.config));
    this.#finalAlphaCumprod = this.config.set_alpha_to_one ? 1 : this.#acp[0];
  }

  setTimesteps(steps: number): void {
    const ascending = spacedTimesteps({
      spacing: this.config.timestep_spacing,
      numTrainTimesteps: this.config.num_train_timesteps,
      steps,
      stepsOffset: this.config.steps_offset,
      roundLinspace: true,
    }).reverse();
    this.#steps = steps;
    let prk: number[] = [];
    let plms: number[];
    if (this.config.skip_prk_steps) {
      // The second-to-last training step is visited twice: PLMS's warm-up takes two calls for one step.
      const n = ascending.length;
      plms = [
        ...ascending.slice(0, -1),
        ...ascending.slice(Math.max(0, n - 2), n - 1),
        ...ascending.slice(-1),
      ]
        .reverse();
    } else {
      if (steps < ORDER) throw new Error(`PNDM with PRK warm-up needs at least ${ORDER} steps, got ${steps}`);
      // The last four steps, each with its half-step midpoint, then each (bar the ends) twice.
      const half = Math.floor(Math.floor(this.config.num_train_timesteps / steps) / 2);
      const base = ascending.slice(-ORDER).flatMap((t) => [t, t + half]);
      const doubled = base.slice(0, -1).flatMap((t) => [t, t]).slice(1, -1);
      prk = doubled.reverse();
      plms = ascending.slice(0, -3).reverse();
    }
    this.#prkCount = prk.length;
    this.timesteps = [...prk, ...plms];
    this.#ets = [];
    this.#counter = 0;
    this.#curSample = undefined;
    this.#curModelOutput = undefined;
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    requireTimesteps(this.timesteps, "PNDMScheduler");
    checkSameLength(modelOutput, sample, "PNDM step");
    return this.#counter < this.#prkCount && !this.config.skip_prk_steps
      ? this.#stepPrk(modelOutput, t, sample)
      : this.#stepPlms(modelOutput, t, sample);
  }

  #stepPrk(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    const halfStep = Math.floor(Math.floor(this.config.num_train_timesteps / this.#steps) / 2);
    const prevT = t - (this.#counter % 2 ? 0 : halfStep);
    const from = this.timesteps[Math.floor(this.#counter / 4) * 4];
    let output = modelOutput;
    const phase = this.#counter % 4;
    const acc = (w: number) =>
      this.#curModelOutput
        ? combine([[1, this.#curModelOutput], [w, modelOutput]])
        : combine([[w, modelOutput]]);
    if (phase === 0) {
      this.#curModelOutput = acc(1 / 6);
      this.#ets.push(modelOutput);
      this.#curSample = sample;
    } else if (phase === 1 || phase === 2) {
      this.#curModelOutput = acc(1 / 3);
    } else {
      output = acc(1 / 6);
      this.#curModelOutput = undefined;
    }
    const prev = this.#prevSample(this.#curSample ?? sample, from, prevT, output);
    this.#counter++;
    return prev;
  }

  #stepPlms(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    if (!this.config.skip_prk_steps && this.#ets.length < 3) {
      throw new Error("PNDM without skip_prk_steps must run its PRK steps first");
    }
    const stride = Math.floor(this.config.num_train_timesteps / this.#steps);
    let from = t;
    let prevT = t - stride;
    if (this.#counter !== 1) {
      this.#ets = this.#ets.slice(-3);
      this.#ets.push(modelOutput);
    } else {
      // The repeated warm-up call: same target step as the first, evaluated from one step further back.
      prevT = t;
      from = t + stride;
    }
    const e = this.#ets;
    const n = e.length;
    let output: Float32Array;
    let x = sample;
    if (n === 1 && this.#counter === 0) {
      output = modelOutput;
      this.#curSample = sample;
    } else if (n === 1 && this.#counter === 1) {
      output = combine([[1, modelOutput], [1, e[0]]]).map((v) => v / 2);
      x = this.#curSample!;
      this.#curSample = undefined;
    } else if (n === 2) {
      output = combine([[3, e[1]], [-1, e[0]]]).map((v) => v / 2);
    } else if (n === 3) {
      output = combine([[23, e[2]], [-16, e[1]], [5, e[0]]]).map((v) => v / 12);
    } else {
      output = combine([[1 / 24, combine([[55, e[3]], [-59, e[2]], [37, e[1]], [-9, e[0]]])]]);
    }
    const prev = this.#prevSample(x, from, prevT, output);
    this.#counter++;
    return prev;
  }

  #alphaAt(t: number): number {
    if (!Number.isInteger(t) || t >= this.#acp.length) {
      throw new Error(`PNDM timestep ${t} is not a training step`);
    }
    return t >= 0 ? this.#acp[t] : this.#finalAlphaCumprod;
  }

  /** Formula (9) of the PNDM paper: x_{t-δ} from x_t and the noise estimate. */
  #prevSample(sample: Float32Array, t: number, prevT: number, modelOutput: Float32Array): Float32Array {
    const at = this.#alphaAt(t);
    const ap = this.#alphaAt(prevT);
    const bt = f(1 - at);
    const bp = f(1 - ap);
    let eps = modelOutput;
    if (this.config.prediction_type === "v_prediction") {
      eps = combine([[f(Math.sqrt(at)), modelOutput], [f(Math.sqrt(bt)), sample]]);
    }
    const sampleCoef = f(Math.sqrt(f(ap / at)));
    const denom = f(f(at * f(Math.sqrt(bp))) + f(Math.sqrt(f(f(at * bt) * ap))));
    const diff = f(ap - at);
    const scaled = eps.map((v) => f(diff * v) / denom);
    return combine([[sampleCoef, sample], [-1, scaled]]);
  }

  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    checkSameLength(original, noise, "PNDM addNoise");
    const a = this.#alphaAt(t);
    return combine([[f(Math.sqrt(a)), original], [f(Math.sqrt(f(1 - a))), noise]]);
  }
}

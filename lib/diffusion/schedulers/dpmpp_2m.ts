// DPM-Solver multistep (Lu et al. 2022), as diffusers' DPMSolverMultistepScheduler. A1111's "DPM++ 2M" is
// algorithm_type dpmsolver++ with solver_order 2; "DPM++ 2M Karras" adds Karras sigmas. The deterministic
// variants (dpmsolver++, dpmsolver; orders 1–3; midpoint or heun) are implemented; the SDE ones are not.
import { BETA_SCHEMA, type BetaFields } from "./betas.ts";
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
import { exponentialSigmas, karrasSigmas, logF32, sigmaCumprod, sigmaToT, trainSigmas } from "./sigmas.ts";
import {
  arange,
  checkSteps,
  interpIndex,
  linspace,
  roundHalfEven,
  type TimestepSpacing,
} from "./timesteps.ts";

export interface DPMSolverConfig extends BetaFields {
  solver_order: number;
  prediction_type: PredictionType;
  thresholding: boolean;
  dynamic_thresholding_ratio: number;
  sample_max_value: number;
  algorithm_type: "dpmsolver++" | "dpmsolver";
  solver_type: "midpoint" | "heun";
  lower_order_final: boolean;
  euler_at_final: boolean;
  use_karras_sigmas: boolean;
  use_exponential_sigmas: boolean;
  use_beta_sigmas: boolean;
  use_lu_lambdas: boolean;
  use_flow_sigmas: boolean;
  flow_shift: number;
  final_sigmas_type: "zero" | "sigma_min";
  lambda_min_clipped: number;
  variance_type: string | null;
  timestep_spacing: TimestepSpacing;
  steps_offset: number;
  rescale_betas_zero_snr: boolean;
  use_dynamic_shifting: boolean;
  time_shift_type: string;
}

export const DPM_SOLVER_SCHEMA: Schema<DPMSolverConfig> = {
  ...BETA_SCHEMA,
  solver_order: ["integer", 2],
  prediction_type: ["string", "epsilon"],
  thresholding: ["boolean", false],
  dynamic_thresholding_ratio: ["number", 0.995],
  sample_max_value: ["number", 1.0],
  algorithm_type: ["string", "dpmsolver++"],
  solver_type: ["string", "midpoint"],
  lower_order_final: ["boolean", true],
  euler_at_final: ["boolean", false],
  use_karras_sigmas: ["boolean", false],
  use_exponential_sigmas: ["boolean", false],
  use_beta_sigmas: ["boolean", false],
  use_lu_lambdas: ["boolean", false],
  use_flow_sigmas: ["boolean", false],
  flow_shift: ["number", 1.0],
  final_sigmas_type: ["string", "zero"],
  lambda_min_clipped: ["number", -Infinity],
  variance_type: ["string|null", null],
  timestep_spacing: ["string", "linspace"],
  steps_offset: ["integer", 0],
  rescale_betas_zero_snr: ["boolean", false],
  use_dynamic_shifting: ["boolean", false],
  time_shift_type: ["string", "exponential"],
};

const f = Math.fround;

/** alpha_t, sigma_t of the VP process at noise level sigma (float32, as diffusers' _sigma_to_alpha_sigma_t). */
function alphaSigma(sigma: number): [number, number] {
  const alpha = f(1 / f(Math.sqrt(f(f(sigma * sigma) + 1))));
  return [alpha, f(sigma * alpha)];
}

/** lambda = log(alpha) - log(sigma), the half log-SNR DPM-Solver steps in. */
function lambdaOf(alpha: number, sigma: number): number {
  return f(f(Math.log(alpha)) - f(Math.log(sigma)));
}

export class DPMSolverMultistepScheduler implements Scheduler {
  readonly config: DPMSolverConfig;
  readonly initNoiseSigma = 1;
  timesteps: number[] = [];
  sigmas: Float32Array = new Float32Array(0);
  readonly #acp: Float32Array;
  readonly #trainSigmas: Float32Array;
  #stepIndex: number | undefined;
  #modelOutputs: (Float32Array | undefined)[] = [];
  #lowerOrderNums = 0;

  constructor(config: ConfigInput = {}, overrides: ConfigInput = {}) {
    const c = this.config = resolveConfig(
      DPM_SOLVER_SCHEMA,
      config,
      overrides,
      "DPMSolverMultistepScheduler",
    );
    checkChoice(c.prediction_type, ["epsilon", "v_prediction", "sample"], "DPM-Solver prediction_type");
    checkChoice(c.algorithm_type, ["dpmsolver++", "dpmsolver"], "DPM-Solver algorithm_type");
    checkChoice(c.solver_type, ["midpoint", "heun"], "DPM-Solver solver_type");
    checkChoice(c.final_sigmas_type, ["zero", "sigma_min"], "DPM-Solver final_sigmas_type");
    checkChoice(c.timestep_spacing, ["linspace", "leading", "trailing"], "DPM-Solver timestep_spacing");
    if (![1, 2, 3].includes(c.solver_order)) throw new Error(`DPM-Solver solver_order must be 1, 2 or 3`);
    for (const k of ["thresholding", "use_beta_sigmas", "use_lu_lambdas", "use_flow_sigmas"] as const) {
      if (c[k]) throw new Error(`DPM-Solver ${k} is not supported`);
    }
    if (c.variance_type !== null) {
      throw new Error("DPM-Solver variance_type (learned variance) is not supported");
    }
    if (c.use_karras_sigmas && c.use_exponential_sigmas) {
      throw new Error("DPM-Solver: use_karras_sigmas and use_exponential_sigmas cannot both be set");
    }
    if (c.algorithm_type === "dpmsolver" && c.final_sigmas_type === "zero") {
      throw new Error("DPM-Solver final_sigmas_type zero needs algorithm_type dpmsolver++ (use sigma_min)");
    }
    this.#acp = sigmaCumprod(c);
    this.#trainSigmas = trainSigmas(this.#acp);
  }

  setTimesteps(steps: number): void {
    const c = this.config;
    const n = c.num_train_timesteps;
    checkSteps(steps, n);
    // Skip the noisiest training steps whose log-SNR is below lambda_min_clipped (none at -inf).
    const lambdasDescending = [...this.#acp].map((a) => lambdaOf(f(Math.sqrt(a)), f(Math.sqrt(f(1 - a)))))
      .reverse();
    let clipped = lambdasDescending.findIndex((l) => l >= c.lambda_min_clipped);
    if (clipped < 0) clipped = lambdasDescending.length;
    const lastTimestep = n - clipped;
    let timesteps: number[];
    if (c.timestep_spacing === "linspace") {
      timesteps = linspace(0, lastTimestep - 1, steps + 1).map(roundHalfEven).reverse().slice(0, -1);
    } else if (c.timestep_spacing === "leading") {
      const ratio = Math.floor(lastTimestep / (steps + 1));
      timesteps = Array.from({ length: steps }, (_, i) => (steps - i) * ratio + c.steps_offset);
    } else {
      timesteps = arange(lastTimestep, 0, -n / steps).map((t) => roundHalfEven(t) - 1);
    }
    const train = this.#trainSigmas;
    let sigmas: number[];
    if (c.use_karras_sigmas || c.use_exponential_sigmas) {
      // Karras/exponential spacing ranges over the full training sigmas (descending).
      const lo = train[0];
      const hi = train[train.length - 1];
      sigmas = c.use_karras_sigmas ? karrasSigmas(lo, hi, steps) : exponentialSigmas(lo, hi, steps);
      const logSigmas = logF32(train);
      timesteps = sigmas.map((s) => sigmaToT(s, logSigmas));
      if (c.use_karras_sigmas && c.beta_schedule !== "squaredcos_cap_v2") {
        timesteps = timesteps.map(roundHalfEven);
      }
      timesteps = timesteps.map(Math.trunc);
    } else {
      sigmas = timesteps.map((t) => interpIndex(t, train));
    }
    const last = c.final_sigmas_type === "zero" ? 0 : f(Math.sqrt(f(f(1 - this.#acp[0]) / this.#acp[0])));
    this.sigmas = Float32Array.from([...sigmas, last]);
    this.timesteps = timesteps;
    this.#modelOutputs = new Array(c.solver_order).fill(undefined);
    this.#lowerOrderNums = 0;
    this.#stepIndex = undefined;
  }

  /** As diffusers: the second match if t repeats, the first if once, the last step if absent. */
  #indexFor(t: number): number {
    const matches = this.timesteps.flatMap((v, i) => (v === t ? [i] : []));
    if (matches.length === 0) return this.timesteps.length - 1;
    return matches.length > 1 ? matches[1] : matches[0];
  }

  scaleModelInput(sample: Float32Array): Float32Array {
    return sample;
  }

  /** The model output as the solver's variable: x0 for dpmsolver++, epsilon for dpmsolver. */
  #convert(modelOutput: Float32Array, sample: Float32Array, sigma: number): Float32Array {
    const [alpha, sig] = alphaSigma(sigma);
    const p = this.config.prediction_type;
    if (this.config.algorithm_type === "dpmsolver++") {
      if (p === "epsilon") return combine([[1, sample], [-sig, modelOutput]]).map((v) => v / alpha);
      if (p === "v_prediction") return combine([[alpha, sample], [-sig, modelOutput]]);
      return modelOutput;
    }
    if (p === "epsilon") return modelOutput;
    if (p === "v_prediction") return combine([[alpha, modelOutput], [sig, sample]]);
    return combine([[1, sample], [-alpha, modelOutput]]).map((v) => v / sig);
  }

  step(modelOutput: Float32Array, t: number, sample: Float32Array): Float32Array {
    requireTimesteps(this.timesteps, "DPMSolverMultistepScheduler");
    checkSameLength(modelOutput, sample, "DPM-Solver step");
    const c = this.config;
    const i = this.#stepIndex ??= this.#indexFor(t);
    const count = this.timesteps.length;
    const lowerOrderFinal = i === count - 1 &&
      (c.euler_at_final || (c.lower_order_final && count < 15) || c.final_sigmas_type === "zero");
    const lowerOrderSecond = i === count - 2 && c.lower_order_final && count < 15;

    const converted = this.#convert(modelOutput, sample, this.sigmas[i]);
    this.#modelOutputs.shift();
    this.#modelOutputs.push(converted);

    let prev: Float32Array;
    if (c.solver_order === 1 || this.#lowerOrderNums < 1 || lowerOrderFinal) {
      prev = this.#firstOrder(converted, sample, i);
    } else if (c.solver_order === 2 || this.#lowerOrderNums < 2 || lowerOrderSecond) {
      prev = this.#secondOrder(sample, i);
    } else {
      prev = this.#thirdOrder(sample, i);
    }
    if (this.#lowerOrderNums < c.solver_order) this.#lowerOrderNums++;
    this.#stepIndex = i + 1;
    return prev;
  }

  /** alpha, sigma, lambda at sigmas[i]. */
  #at(i: number): [number, number, number] {
    const [a, s] = alphaSigma(this.sigmas[i]);
    return [a, s, lambdaOf(a, s)];
  }

  #firstOrder(m: Float32Array, sample: Float32Array, i: number): Float32Array {
    const [at, st, lt] = this.#at(i + 1);
    const [as, ss, ls] = this.#at(i);
    const h = f(lt - ls);
    if (this.config.algorithm_type === "dpmsolver++") {
      return combine([[f(st / ss), sample], [-f(at * f(f(Math.exp(-h)) - 1)), m]]);
    }
    return combine([[f(at / as), sample], [-f(st * f(f(Math.exp(h)) - 1)), m]]);
  }

  #secondOrder(sample: Float32Array, i: number): Float32Array {
    const [at, st, lt] = this.#at(i + 1);
    const [as0, ss0, ls0] = this.#at(i);
    const [, , ls1] = this.#at(i - 1);
    const outs = this.#modelOutputs;
    const m0 = outs[outs.length - 1]!;
    const m1 = outs[outs.length - 2]!;
    const h = f(lt - ls0);
    const r0 = f(f(ls0 - ls1) / h);
    const d1 = combine([[1, m0], [-1, m1]]).map((v) => f(1 / r0) * v);
    const heun = this.config.solver_type === "heun";
    if (this.config.algorithm_type === "dpmsolver++") {
      const em1 = f(f(Math.exp(-h)) - 1);
      const c0 = f(at * em1);
      const c1 = heun ? f(at * f(f(em1 / h) + 1)) : -f(0.5 * c0);
      return combine([[f(st / ss0), sample], [-c0, m0], [c1, d1]]);
    }
    const ep1 = f(f(Math.exp(h)) - 1);
    const c0 = f(st * ep1);
    const c1 = heun ? f(st * f(f(ep1 / h) - 1)) : f(0.5 * c0);
    return combine([[f(at / as0), sample], [-c0, m0], [-c1, d1]]);
  }

  #thirdOrder(sample: Float32Array, i: number): Float32Array {
    const [at, st, lt] = this.#at(i + 1);
    const [as0, ss0, ls0] = this.#at(i);
    const [, , ls1] = this.#at(i - 1);
    const [, , ls2] = this.#at(i - 2);
    const outs = this.#modelOutputs;
    const [m2, m1, m0] = [outs[outs.length - 3]!, outs[outs.length - 2]!, outs[outs.length - 1]!];
    const h = f(lt - ls0);
    const r0 = f(f(ls0 - ls1) / h);
    const r1 = f(f(ls1 - ls2) / h);
    const d10 = combine([[1, m0], [-1, m1]]).map((v) => f(1 / r0) * v);
    const d11 = combine([[1, m1], [-1, m2]]).map((v) => f(1 / r1) * v);
    const diff = combine([[1, d10], [-1, d11]]);
    const d1 = combine([[1, d10], [f(r0 / f(r0 + r1)), diff]]);
    const d2 = diff.map((v) => f(1 / f(r0 + r1)) * v);
    const h2 = f(h * h);
    if (this.config.algorithm_type === "dpmsolver++") {
      const em1 = f(f(Math.exp(-h)) - 1);
      return combine([
        [f(st / ss0), sample],
        [-f(at * em1), m0],
        [f(at * f(f(em1 / h) + 1)), d1],
        [-f(at * f(f(f(em1 + h) / h2) - 0.5)), d2],
      ]);
    }
    const ep1 = f(f(Math.exp(h)) - 1);
    return combine([
      [f(at / as0), sample],
      [-f(st * ep1), m0],
      [-f(st * f(f(ep1 / h) - 1)), d1],
      [-f(st * f(f(f(ep1 - h) / h2) - 0.5)), d2],
    ]);
  }

  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array {
    requireTimesteps(this.timesteps, "DPMSolverMultistepScheduler");
    checkSameLength(original, noise, "DPM-Solver addNoise");
    const [alpha, sigma] = alphaSigma(this.sigmas[this.#indexFor(t)]);
    return combine([[alpha, original], [sigma, noise]]);
  }
}

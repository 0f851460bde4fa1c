// A1111 1.10's schedule types (modules/sd_schedulers.py): how the noise levels of an n-step run are chosen.
// One entry per type; `sigmas` returns n + 1 descending levels (the last 0, except KL Optimal's sigma_min).
// "Automatic" is no function of its own: it stands for the sampler's default (lib/diffusion/samplers/catalog.ts).
import { betaPpf } from "./beta_distribution.ts";
import { linspace32, type ModelSigmas } from "./model_sigmas.ts";

const f = Math.fround;

/** What a schedule may use: the step count, the model's sigma range and discrete schedule. */
export interface ScheduleInput {
  n: number;
  sigmaMin: number;
  sigmaMax: number;
  model: ModelSigmas;
  /** Align Your Steps has separate tables for SDXL and for SD 1.x/2.x. */
  sdxl: boolean;
}

export interface ScheduleType {
  /** A1111's internal name ("karras") and the label users see ("Karras"). */
  name: string;
  label: string;
  aliases: readonly string[];
  sigmas(input: ScheduleInput): Float32Array;
}

function withZero(values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length + 1);
  out.set(Array.from(values, f));
  return out;
}

/** Karras et al. (2022), rho = 7: evenly spaced in sigma^(1/rho). */
export function karras(n: number, sigmaMin: number, sigmaMax: number, rho = 7): Float32Array {
  const ramp = linspace32(0, 1, n);
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  const span = f(minInv - maxInv);
  return withZero(ramp.map((r) => f(f(f(maxInv) + f(r * span)) ** rho)));
}

/** Evenly spaced in log sigma. */
function exponential(n: number, sigmaMin: number, sigmaMax: number): Float32Array {
  return withZero(linspace32(Math.log(sigmaMax), Math.log(sigmaMin), n).map((v) => f(Math.exp(v))));
}

/** A polynomial (rho = 1: linear) ramp in log sigma. */
function polyexponential(n: number, sigmaMin: number, sigmaMax: number, rho = 1): Float32Array {
  const ramp = linspace32(1, 0, n).map((r) => f(r ** rho));
  const span = f(Math.log(sigmaMax) - Math.log(sigmaMin));
  const logMin = f(Math.log(sigmaMin));
  return withZero(ramp.map((r) => f(Math.exp(f(f(r * span) + logMin)))));
}

/** Timesteps evenly spaced between sigma_max's and sigma_min's; SGM Uniform leaves the last one out. */
function timestepSpaced({ n, sigmaMin, sigmaMax, model }: ScheduleInput, sgm: boolean): Float32Array {
  const start = model.sigmaToT(sigmaMax);
  const end = model.sigmaToT(sigmaMin);
  const ts = sgm ? linspace32(start, end, n + 1).subarray(0, n) : linspace32(start, end, n);
  return withZero(Array.from(ts, (t) => model.tToSigma(t)));
}

/** Align Your Steps (NVIDIA's optimized 10-step tables), log-linearly interpolated to n steps. */
const AYS_SD = [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029];
const AYS_SDXL = [14.615, 6.315, 3.771, 2.181, 1.342, 0.862, 0.555, 0.380, 0.234, 0.113, 0.029];

function alignYourSteps({ n, sdxl }: ScheduleInput): Float32Array {
  const table = sdxl ? AYS_SDXL : AYS_SD;
  if (n === table.length) return withZero(table);
  // np.interp over log sigma (ascending), evenly spaced points in [0, 1] on both sides.
  const ys = [...table].reverse().map(Math.log);
  const m = ys.length;
  const xs = Array.from({ length: m }, (_, j) => j === m - 1 ? 1 : j * (1 / (m - 1)));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = n === 1 ? 0 : i === n - 1 ? 1 : i * (1 / (n - 1));
    let j = 0;
    while (j < m - 2 && xs[j + 1] <= x) j++;
    const y = x >= 1 ? ys[m - 1] : (ys[j + 1] - ys[j]) / (xs[j + 1] - xs[j]) * (x - xs[j]) + ys[j];
    out.push(Math.exp(y));
  }
  return withZero(out.reverse());
}

/** tan of evenly spaced angles between atan(sigma_max) and atan(sigma_min); ends at sigma_min, not 0. */
function klOptimal(n: number, sigmaMin: number, sigmaMax: number): Float32Array {
  const aMin = f(Math.atan(sigmaMin));
  const aMax = f(Math.atan(sigmaMax));
  return Float32Array.from({ length: n + 1 }, (_, i) => {
    const r = f(i / n);
    return f(Math.tan(f(f(r * aMin) + f(f(1 - r) * aMax))));
  });
}

/** Every (1000/n)-th training sigma from the top. */
function simple({ n, model }: ScheduleInput): Float32Array {
  const s = model.sigmas;
  const ss = s.length / n;
  return withZero(Array.from({ length: n }, (_, x) => s[s.length - 1 - Math.trunc(x * ss)]));
}

/** The training sigmas DDIM's uniform spacing visits (1, 1 + 1000//n, …): may be more than n. */
function ddimSpaced({ n, model }: ScheduleInput): Float32Array {
  const s = model.sigmas;
  const ss = Math.max(Math.floor(s.length / n), 1);
  const out: number[] = [];
  for (let x = 1; x < s.length; x += ss) out.push(s[x]);
  return withZero(out.reverse());
}

/** Beta-distribution spacing (Lee et al. 2024) with A1111's default alpha = beta = 0.6. */
export const BETA_ALPHA = 0.6;
export const BETA_BETA = 0.6;

function betaSpaced({ n, sigmaMin, sigmaMax }: ScheduleInput): Float32Array {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    // 1 − np.linspace(0, 1, n)
    const p = 1 - (n === 1 ? 0 : i === n - 1 ? 1 : i * (1 / (n - 1)));
    out.push(sigmaMin + betaPpf(p, BETA_ALPHA, BETA_BETA) * (sigmaMax - sigmaMin));
  }
  return withZero(out);
}

export const SCHEDULE_TYPES: readonly ScheduleType[] = [
  { name: "uniform", label: "Uniform", aliases: [], sigmas: ({ n, model }) => model.uniform(n) },
  { name: "karras", label: "Karras", aliases: [], sigmas: (i) => karras(i.n, i.sigmaMin, i.sigmaMax) },
  {
    name: "exponential",
    label: "Exponential",
    aliases: [],
    sigmas: (i) => exponential(i.n, i.sigmaMin, i.sigmaMax),
  },
  {
    name: "polyexponential",
    label: "Polyexponential",
    aliases: [],
    sigmas: (i) => polyexponential(i.n, i.sigmaMin, i.sigmaMax),
  },
  {
    name: "sgm_uniform",
    label: "SGM Uniform",
    aliases: ["SGMUniform"],
    sigmas: (i) => timestepSpaced(i, true),
  },
  {
    name: "kl_optimal",
    label: "KL Optimal",
    aliases: [],
    sigmas: (i) => klOptimal(i.n, i.sigmaMin, i.sigmaMax),
  },
  { name: "align_your_steps", label: "Align Your Steps", aliases: [], sigmas: alignYourSteps },
  { name: "simple", label: "Simple", aliases: [], sigmas: simple },
  { name: "normal", label: "Normal", aliases: [], sigmas: (i) => timestepSpaced(i, false) },
  { name: "ddim", label: "DDIM", aliases: [], sigmas: ddimSpaced },
  { name: "beta", label: "Beta", aliases: [], sigmas: betaSpaced },
];

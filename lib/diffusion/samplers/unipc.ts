// UniPC (Zhao et al. 2023) as A1111 runs it (modules/models/diffusion/uni_pc, its defaults: multistep, order 3,
// variant bh1, time-uniform steps, lower order at the end, data prediction): a predictor-corrector on the
// discrete schedule's continuous time t ∈ [1/N, 1], whose model calls are A1111's timestep denoiser at
// t_input = (t − 1/N)·1000 (fractional, as the UNet receives it).
import { linspace32 } from "./model_sigmas.ts";
import type { TimestepRun } from "./timestep_samplers.ts";

const f = Math.fround;

export const UNIPC_ORDER = 3;

/** NoiseScheduleVP("discrete"): log ᾱ^(1/2) interpolated linearly in t over t_n = (n + 1) / N. */
class DiscreteVp {
  readonly #logAlpha: Float32Array;
  readonly #t: Float32Array;
  readonly n: number;

  constructor(alphasCumprod: Float32Array) {
    this.n = alphasCumprod.length;
    this.#logAlpha = alphasCumprod.map((a) => f(0.5 * f(Math.log(a))));
    this.#t = linspace32(0, 1, this.n + 1).subarray(1);
  }

  logMeanCoeff(t: number): number {
    const xs = this.#t;
    const ys = this.#logAlpha;
    let j = 0;
    while (j < xs.length - 2 && xs[j + 1] < t) j++;
    return f(ys[j] + f(f(f(t - xs[j]) * f(ys[j + 1] - ys[j])) / f(xs[j + 1] - xs[j])));
  }

  alpha(t: number): number {
    return f(Math.exp(this.logMeanCoeff(t)));
  }

  std(t: number): number {
    return f(Math.sqrt(f(1 - f(Math.exp(f(2 * this.logMeanCoeff(t)))))));
  }

  lambda(t: number): number {
    const m = this.logMeanCoeff(t);
    return f(m - f(0.5 * f(Math.log(f(1 - f(Math.exp(f(2 * m))))))));
  }
}

/** Solves the small system a·x = b (Gaussian elimination with partial pivoting). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row.slice(0, n), b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const k = m[r][c] / m[c][c];
      for (let k2 = c; k2 <= n; k2++) m[r][k2] -= k * m[c][k2];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let c = r + 1; c < n; c++) s -= m[r][c] * x[c];
    x[r] = s / m[r][r];
  }
  return x;
}

/** UniPC, variant bh1, data prediction: A1111's only configuration by default. */
export async function sampleUniPc(run: TimestepRun): Promise<Float32Array> {
  const ns = new DiscreteVp(run.alphasCumprod);
  const steps = run.timesteps.length;
  if (steps < UNIPC_ORDER) {
    throw new Error(`UniPC needs at least ${UNIPC_ORDER} steps (its order), got ${steps}`);
  }
  const tT = run.img2img ? run.timesteps[steps - 1] / ns.n + 1 / ns.n : 1;
  const t0 = 1 / ns.n;
  const times = Array.from(linspace32(tT, t0, steps + 1));

  /** The data prediction x0 at continuous time t. */
  const model = async (x: Float32Array, t: number): Promise<Float32Array> => {
    const tInput = f(f(t - f(1 / ns.n)) * 1000);
    const { eps } = await run.predict(x, tInput);
    const a = ns.alpha(t);
    const s = ns.std(t);
    return x.map((v, i) => f(v - f(s * eps[i])) / a);
  };

  const update = async (
    x: Float32Array,
    models: Float32Array[],
    ts: number[],
    t: number,
    order: number,
    corrector: boolean,
  ): Promise<{ x: Float32Array; model?: Float32Array }> => {
    const tPrev = ts[ts.length - 1];
    const lambdaPrev = ns.lambda(tPrev);
    const mPrev = models[models.length - 1];
    const sigmaPrev = ns.std(tPrev);
    const sigmaT = ns.std(t);
    const alphaT = f(Math.exp(ns.logMeanCoeff(t)));
    const h = f(ns.lambda(t) - lambdaPrev);
    const rks: number[] = [];
    const d1s: Float32Array[] = [];
    for (let i = 1; i < order; i++) {
      const rk = f(f(ns.lambda(ts[ts.length - 1 - i]) - lambdaPrev) / h);
      rks.push(rk);
      const mi = models[models.length - 1 - i];
      d1s.push(mi.map((v, k) => f(v - mPrev[k]) / rk));
    }
    rks.push(1);
    // Float32 scalars as torch computes them: the φ_k recursion cancels, so its rounding shows.
    const hh = -h;
    const hPhi1 = f(Math.expm1(hh));
    let hPhiK = f(f(hPhi1 / hh) - 1);
    let factorial = 1;
    const bH = hh;
    const R: number[][] = [];
    const b: number[] = [];
    for (let i = 1; i <= order; i++) {
      R.push(rks.map((r) => f(r ** (i - 1))));
      b.push(f(f(hPhiK * factorial) / bH));
      factorial *= i + 1;
      hPhiK = f(f(hPhiK / hh) - f(1 / factorial));
    }
    const usePredictor = d1s.length > 0;
    const rhosP = !usePredictor
      ? []
      : order === 2
      ? [0.5]
      : solve(R.slice(0, -1).map((r) => r.slice(0, -1)), b.slice(0, -1));
    const cX = f(sigmaT / sigmaPrev);
    const cM = f(alphaT * hPhi1);
    const base = x.map((v, k) => f(cX * v) - f(cM * mPrev[k]));
    const cB = f(alphaT * bH);
    const residual = (rhos: number[]) => {
      const out = new Float32Array(x.length);
      rhos.forEach((rho, j) => {
        for (let k = 0; k < out.length; k++) out[k] += f(f(rho) * d1s[j][k]);
      });
      return out;
    };
    let xt = usePredictor
      ? (() => {
        const res = residual(rhosP);
        return base.map((v, k) => v - f(cB * res[k]));
      })()
      : base;
    if (!corrector) return { x: xt };
    const rhosC = order === 1 ? [0.5] : solve(R, b);
    const mT = await model(xt, t);
    const corr = residual(rhosC.slice(0, -1));
    const last = f(rhosC[rhosC.length - 1]);
    xt = base.map((v, k) => v - f(cB * f(corr[k] + f(last * f(mT[k] - mPrev[k])))));
    return { x: xt, model: mT };
  };

  let x = run.x;
  const models = [await model(x, times[0])];
  const ts = [times[0]];
  let index = 0;
  for (let order = 1; order < UNIPC_ORDER; order++) {
    const step = await update(x, models, ts, times[order], order, true);
    x = step.x;
    const m = step.model ?? await model(x, times[order]);
    run.onStep(index++, m);
    models.push(m);
    ts.push(times[order]);
  }
  for (let step = UNIPC_ORDER; step <= steps; step++) {
    const order = Math.min(UNIPC_ORDER, steps + 1 - step);
    const out = await update(x, models, ts, times[step], order, step !== steps);
    x = out.x;
    run.onStep(index++, out.model ?? x);
    models.shift();
    ts.shift();
    ts.push(times[step]);
    if (step < steps) models.push(out.model ?? await model(x, times[step]));
    else models.push(models[models.length - 1]);
  }
  return x;
}

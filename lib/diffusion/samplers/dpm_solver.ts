// DPM-Solver (Lu et al. 2022) as k-diffusion's DPMSolver runs it for "DPM fast" (fixed steps of orders 3, …,
// 2, 1 spending exactly n model calls) and "DPM adaptive" (embedded 2nd/3rd-order pairs with a PID step-size
// controller), both in log-sigma time t = −log sigma, optionally ancestral (eta > 0).
import { linspace32 } from "./model_sigmas.ts";
import { ancestralStep } from "./ops.ts";
import type { Denoise, NoiseFn } from "./types.ts";

const f = Math.fround;
const sigmaOf = (t: number) => Math.exp(-t);
const tOf = (sigma: number) => -Math.log(sigma);

/** One DPM-Solver run: its model, the noise source, and where progress goes. */
export interface DpmSolverRun {
  x: Float32Array;
  sigmaMin: number;
  sigmaMax: number;
  denoise: Denoise;
  noise: NoiseFn;
  eta: number;
  sNoise: number;
  onStep: (step: number, denoised: Float32Array) => void;
}

/** The noise predictions of one step, computed once each (k-diffusion's eps_cache). */
class EpsCache {
  readonly #values = new Map<string, Float32Array>();
  constructor(private readonly denoise: Denoise) {}

  async eps(key: string, x: Float32Array, t: number): Promise<Float32Array> {
    const hit = this.#values.get(key);
    if (hit) return hit;
    const sigma = f(sigmaOf(t));
    const denoised = await this.denoise(x, sigma);
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = f(x[i] - denoised[i]) / sigma;
    this.#values.set(key, out);
    return out;
  }
}

/** x − Σ cᵢ·vᵢ, each product rounded, subtracted in order. */
function minus(x: Float32Array, terms: ReadonlyArray<readonly [number, Float32Array]>): Float32Array {
  const out = Float32Array.from(x);
  for (const [c, v] of terms) {
    const k = f(c);
    for (let i = 0; i < out.length; i++) out[i] = out[i] - f(k * v[i]);
  }
  return out;
}

function diff(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v - b[i]);
}

async function step1(c: EpsCache, x: Float32Array, t: number, tNext: number): Promise<Float32Array> {
  const h = tNext - t;
  return minus(x, [[sigmaOf(tNext) * Math.expm1(h), await c.eps("eps", x, t)]]);
}

async function step2(
  c: EpsCache,
  x: Float32Array,
  t: number,
  tNext: number,
  r1 = 1 / 2,
): Promise<Float32Array> {
  const h = tNext - t;
  const eps = await c.eps("eps", x, t);
  const s1 = t + r1 * h;
  const u1 = minus(x, [[sigmaOf(s1) * Math.expm1(r1 * h), eps]]);
  const epsR1 = await c.eps("eps_r1", u1, s1);
  return minus(x, [
    [sigmaOf(tNext) * Math.expm1(h), eps],
    [sigmaOf(tNext) / (2 * r1) * Math.expm1(h), diff(epsR1, eps)],
  ]);
}

async function step3(c: EpsCache, x: Float32Array, t: number, tNext: number): Promise<Float32Array> {
  const r1 = 1 / 3;
  const r2 = 2 / 3;
  const h = tNext - t;
  const eps = await c.eps("eps", x, t);
  const s1 = t + r1 * h;
  const s2 = t + r2 * h;
  const u1 = minus(x, [[sigmaOf(s1) * Math.expm1(r1 * h), eps]]);
  const epsR1 = await c.eps("eps_r1", u1, s1);
  const u2 = minus(x, [
    [sigmaOf(s2) * Math.expm1(r2 * h), eps],
    [sigmaOf(s2) * (r2 / r1) * (Math.expm1(r2 * h) / (r2 * h) - 1), diff(epsR1, eps)],
  ]);
  const epsR2 = await c.eps("eps_r2", u2, s2);
  return minus(x, [
    [sigmaOf(tNext) * Math.expm1(h), eps],
    [sigmaOf(tNext) / r2 * (Math.expm1(h) / h - 1), diff(epsR2, eps)],
  ]);
}

/** Where an ancestral step really ends (t_next_) and the noise it adds, per k-diffusion's DPMSolver. */
function ancestralTarget(t: number, tNext: number, tEnd: number, eta: number): { to: number; up: number } {
  if (!eta) return { to: tNext, up: 0 };
  const { down } = ancestralStep(sigmaOf(t), sigmaOf(tNext), eta);
  const to = Math.min(tEnd, tOf(down));
  return { to, up: Math.sqrt(sigmaOf(tNext) ** 2 - sigmaOf(to) ** 2) };
}

function addScaled(x: Float32Array, amount: number, noise: Float32Array): Float32Array {
  const k = f(amount);
  return x.map((v, i) => v + f(k * noise[i]));
}

/** k-diffusion's sample_dpm_fast: n model calls in steps of order 3 (the last ones 2 and 1 as needed). */
export async function sampleDpmFast(run: DpmSolverRun, n: number): Promise<Float32Array> {
  if (!(run.sigmaMin > 0 && run.sigmaMax > 0)) {
    throw new Error("DPM fast needs sigma_min and sigma_max above 0");
  }
  const tStart = f(tOf(run.sigmaMax));
  const tEnd = f(tOf(run.sigmaMin));
  const m = Math.floor(n / 3) + 1;
  const ts = linspace32(tStart, tEnd, m + 1);
  const orders = n % 3 === 0 ? [...Array(m - 2).fill(3), 2, 1] : [...Array(m - 1).fill(3), n % 3];
  let x = run.x;
  for (let i = 0; i < orders.length; i++) {
    const c = new EpsCache(run.denoise);
    const t = ts[i];
    const { to, up } = ancestralTarget(t, ts[i + 1], tEnd, run.eta);
    const eps = await c.eps("eps", x, t);
    run.onStep(i, minus(x, [[sigmaOf(t), eps]]));
    x = orders[i] === 1
      ? await step1(c, x, t, to)
      : orders[i] === 2
      ? await step2(c, x, t, to)
      : await step3(c, x, t, to);
    x = addScaled(x, up * run.sNoise, run.noise());
  }
  return x;
}

export interface AdaptiveOptions {
  order: 2 | 3;
  rtol: number;
  atol: number;
  hInit: number;
  pcoeff: number;
  icoeff: number;
  dcoeff: number;
  acceptSafety: number;
}

/** k-diffusion's defaults, which A1111 uses. */
export const ADAPTIVE_DEFAULTS: AdaptiveOptions = {
  order: 3,
  rtol: 0.05,
  atol: 0.0078,
  hInit: 0.05,
  pcoeff: 0,
  icoeff: 1,
  dcoeff: 0,
  acceptSafety: 0.81,
};

/** k-diffusion's PIDStepSizeController. */
class StepSizeController {
  h: number;
  readonly #b: [number, number, number];
  #errs: number[] = [];

  constructor(h: number, o: AdaptiveOptions, order: number, private readonly eps = 1e-8) {
    this.h = h;
    this.#b = [
      (o.pcoeff + o.icoeff + o.dcoeff) / order,
      -(o.pcoeff + 2 * o.dcoeff) / order,
      o.dcoeff / order,
    ];
  }

  propose(error: number, acceptSafety: number): boolean {
    const inv = 1 / (error + this.eps);
    if (this.#errs.length === 0) this.#errs = [inv, inv, inv];
    this.#errs[0] = inv;
    const [b1, b2, b3] = this.#b;
    const factor = 1 + Math.atan(this.#errs[0] ** b1 * this.#errs[1] ** b2 * this.#errs[2] ** b3 - 1);
    const accept = factor >= acceptSafety;
    if (accept) {
      this.#errs[2] = this.#errs[1];
      this.#errs[1] = this.#errs[0];
    }
    this.h *= factor;
    return accept;
  }
}

/** k-diffusion's sample_dpm_adaptive (forward direction): as many steps as the error control needs. */
export async function sampleDpmAdaptive(
  run: DpmSolverRun,
  o: AdaptiveOptions = ADAPTIVE_DEFAULTS,
): Promise<Float32Array> {
  if (!(run.sigmaMin > 0 && run.sigmaMax > 0)) {
    throw new Error("DPM adaptive needs sigma_min and sigma_max above 0");
  }
  const tEnd = f(tOf(run.sigmaMin));
  let s = f(tOf(run.sigmaMax));
  const atol = f(o.atol);
  const rtol = f(o.rtol);
  const pid = new StepSizeController(o.hInit, o, run.eta ? 1.5 : o.order);
  let x = run.x;
  let xPrev = x;
  let steps = 0;
  while (s < tEnd - 1e-5) {
    const c = new EpsCache(run.denoise);
    const t = f(Math.min(tEnd, f(s + pid.h)));
    const { to, up } = ancestralTarget(s, t, tEnd, run.eta);
    const eps = await c.eps("eps", x, s);
    const denoised = minus(x, [[sigmaOf(s), eps]]);
    const low = o.order === 2 ? await step1(c, x, s, to) : await step2(c, x, s, to, 1 / 3);
    const high = o.order === 2 ? await step2(c, x, s, to) : await step3(c, x, s, to);
    let sum = 0;
    for (let i = 0; i < x.length; i++) {
      const delta = Math.max(atol, f(rtol * Math.max(Math.abs(low[i]), Math.abs(xPrev[i]))));
      const e = f(f(low[i] - high[i]) / delta);
      sum += e * e;
    }
    const error = f(Math.sqrt(sum) / Math.sqrt(x.length));
    if (pid.propose(error, o.acceptSafety)) {
      xPrev = low;
      x = addScaled(high, up * run.sNoise, run.noise());
      s = t;
    }
    run.onStep(steps++, denoised);
  }
  return x;
}

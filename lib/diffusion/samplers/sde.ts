// The DPM-Solver++ SDE samplers (k-diffusion's sample_dpmpp_sde, sample_dpmpp_2m_sde, sample_dpmpp_3m_sde),
// whose noise comes from the run's Brownian tree. Log-sigma times are float32 as k-diffusion's tensors are, so
// the tree is queried at the same times.
import { addNoise, ancestralStep, axpy, lincomb, sub, toD } from "./ops.ts";
import type { SigmaRun } from "./types.ts";

const f = Math.fround;
const tOf = (sigma: number) => f(-f(Math.log(sigma)));
const sigmaOf = (t: number) => f(Math.exp(-t));

function brownian(run: SigmaRun, sigma: number, sigmaNext: number): Float32Array {
  if (!run.brownian) throw new Error("the SDE samplers need the run's Brownian noise");
  return run.brownian(sigma, sigmaNext);
}

/** Where DPM++ SDE's intermediate evaluation sits in log-sigma time (k-diffusion's r). */
const R = 1 / 2;

/** DPM-Solver++ (stochastic), "DPM++ SDE": two model calls per step. */
export async function sampleDpmppSde(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  const { eta, sNoise } = run.settings;
  let x = run.x;
  for (let i = 0; i < s.length - 1; i++) {
    const denoised = await run.denoise(x, s[i]);
    run.onStep(i, denoised);
    if (s[i + 1] === 0) {
      x = axpy(x, s[i + 1] - s[i], toD(x, denoised, s[i]));
      continue;
    }
    const t = tOf(s[i]);
    const tNext = tOf(s[i + 1]);
    const h = f(tNext - t);
    const sMid = f(t + f(h * R));
    // Step 1: to the midpoint, ancestrally.
    const first = ancestralStep(sigmaOf(t), sigmaOf(sMid), eta);
    const sMid_ = tOf(first.down);
    let x2 = lincomb(sigmaOf(sMid_) / sigmaOf(t), x, -Math.expm1(t - sMid_), denoised);
    x2 = addNoise(x2, brownian(run, sigmaOf(t), sigmaOf(sMid)), sNoise * first.up);
    const denoised2 = await run.denoise(x2, sigmaOf(sMid));
    // Step 2: the whole step with the midpoint's estimate.
    const second = ancestralStep(sigmaOf(t), sigmaOf(tNext), eta);
    const tNext_ = tOf(second.down);
    const fac = 1 / (2 * R);
    const mixed = lincomb(1 - fac, denoised, fac, denoised2);
    x = lincomb(sigmaOf(tNext_) / sigmaOf(t), x, -Math.expm1(t - tNext_), mixed);
    x = addNoise(x, brownian(run, sigmaOf(t), sigmaOf(tNext)), sNoise * second.up);
  }
  return x;
}

/** DPM-Solver++(2M) SDE; "midpoint" is A1111's "DPM++ 2M SDE", "heun" its "DPM++ 2M SDE Heun". */
export function dpmpp2mSde(solver: "midpoint" | "heun") {
  return async (run: SigmaRun): Promise<Float32Array> => {
    const s = run.sigmas;
    const { eta, sNoise } = run.settings;
    let x = run.x;
    let old: Float32Array | undefined;
    let hLast = 0;
    for (let i = 0; i < s.length - 1; i++) {
      const denoised = await run.denoise(x, s[i]);
      run.onStep(i, denoised);
      if (s[i + 1] === 0) {
        x = denoised;
      } else {
        const h = f(tOf(s[i + 1]) - tOf(s[i]));
        const etaH = f(eta * h);
        const decay = f(-Math.expm1(f(-h - etaH)));
        x = lincomb(f(s[i + 1] / s[i]) * Math.exp(-etaH), x, decay, denoised);
        if (old) {
          const r = hLast / h;
          const c = solver === "heun" ? (decay / f(-h - etaH) + 1) * (1 / r) : 0.5 * decay * (1 / r);
          x = axpy(x, c, sub(denoised, old));
        }
        if (eta) {
          x = addNoise(
            x,
            brownian(run, s[i], s[i + 1]),
            s[i + 1] * Math.sqrt(-Math.expm1(-2 * etaH)) * sNoise,
          );
        }
        hLast = h;
      }
      old = denoised;
    }
    return x;
  };
}

/** DPM-Solver++(3M) SDE, "DPM++ 3M SDE". */
export async function sampleDpmpp3mSde(run: SigmaRun): Promise<Float32Array> {
  const s = run.sigmas;
  const { eta, sNoise } = run.settings;
  let x = run.x;
  let d1: Float32Array | undefined;
  let d2: Float32Array | undefined;
  let h1: number | undefined;
  let h2: number | undefined;
  for (let i = 0; i < s.length - 1; i++) {
    const denoised = await run.denoise(x, s[i]);
    run.onStep(i, denoised);
    let h = h1 ?? 0;
    if (s[i + 1] === 0) {
      x = denoised;
    } else {
      h = f(tOf(s[i + 1]) - tOf(s[i]));
      const hEta = f(h * (eta + 1));
      x = lincomb(Math.exp(-hEta), x, -Math.expm1(-hEta), denoised);
      const phi2 = Math.expm1(-hEta) / hEta + 1;
      if (h2 !== undefined && d1 && d2) {
        const r0 = h1! / h;
        const r1 = h2 / h;
        const a = sub(denoised, d1).map((v) => v / r0);
        const b = sub(d1, d2).map((v) => v / r1);
        const phi3 = phi2 / hEta - 0.5;
        const out = new Float32Array(x.length);
        for (let k = 0; k < x.length; k++) {
          const dd1 = a[k] + f(f(a[k] - b[k]) * r0 / (r0 + r1));
          const dd2 = f(a[k] - b[k]) / (r0 + r1);
          out[k] = f(x[k] + f(phi2 * dd1)) - f(phi3 * dd2);
        }
        x = out;
      } else if (h1 !== undefined && d1) {
        const r = h1 / h;
        x = axpy(x, phi2, sub(denoised, d1).map((v) => v / r));
      }
      if (eta) {
        x = addNoise(
          x,
          brownian(run, s[i], s[i + 1]),
          s[i + 1] * Math.sqrt(-Math.expm1(-2 * h * eta)) * sNoise,
        );
      }
    }
    [d1, d2] = [denoised, d1];
    [h1, h2] = [h, h1];
  }
  return x;
}

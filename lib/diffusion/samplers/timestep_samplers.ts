// A1111's own timestep samplers (modules/sd_samplers_timesteps_impl.py): DDIM, DDIM CFG++ and PLMS walk the
// training timesteps 1, 1 + ⌊1000/n⌋, … (clipped to 999) from the top and see the model's noise prediction.
import type { PredictNoise } from "./denoiser.ts";
import type { NoiseFn } from "./types.ts";

const f = Math.fround;

/** One run of a timestep sampler. */
export interface TimestepRun {
  x: Float32Array;
  /** Ascending training timesteps; the sampler makes len − 1 steps, from the last down to the second. */
  timesteps: readonly number[];
  alphasCumprod: Float32Array;
  predict: PredictNoise;
  noise: NoiseFn;
  eta: number;
  /** img2img: the run starts part-way down the schedule (UniPC's t_start). */
  img2img?: boolean;
  onStep: (step: number, denoised: Float32Array) => void;
}

export type TimestepSampler = (run: TimestepRun) => Promise<Float32Array>;

/** A1111's get_timesteps: clip(range(0, 1000, 1000 // steps) + 1, 0, 999). */
export function a1111Timesteps(steps: number, trainSteps = 1000): number[] {
  const stride = Math.floor(trainSteps / steps);
  if (stride < 1) throw new Error(`at most ${trainSteps} steps, got ${steps}`);
  const out: number[] = [];
  for (let t = 0; t < trainSteps; t += stride) out.push(Math.min(Math.max(t + 1, 0), trainSteps - 1));
  return out;
}

/** x_prev = sqrt(ᾱ_prev)·x̂0 + sqrt(1 − ᾱ_prev − σ²)·direction + σ·noise, with x̂0 from eps. */
function ddimUpdate(
  x: Float32Array,
  eps: Float32Array,
  direction: Float32Array,
  aT: number,
  aPrev: number,
  sigmaT: number,
  noise: Float32Array | undefined,
): { x: Float32Array; denoised: Float32Array } {
  const sqrtOneMinusAt = f(Math.sqrt(f(1 - aT)));
  const sqrtAt = f(Math.sqrt(aT));
  const sqrtAPrev = f(Math.sqrt(aPrev));
  const dirScale = f(Math.sqrt(f(f(1 - aPrev) - f(sigmaT * sigmaT))));
  const denoised = new Float32Array(x.length);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    denoised[i] = f(x[i] - f(sqrtOneMinusAt * eps[i])) / sqrtAt;
    out[i] = f(f(sqrtAPrev * denoised[i]) + f(dirScale * direction[i])) + (noise ? f(sigmaT * noise[i]) : 0);
  }
  return { x: out, denoised };
}

/** DDIM's per-step noise sizes for eta (0 when eta is 0). */
function ddimSigma(run: TimestepRun, index: number): number {
  if (!run.eta) return 0;
  const a = run.alphasCumprod[run.timesteps[index]];
  const prev = run.alphasCumprod[run.timesteps[index - 1]];
  return run.eta * Math.sqrt((1 - prev) / (1 - a) * (1 - a / prev));
}

async function ddimLoop(run: TimestepRun, cfgpp: boolean): Promise<Float32Array> {
  const ts = run.timesteps;
  let x = run.x;
  for (let i = 0; i < ts.length - 1; i++) {
    const index = ts.length - 1 - i;
    const { eps, uncond } = await run.predict(x, ts[index]);
    if (cfgpp && !uncond) throw new Error("DDIM CFG++ needs the unconditional prediction");
    const sigmaT = f(ddimSigma(run, index));
    // A1111 draws this noise every step; with eta = 0 it is multiplied by 0, so it is skipped.
    const noise = sigmaT ? run.noise() : undefined;
    const a = run.alphasCumprod[ts[index]];
    const aPrev = f(run.alphasCumprod[ts[index - 1]]);
    const step = ddimUpdate(x, eps, cfgpp ? uncond! : eps, a, aPrev, sigmaT, noise);
    x = step.x;
    run.onStep(i, step.denoised);
  }
  return x;
}

export const sampleDdim: TimestepSampler = (run) => ddimLoop(run, false);

/**
 * DDIM CFG++ (Chung et al. 2024): x̂0 from the guided prediction, but the direction back to x_t from the
 * unconditional one. The caller divides the CFG scale by 12.5, as A1111 does.
 */
export const sampleDdimCfgpp: TimestepSampler = (run) => ddimLoop(run, true);

/** PLMS (pseudo linear multistep): a pseudo-improved-Euler first step, then Adams–Bashforth on eps. */
export const samplePlms: TimestepSampler = async (run) => {
  const ts = run.timesteps;
  let x = run.x;
  const old: Float32Array[] = [];
  const update = (e: Float32Array, index: number) =>
    ddimUpdate(x, e, e, run.alphasCumprod[ts[index]], f(run.alphasCumprod[ts[index - 1]]), 0, undefined);
  for (let i = 0; i < ts.length - 1; i++) {
    const index = ts.length - 1 - i;
    const { eps } = await run.predict(x, ts[index]);
    let prime: Float32Array;
    if (old.length === 0) {
      const next = (await run.predict(update(eps, index).x, ts[Math.max(index - 1, 0)])).eps;
      prime = eps.map((v, k) => f(v + next[k]) / 2);
    } else {
      const c = old.length === 1
        ? [3 / 2, -1 / 2]
        : old.length === 2
        ? [23 / 12, -16 / 12, 5 / 12]
        : [55 / 24, -59 / 24, 37 / 24, -9 / 24];
      const hist = [eps, ...[...old].reverse()];
      prime = eps.map((_, k) => {
        let acc = 0;
        for (let j = 0; j < c.length; j++) acc += c[j] * hist[j][k];
        return acc;
      });
    }
    const step = update(prime, index);
    old.push(eps);
    if (old.length >= 4) old.shift();
    x = step.x;
    run.onStep(i, step.denoised);
  }
  return x;
};

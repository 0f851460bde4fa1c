import type { Schema } from "./scheduler.ts";
// The training noise schedule (betas and their cumulative alpha product), computed as diffusers does in
// float32 torch tensors, so every scheduler starts from the same numbers as its Python counterpart.

export type BetaSchedule = "linear" | "scaled_linear" | "squaredcos_cap_v2";

/** The noise-schedule fields every scheduler's config has. */
export interface BetaFields {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas: number[] | null;
}

/** Their diffusers defaults, spread into each scheduler's schema. */
export const BETA_SCHEMA: Schema<BetaFields> = {
  num_train_timesteps: ["integer", 1000],
  beta_start: ["number", 0.0001],
  beta_end: ["number", 0.02],
  beta_schedule: ["string", "linear"],
  trained_betas: ["numbers|null", null],
};

export interface BetaConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: BetaSchedule;
  trained_betas?: readonly number[] | null;
  rescale_betas_zero_snr?: boolean;
}

const f = Math.fround;

/** torch.linspace(start, end, steps, dtype=float32): float32 step, each half counted from its own end. */
export function linspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  // Built for x86 with FMA: start + step * i is one fused multiply-add, which a double computes exactly here
  // (a float product is exact in a double, and the sum then rounds once more to float at worst half an ulp).
  for (let i = 0; i < steps; i++) out[i] = i < half ? f(s + step * i) : f(e - step * (steps - i - 1));
  return out;
}

/** Cosine schedule (Nichol & Dhariwal): betas from alpha_bar(t) = cos((t + 0.008) / 1.008 * pi / 2)^2. */
function squaredCosBetas(n: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number) => Math.cos((t + 0.008) / 1.008 * Math.PI / 2) ** 2;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), maxBeta);
  return out;
}

export function betas(config: BetaConfig): Float32Array {
  const n = config.num_train_timesteps;
  if (!Number.isInteger(n) || n < 2) throw new Error(`num_train_timesteps must be an integer >= 2, got ${n}`);
  let b: Float32Array;
  if (config.trained_betas != null) {
    if (config.trained_betas.length !== n) {
      throw new Error(`trained_betas has ${config.trained_betas.length} values, num_train_timesteps is ${n}`);
    }
    b = Float32Array.from(config.trained_betas);
  } else if (config.beta_schedule === "linear") {
    b = linspaceF32(config.beta_start, config.beta_end, n);
  } else if (config.beta_schedule === "scaled_linear") {
    b = linspaceF32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n).map((x) => f(x * x));
  } else if (config.beta_schedule === "squaredcos_cap_v2") {
    b = squaredCosBetas(n);
  } else {
    throw new Error(
      `beta_schedule "${config.beta_schedule}" is not one of linear, scaled_linear, squaredcos_cap_v2`,
    );
  }
  return config.rescale_betas_zero_snr ? rescaleZeroTerminalSnr(b) : b;
}

/** torch.cumprod on float32: the running product is kept in double and each output rounded to float. */
export function cumprodF32(x: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  let acc = 1;
  for (let i = 0; i < x.length; i++) {
    acc *= x[i];
    out[i] = acc;
  }
  return out;
}

/** alphas_cumprod = cumprod(1 - betas), in float32. */
export function alphasCumprod(b: Float32Array): Float32Array {
  return cumprodF32(b.map((x) => f(1 - x)));
}

/** Lin et al. 2023: shift the schedule so the last timestep has zero SNR (pure noise). */
function rescaleZeroTerminalSnr(b: Float32Array): Float32Array {
  const sqrtBar = alphasCumprod(b).map((x) => f(Math.sqrt(x)));
  const first = sqrtBar[0];
  const last = sqrtBar[sqrtBar.length - 1];
  const scale = f(first / f(first - last));
  const bar = sqrtBar.map((x) => {
    const y = f(f(x - last) * scale);
    return f(y * y);
  });
  const out = new Float32Array(b.length);
  out[0] = f(1 - bar[0]);
  for (let i = 1; i < b.length; i++) out[i] = f(1 - f(bar[i] / bar[i - 1]));
  return out;
}

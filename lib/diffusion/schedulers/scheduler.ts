// What every sampler offers the pipeline, and the config handling they share: a diffusers
// scheduler_config.json is read with the target class's defaults for missing keys, then overrides applied.
import type { NoiseGenerator } from "../noise_source.ts";

export interface Scheduler {
  /** The timesteps to visit, set by setTimesteps. */
  readonly timesteps: number[];
  /** Scale of the starting noise: 1 for DDPM-style samplers, the largest sigma for k-diffusion ones. */
  readonly initNoiseSigma: number;
  /** Picks the timesteps for a run of `steps` model calls; steps >= 1. Resets any multistep history. */
  setTimesteps(steps: number): void;
  scaleModelInput(sample: Float32Array, t: number): Float32Array;
  /** One denoising step: the sample at the previous (less noisy) timestep. */
  step(modelOutput: Float32Array, t: number, sample: Float32Array, rng?: NoiseGenerator): Float32Array;
  /** Forward diffusion to timestep t (img2img's starting latents). */
  addNoise(original: Float32Array, noise: Float32Array, t: number): Float32Array;
}

export type PredictionType = "epsilon" | "v_prediction" | "sample";

/** A scheduler config as JSON gives it (scheduler_config.json, or overrides). */
export type ConfigInput = Readonly<Record<string, unknown>>;

type Kind = "number" | "integer" | "boolean" | "string" | "number|null" | "string|null" | "numbers|null";
/** Each field's kind and diffusers' default for the class. */
export type Schema<T> = { readonly [K in keyof T]: readonly [Kind, T[K]] };

function coerce(kind: Kind, value: unknown, where: string): unknown {
  const nullable = kind.endsWith("|null");
  if (value === null && nullable) return null;
  const base = nullable ? kind.slice(0, -5) : kind;
  switch (base) {
    case "number":
    case "integer": {
      // JSON has no infinities; the fixtures and some configs spell them as strings.
      const n = typeof value === "string" && /^-?Infinity$|^NaN$/.test(value) ? Number(value) : value;
      if (typeof n !== "number" || (base === "integer" && !Number.isInteger(n))) {
        throw new Error(
          `${where} must be ${base === "integer" ? "an integer" : "a number"}, got ${JSON.stringify(value)}`,
        );
      }
      return n;
    }
    case "boolean":
      if (typeof value !== "boolean") {
        throw new Error(`${where} must be true or false, got ${JSON.stringify(value)}`);
      }
      return value;
    case "string":
      if (typeof value !== "string") {
        throw new Error(`${where} must be a string, got ${JSON.stringify(value)}`);
      }
      return value;
    case "numbers":
      if (!Array.isArray(value) || !value.every((v) => typeof v === "number")) {
        throw new Error(`${where} must be a list of numbers or null`);
      }
      return value;
  }
  throw new Error(`unknown kind ${kind}`);
}

/** The class's config: overrides, else the file's value, else the default; keys other classes use are ignored. */
export function resolveConfig<T>(
  schema: Schema<T>,
  config: ConfigInput,
  overrides: ConfigInput,
  who: string,
): T {
  const out: Partial<Record<keyof T, unknown>> = {};
  for (const key of Object.keys(schema) as (keyof T & string)[]) {
    const [kind, fallback] = schema[key];
    const value = key in overrides ? overrides[key] : key in config ? config[key] : fallback;
    out[key] = coerce(kind, value, `${who} ${key}`);
  }
  return out as T;
}

export function checkChoice<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${what} "${value}" is not supported; use one of ${allowed.join(", ")}`);
  }
  return value as T;
}

export function checkSameLength(a: Float32Array, b: Float32Array, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: lengths differ (${a.length} vs ${b.length})`);
}

/**
 * Where t sits in the schedule, as diffusers' index_for_timestep: the second match when t repeats (so img2img
 * starting mid-schedule does not skip a sigma), else the first; an unknown t is an error.
 */
export function indexForTimestep(timesteps: readonly number[], t: number): number {
  const matches: number[] = [];
  for (let i = 0; i < timesteps.length && matches.length < 2; i++) {
    if (timesteps[i] === Math.fround(t)) matches.push(i);
  }
  if (matches.length === 0) throw new Error(`timestep ${t} is not in the schedule [${timesteps.join(", ")}]`);
  return matches.length > 1 ? matches[1] : matches[0];
}

export function requireTimesteps(timesteps: readonly number[], who: string): void {
  if (timesteps.length === 0) throw new Error(`${who}: call setTimesteps before sampling`);
}

const f = Math.fround;

/**
 * Σ cᵢ·xᵢ elementwise in float32, in the order given, each coefficient rounded to float32 first: what torch
 * computes for `c0 * x0 + c1 * x1 - …` with 0-d float32 (or Python scalar) coefficients. Subtraction is a
 * negated coefficient, which rounds identically.
 */
export function combine(terms: ReadonlyArray<readonly [number, Float32Array]>): Float32Array {
  const n = terms[0][1].length;
  for (const [, x] of terms) {
    if (x.length !== n) throw new Error(`tensor lengths differ (${x.length} vs ${n})`);
  }
  const out = new Float32Array(n);
  const [c0, x0] = terms[0];
  const k0 = f(c0);
  for (let i = 0; i < n; i++) out[i] = k0 * x0[i];
  for (let t = 1; t < terms.length; t++) {
    const k = f(terms[t][0]);
    const x = terms[t][1];
    for (let i = 0; i < n; i++) out[i] = out[i] + f(k * x[i]);
  }
  return out;
}

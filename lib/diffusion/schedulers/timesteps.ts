// Which training timesteps an N-step sampling run visits, following diffusers' timestep_spacing options and
// the numpy calls it makes (float64 arithmetic, round-half-to-even).

export type TimestepSpacing = "linspace" | "leading" | "trailing";

export const SPACINGS: readonly TimestepSpacing[] = ["linspace", "leading", "trailing"];

/** numpy.round: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy.linspace(start, stop, num) in float64, endpoint included (and exact). */
export function linspace(start: number, stop: number, num: number): number[] {
  if (num === 1) return [start];
  const step = (stop - start) / (num - 1);
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** numpy.arange(start, stop, step) for a float step: ceil((stop - start) / step) values start + i * step. */
export function arange(start: number, stop: number, step: number): number[] {
  const n = Math.max(0, Math.ceil((stop - start) / step));
  return Array.from({ length: n }, (_, i) => start + i * step);
}

export interface SpacingOptions {
  spacing: TimestepSpacing;
  numTrainTimesteps: number;
  steps: number;
  stepsOffset: number;
  /** DDIM/PNDM round linspace timesteps to integers; Euler/LMS keep them as float32 fractions. */
  roundLinspace: boolean;
}

/** Checks a step count the way every scheduler's setTimesteps must. */
export function checkSteps(steps: number, numTrainTimesteps: number): void {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be an integer >= 1, got ${steps}`);
  if (steps > numTrainTimesteps) {
    throw new Error(`steps (${steps}) cannot exceed num_train_timesteps (${numTrainTimesteps})`);
  }
}

/** Descending timesteps for DDIM, PNDM, Euler, Euler a and LMS. */
export function spacedTimesteps(o: SpacingOptions): number[] {
  checkSteps(o.steps, o.numTrainTimesteps);
  const n = o.numTrainTimesteps;
  switch (o.spacing) {
    case "linspace": {
      const t = linspace(0, n - 1, o.steps).reverse();
      return o.roundLinspace ? t.map(roundHalfEven) : t.map(Math.fround);
    }
    case "leading": {
      const ratio = Math.floor(n / o.steps);
      return Array.from({ length: o.steps }, (_, i) => (o.steps - 1 - i) * ratio + o.stepsOffset);
    }
    case "trailing":
      return arange(n, 0, -n / o.steps).map((t) => roundHalfEven(t) - 1);
    default:
      throw new Error(`timestep_spacing "${o.spacing}" is not one of ${SPACINGS.join(", ")}`);
  }
}

/**
 * np.interp(x, [0, 1, …, len-1], fp) for x inside the range: fp[j] at integers, else the slope form numpy uses.
 */
export function interpIndex(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (x <= 0) return fp[0];
  if (x >= last) return fp[last];
  const j = Math.floor(x);
  if (x === j) return fp[j];
  const slope = (fp[j + 1] - fp[j]) / 1;
  return slope * (x - j) + fp[j];
}

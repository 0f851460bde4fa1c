// Elementwise latent arithmetic in float32, rounding where torch rounds each tensor operation.
const f = Math.fround;

/** k-diffusion's to_d: the ODE derivative (x − denoised) / sigma. */
export function toD(x: Float32Array, denoised: Float32Array, sigma: number): Float32Array {
  const s = f(sigma);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i] - denoised[i]) / s;
  return out;
}

/** x + a·y (a rounded to float32 first, as a 0-d float32 tensor is). */
export function axpy(x: Float32Array, a: number, y: Float32Array): Float32Array {
  const k = f(a);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + f(y[i] * k);
  return out;
}

/** a·x + b·y. */
export function lincomb(a: number, x: Float32Array, b: number, y: Float32Array): Float32Array {
  const ka = f(a);
  const kb = f(b);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(ka * x[i]) + f(kb * y[i]);
  return out;
}

/** x scaled by a. */
export function scale(x: Float32Array, a: number): Float32Array {
  const k = f(a);
  return x.map((v) => v * k);
}

/** (x + y) / 2, as `(d + d_2) / 2`. */
export function mean2(x: Float32Array, y: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f(x[i] + y[i]) / 2;
  return out;
}

/** x − y. */
export function sub(x: Float32Array, y: Float32Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] - y[i];
  return out;
}

/** Noise of size `amount` added to x: x + noise·amount. */
export function addNoise(x: Float32Array, noise: Float32Array, amount: number): Float32Array {
  if (noise.length !== x.length) {
    throw new Error(`the noise source returned ${noise.length} values for latents of ${x.length}`);
  }
  return axpy(x, amount, noise);
}

/** Ancestral step sizes (k-diffusion's get_ancestral_step): where to step down to, and how much noise to add. */
export function ancestralStep(from: number, to: number, eta: number): { down: number; up: number } {
  if (!eta) return { down: to, up: 0 };
  const up = Math.min(to, eta * Math.sqrt(to ** 2 * (from ** 2 - to ** 2) / from ** 2));
  return { down: Math.sqrt(to ** 2 - up ** 2), up };
}

/** The parts one after another (a batch's per-image tensors as one). */
export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// An image's starting noise with A1111's "Extra" seed options (modules/rng.py ImageRNG.first, which
// processing.py's create_random_tensors calls):
//  - variation seed: the seed's noise is spherically interpolated toward the subseed's noise by the variation
//    strength (A1111's slerp, which normalizes along the latent's height axis);
//  - seed resize: the noise is drawn at the latent size of another image size (seed_resize_from_w/h, divided
//    by 8) and pasted centred into noise of the real size, so a seed keeps its composition at a new size.
// The image's own generator draws exactly one tensor of the real latent shape here (whatever the options),
// so the sampler noise that follows is the same stream as without them.
import { createGenerator, type NoiseGenerator, type RngSource } from "./noise_source.ts";

const f = Math.fround;

export interface VariationOptions {
  /** The variation seed of this image and how far toward its noise to go (0 = off, 1 = the subseed's noise). */
  subseed: number;
  subseedStrength: number;
  /** The image size the noise is drawn for; either ≤ 0 turns seed resize off. */
  seedResizeFromW: number;
  seedResizeFromH: number;
}

export const NO_VARIATION: VariationOptions = {
  subseed: 0,
  subseedStrength: 0,
  seedResizeFromW: 0,
  seedResizeFromH: 0,
};

/**
 * The starting noise of one image (C × H × W latent `shape`): `generator` is the image's own stream (seeded
 * with `seed`); the subseed's and the resized seed's noise come from fresh generators of the same source, as
 * A1111 draws them from its reseeded global generator.
 */
export function startingNoise(
  source: RngSource,
  generator: NoiseGenerator,
  seed: number,
  shape: readonly [number, number, number],
  v: VariationOptions,
  latentFactor = 8,
): Float32Array {
  const [c, h, w] = shape;
  const resized = v.seedResizeFromW > 0 && v.seedResizeFromH > 0;
  const noiseShape: [number, number, number] = resized
    ? [c, Math.floor(v.seedResizeFromH / latentFactor), Math.floor(v.seedResizeFromW / latentFactor)]
    : [c, h, w];
  const sameShape = noiseShape[1] === h && noiseShape[2] === w;
  const sub = v.subseedStrength !== 0 ? createGenerator(source, v.subseed).randn(noiseShape) : undefined;
  let noise = sameShape ? generator.randn(shape) : createGenerator(source, seed).randn(noiseShape);
  if (sub) noise = slerp(v.subseedStrength, noise, sub, noiseShape);
  if (sameShape) return noise;
  const x = generator.randn(shape);
  pasteCentred(noise, noiseShape, x, shape);
  return x;
}

/**
 * A1111's slerp(val, low, high) on C × H × W tensors: each (channel, column) is normalized over the height
 * axis (torch.norm(dim=1)), the angle between low and high is taken per (channel, column), and the result is
 * sin((1−val)Ω)/sin Ω · low + sin(val·Ω)/sin Ω · high. When the mean cosine exceeds 0.9995 it returns
 * low·val + high·(1 − val), weights swapped as in A1111.
 */
export function slerp(
  val: number,
  low: Float32Array,
  high: Float32Array,
  shape: readonly [number, number, number],
): Float32Array {
  const [c, h, w] = shape;
  const n = c * h * w;
  if (low.length !== n || high.length !== n) {
    throw new Error(`slerp: tensors of ${low.length} and ${high.length} values for shape [${shape}]`);
  }
  const cols = c * w;
  const dot = new Float64Array(cols);
  let mean = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let col = 0; col < w; col++) {
      let nl = 0, nh = 0, d = 0;
      for (let row = 0; row < h; row++) {
        const i = (ch * h + row) * w + col;
        nl += low[i] * low[i];
        nh += high[i] * high[i];
      }
      nl = f(Math.sqrt(nl));
      nh = f(Math.sqrt(nh));
      for (let row = 0; row < h; row++) {
        const i = (ch * h + row) * w + col;
        d += f(f(low[i] / nl) * f(high[i] / nh));
      }
      dot[ch * w + col] = f(d);
      mean += f(d);
    }
  }
  const out = new Float32Array(n);
  if (f(mean / cols) > 0.9995) {
    for (let i = 0; i < n; i++) out[i] = f(f(low[i] * val) + f(high[i] * f(1 - val)));
    return out;
  }
  const a = new Float64Array(cols);
  const b = new Float64Array(cols);
  for (let k = 0; k < cols; k++) {
    const omega = f(Math.acos(dot[k]));
    const so = f(Math.sin(omega));
    a[k] = f(f(Math.sin(f(f(1 - val) * omega))) / so);
    b[k] = f(f(Math.sin(f(val * omega))) / so);
  }
  for (let ch = 0; ch < c; ch++) {
    for (let row = 0; row < h; row++) {
      for (let col = 0; col < w; col++) {
        const i = (ch * h + row) * w + col;
        const k = ch * w + col;
        out[i] = f(f(a[k] * low[i]) + f(b[k] * high[i]));
      }
    }
  }
  return out;
}

/**
 * Copies `src` (C × h × w) into the centre of `dst` (C × H × W): cropped where src is larger, surrounded by
 * dst's own values where it is smaller, with A1111's floor-division offsets.
 */
function pasteCentred(
  src: Float32Array,
  [c, sh, sw]: readonly [number, number, number],
  dst: Float32Array,
  [, dh, dw]: readonly [number, number, number],
): void {
  const dx = Math.floor((dw - sw) / 2);
  const dy = Math.floor((dh - sh) / 2);
  const w = dx >= 0 ? sw : sw + 2 * dx;
  const h = dy >= 0 ? sh : sh + 2 * dy;
  const tx = Math.max(dx, 0), ty = Math.max(dy, 0);
  const sx = Math.max(-dx, 0), sy = Math.max(-dy, 0);
  for (let ch = 0; ch < c; ch++) {
    for (let row = 0; row < h; row++) {
      const from = (ch * sh + sy + row) * sw + sx;
      dst.set(src.subarray(from, from + w), (ch * dh + ty + row) * dw + tx);
    }
  }
}

// torch.nn.functional.interpolate on one image's latents (C × h × w float32), for the modes A1111's latent
// upscalers use: nearest, nearest-exact, bilinear and bicubic (align_corners=False), and the antialiased
// bilinear/bicubic (torch's separable _aa kernels, Pillow's filters without fixed point). Each is separable:
// a table of taps and weights per output index, applied along the width, then along the height.

export type LatentResizeMode = "nearest" | "nearest-exact" | "bilinear" | "bicubic";

const f = Math.fround;

interface Taps {
  /** For output index i: taps[i] input indices with weights[i]. */
  index: number[][];
  weight: number[][];
}

function nearestTaps(inSize: number, outSize: number, exact: boolean): Taps {
  const scale = f(inSize / outSize);
  const index = Array.from({ length: outSize }, (_, i) => {
    // torch: identity at the same size, a shift at exactly twice the size, else floorf(i·scale) (nearest) or
    // floorf((i + 0.5)·scale) (nearest-exact), clamped to the last index.
    if (outSize === inSize) return [i];
    if (!exact && outSize === 2 * inSize) return [i >> 1];
    const src = exact ? f(f(i + 0.5) * scale) : f(i * scale);
    return [Math.min(Math.floor(src), inSize - 1)];
  });
  return { index, weight: index.map(() => [1]) };
}

/** src = scale·(i + 0.5) − 0.5, torch's area_pixel_compute_source_index for align_corners=False. */
function sourceIndex(scale: number, i: number): number {
  return f(f(scale * f(i + 0.5)) - 0.5);
}

function bilinearTaps(inSize: number, outSize: number): Taps {
  const scale = f(inSize / outSize);
  const index: number[][] = [];
  const weight: number[][] = [];
  for (let i = 0; i < outSize; i++) {
    const src = Math.max(sourceIndex(scale, i), 0);
    const i0 = Math.trunc(src);
    const i1 = i0 + (i0 < inSize - 1 ? 1 : 0);
    const l1 = f(src - i0);
    index.push([i0, i1]);
    weight.push([f(1 - l1), l1]);
  }
  return { index, weight };
}

/** Keys' cubic convolution with torch's A = −0.75. */
function cubicWeights(t: number): number[] {
  const A = -0.75;
  const near = (x: number) => f(f(f(f(f(A + 2) * x) - (A + 3)) * x) * x + 1);
  const far = (x: number) => f(f(f(f(f(A * x) - 5 * A) * x) + 8 * A) * x - 4 * A);
  return [far(f(t + 1)), near(t), near(f(1 - t)), far(f(2 - t))];
}

function bicubicTaps(inSize: number, outSize: number): Taps {
  const scale = f(inSize / outSize);
  const index: number[][] = [];
  const weight: number[][] = [];
  const clamp = (k: number) => Math.min(Math.max(k, 0), inSize - 1);
  for (let i = 0; i < outSize; i++) {
    const src = sourceIndex(scale, i);
    const x = Math.floor(src);
    index.push([clamp(x - 1), clamp(x), clamp(x + 1), clamp(x + 2)]);
    weight.push(cubicWeights(f(src - x)));
  }
  return { index, weight };
}

/** torch's antialiased kernels: the filter's support widens by the downscale factor; weights normalized. */
function antialiasTaps(inSize: number, outSize: number, mode: "bilinear" | "bicubic"): Taps {
  const scale = inSize / outSize;
  const filter = mode === "bilinear"
    ? (x: number) => (Math.abs(x) < 1 ? 1 - Math.abs(x) : 0)
    : (x: number) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    };
  const support = (mode === "bilinear" ? 1 : 2) * Math.max(scale, 1);
  const invscale = scale >= 1 ? 1 / scale : 1;
  const index: number[][] = [];
  const weight: number[][] = [];
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xsize = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const ws = Array.from({ length: xsize }, (_, j) => filter((j + xmin - center + 0.5) * invscale));
    const total = ws.reduce((a, b) => a + b, 0);
    index.push(ws.map((_, j) => xmin + j));
    weight.push(ws.map((w) => f(total !== 0 ? w / total : w)));
  }
  return { index, weight };
}

function taps(inSize: number, outSize: number, mode: LatentResizeMode, antialias: boolean): Taps {
  if (antialias && (mode === "bilinear" || mode === "bicubic")) return antialiasTaps(inSize, outSize, mode);
  switch (mode) {
    case "nearest":
      return nearestTaps(inSize, outSize, false);
    case "nearest-exact":
      return nearestTaps(inSize, outSize, true);
    case "bilinear":
      return bilinearTaps(inSize, outSize);
    case "bicubic":
      return bicubicTaps(inSize, outSize);
  }
}

/** Resizes C × h × w latents to C × outH × outW as torch's interpolate does. */
export function resizeLatents(
  x: Float32Array,
  shape: readonly [number, number, number],
  outH: number,
  outW: number,
  mode: LatentResizeMode,
  antialias = false,
): Float32Array {
  const [c, h, w] = shape;
  const tw = taps(w, outW, mode, antialias);
  const th = taps(h, outH, mode, antialias);
  // Along the width first (C × h × outW), then along the height.
  const mid = new Float32Array(c * h * outW);
  for (let row = 0; row < c * h; row++) {
    for (let j = 0; j < outW; j++) {
      let s = 0;
      const idx = tw.index[j];
      for (let k = 0; k < idx.length; k++) s = f(s + f(x[row * w + idx[k]] * tw.weight[j][k]));
      mid[row * outW + j] = s;
    }
  }
  const out = new Float32Array(c * outH * outW);
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < outH; i++) {
      const idx = th.index[i];
      for (let j = 0; j < outW; j++) {
        let s = 0;
        for (let k = 0; k < idx.length; k++) {
          s = f(s + f(mid[(ch * h + idx[k]) * outW + j] * th.weight[i][k]));
        }
        out[(ch * outH + i) * outW + j] = s;
      }
    }
  }
  return out;
}

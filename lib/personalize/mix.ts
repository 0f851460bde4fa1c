// How the A1111 aesthetic extension combines things, reproduced exactly: its slerp (normalizing along axis 1, so
// for a [tokens, hidden] conditioning it interpolates each hidden channel across tokens), the linear mix, and
// the "aesthetic text" target.

/** A1111's slerp(low, high, val) on [rows, cols] row-major arrays, normalizing each column over the rows. */
export function slerpA1111(
  low: Float32Array,
  high: Float32Array,
  val: number,
  rows: number,
  cols: number,
): Float32Array {
  if (low.length !== rows * cols || high.length !== rows * cols) throw new Error("slerp: shapes differ");
  const out = new Float32Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    let nl = 0, nh = 0, dot = 0;
    for (let r = 0; r < rows; r++) {
      nl += low[r * cols + c] ** 2;
      nh += high[r * cols + c] ** 2;
    }
    nl = Math.sqrt(nl);
    nh = Math.sqrt(nh);
    for (let r = 0; r < rows; r++) dot += (low[r * cols + c] / nl) * (high[r * cols + c] / nh);
    const omega = Math.acos(dot);
    const so = Math.sin(omega);
    const a = Math.sin((1 - val) * omega) / so;
    const b = Math.sin(val * omega) / so;
    for (let r = 0; r < rows; r++) out[r * cols + c] = a * low[r * cols + c] + b * high[r * cols + c];
  }
  return out;
}

/** z·(1−w) + zn·w, the extension's default mix of original and personalized conditioning. */
export function linearMix(z: Float32Array, zn: Float32Array, weight: number): Float32Array {
  if (z.length !== zn.length) throw new Error("mix: shapes differ");
  return z.map((x, i) => x * (1 - weight) + zn[i] * weight);
}

export function normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s);
  return v.map((x) => x / n);
}

/**
 * The optimization target: the normalized image embedding, or, with an aesthetic text, its slerp toward the
 * text's features (toward image − text when "negative"), as the extension computes it.
 */
export function aestheticTarget(
  image: Float32Array,
  text: Float32Array | undefined,
  slerpAngle: number,
  textNegative: boolean,
): Float32Array {
  const img = normalize(image);
  if (!text) return img;
  if (text.length !== img.length) {
    throw new Error(`aesthetic text features are ${text.length}-d, image ${img.length}-d`);
  }
  const t = textNegative ? normalize(img.map((x, i) => x - text[i])) : text;
  // A [1, D] tensor: the extension normalizes along D.
  return slerpA1111(img, t, slerpAngle, img.length, 1);
}

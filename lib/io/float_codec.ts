// Converts raw tensor bytes of the floating-point dtypes embeddings are stored in to and from float32.

export type FloatDtype = "float16" | "float32" | "bfloat16" | "float64";

export const FLOAT_SIZES: Readonly<Record<FloatDtype, number>> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
};

/** Decodes raw bytes to float32 (float64 is narrowed; the others convert exactly). */
export function decodeFloats(raw: Uint8Array, dtype: FloatDtype, littleEndian = true): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const size = FLOAT_SIZES[dtype];
  if (raw.byteLength % size) {
    throw new Error(`${raw.byteLength} bytes is not a whole number of ${dtype} values`);
  }
  const out = new Float32Array(raw.byteLength / size);
  switch (dtype) {
    case "float64":
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, littleEndian);
      break;
    case "float32":
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, littleEndian);
      break;
    case "float16":
      for (let i = 0; i < out.length; i++) out[i] = view.getFloat16(i * 2, littleEndian);
      break;
    case "bfloat16": {
      // bfloat16 is the top half of a float32.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < out.length; i++) bits[i] = view.getUint16(i * 2, littleEndian) << 16;
      break;
    }
  }
  return out;
}

/** Encodes float32 values little-endian as float32 or float16 (round to nearest even, as torch's .half()). */
export function encodeFloats(data: Float32Array, dtype: "float32" | "float16"): Uint8Array {
  const size = FLOAT_SIZES[dtype];
  const out = new Uint8Array(data.length * size);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (dtype === "float16") view.setFloat16(i * 2, data[i], true);
    else view.setFloat32(i * 4, data[i], true);
  }
  return out;
}

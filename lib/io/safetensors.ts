// Reads and writes `.safetensors`: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range (plus an optional "__metadata__" map of strings), then the raw bytes.
// The format is small enough that a hand-written reader that validates every field is clearer than adapting
// a general npm package that targets Node buffers and hands back unchecked offsets.
import { decodeFloats, encodeFloats, FLOAT_SIZES, type FloatDtype } from "./float_codec.ts";
import { InputError } from "./input_error.ts";

/** A safetensors file that is malformed: bad header, offsets, dtype or shape. */
export class SafetensorsError extends InputError {}

export interface SafeTensor {
  name: string;
  /** Values converted to float32; dtype says how they were stored. */
  data: Float32Array;
  shape: number[];
  dtype: FloatDtype;
}

export interface SafetensorsFile {
  tensors: SafeTensor[];
  metadata: Record<string, string>;
}

const CODES: Record<string, FloatDtype> = {
  F16: "float16",
  BF16: "bfloat16",
  F32: "float32",
  F64: "float64",
};
const CODE_OF: Record<"float16" | "float32", string> = { float16: "F16", float32: "F32" };

// The reference implementation's own limit on header size.
const MAX_HEADER = 100_000_000;

/** True when the bytes start like a safetensors file (plausible header length, then a JSON object). */
export function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(Math.min(MAX_HEADER, bytes.length - 8)) && bytes[8] === 0x7b;
}

/** Parses and validates a whole safetensors file. `what` names it in error messages. */
export function readSafetensors(bytes: Uint8Array, what = "safetensors file"): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${what}: ${msg}`);
  };
  if (bytes.length < 8) fail("too short to be a safetensors file");
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} is over the ${MAX_HEADER}-byte limit`);
  if (n > BigInt(bytes.length - 8)) {
    fail(`header length ${n} runs past the end of the ${bytes.length}-byte file`);
  }
  const headerEnd = 8 + Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (e) {
    return fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    return fail("header is not an object");
  }

  const metadata: Record<string, string> = {};
  const body = bytes.subarray(headerEnd);
  const tensors: SafeTensor[] = [];
  const ranges: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
        fail("__metadata__ is not an object");
      }
      for (const [k, v] of Object.entries(entry)) {
        metadata[k] = typeof v === "string" ? v : fail(`__metadata__.${k} is not a string`);
      }
      continue;
    }
    const t = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = CODES[String(t?.dtype)];
    if (!dtype) {
      fail(`tensor "${name}" has dtype ${JSON.stringify(t?.dtype)}; only F16, BF16, F32, F64 are supported`);
    }
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offsets = t.data_offsets;
    if (
      !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) =>
        Number.isSafeInteger(o) && o >= 0
      ) ||
      offsets[0] > offsets[1]
    ) {
      return fail(`tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as number[];
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    if (end - begin !== numel * FLOAT_SIZES[dtype]) {
      fail(
        `tensor "${name}" declares ${numel} values (${numel * FLOAT_SIZES[dtype]} bytes) but spans ${
          end - begin
        } bytes`,
      );
    }
    if (end > body.length) {
      fail(
        `tensor "${name}" ends at byte ${end} but the data section has ${body.length}`,
      );
    }
    ranges.push([begin, end, name]);
    tensors.push({
      name,
      data: decodeFloats(body.subarray(begin, end), dtype),
      shape: shape as number[],
      dtype,
    });
  }
  // The format requires the tensors to tile the data section exactly: no overlaps, no holes.
  ranges.sort((a, b) => a[0] - b[0]);
  let next = 0;
  for (const [begin, end, name] of ranges) {
    if (begin !== next) fail(`tensor "${name}" starts at byte ${begin}, expected ${next} (overlap or gap)`);
    next = end;
  }
  if (next !== body.length) fail(`${body.length - next} trailing bytes after the last tensor`);
  return { tensors, metadata };
}

export interface SafeTensorInput {
  name: string;
  data: Float32Array;
  shape: number[];
  dtype: "float32" | "float16";
}

/** Serializes tensors (in the given order) and string metadata; the header is space-padded to 8 bytes. */
export function writeSafetensors(
  inputs: SafeTensorInput[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of inputs) {
    if (t.name === "__metadata__" || t.name in header) {
      throw new Error(`tensor name "${t.name}" is reserved or repeated`);
    }
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || numel !== t.data.length) {
      throw new Error(
        `tensor "${t.name}": shape [${t.shape.join(", ")}] does not hold ${t.data.length} values`,
      );
    }
    const bytes = numel * FLOAT_SIZES[t.dtype];
    header[t.name] = { dtype: CODE_OF[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let p = 8 + head.length;
  for (const t of inputs) {
    const raw = encodeFloats(t.data, t.dtype);
    out.set(raw, p);
    p += raw.length;
  }
  return out;
}

// The tensor index of a `.safetensors` file read from its header alone (8-byte length, JSON), every range checked
// against the file's size, so a truncated download is named before any graph is built.
import {
  CheckpointError,
  type CheckpointTensor,
  DTYPE_SIZE,
  type ReadAt,
  type TensorDtype,
} from "./checkpoint.ts";

const DTYPES: Record<string, TensorDtype> = {
  F16: "float16",
  BF16: "bfloat16",
  F32: "float32",
  F64: "float64",
  I64: "int64",
  I32: "int32",
};
const MAX_HEADER = 100_000_000;

export function indexSafetensors(read: ReadAt, size: number, name: string): CheckpointTensor[] {
  const fail = (msg: string): never => {
    throw new CheckpointError(`${name} ${msg}`);
  };
  const n = Number(new DataView(read(0, 8).buffer).getBigUint64(0, true));
  if (n > MAX_HEADER) {
    fail(`has a header length ${n} over the ${MAX_HEADER}-byte limit; it is not a safetensors file`);
  }
  if (8 + n > size) fail(`is truncated: its header alone needs ${8 + n} bytes and the file has ${size}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(read(8, n)));
  } catch (e) {
    return fail(`has a header that is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail("has a header that is not a JSON object");
  }
  const base = 8 + n;
  const tensors: CheckpointTensor[] = [];
  let end = 0;
  for (const [key, entry] of Object.entries(header)) {
    if (key === "__metadata__") continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = e?.shape;
    const offsets = e?.data_offsets;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`has tensor "${key}" with an invalid shape ${JSON.stringify(shape)}`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      return fail(`has tensor "${key}" with invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const dtype = DTYPES[String(e.dtype)] ?? "other";
    const numel = (shape as number[]).reduce((a, b) => a * b, 1);
    const [begin, stop] = offsets as number[];
    if (dtype !== "other" && stop - begin !== numel * DTYPE_SIZE[dtype]) {
      fail(`has tensor "${key}" declaring ${numel} ${dtype} values over ${stop - begin} bytes`);
    }
    end = Math.max(end, stop);
    tensors.push({ name: key, shape: shape as number[], dtype, offset: base + begin });
  }
  if (base + end > size) {
    fail(`is truncated: it has ${size} bytes but its tensors need ${base + end}`);
  }
  return tensors;
}

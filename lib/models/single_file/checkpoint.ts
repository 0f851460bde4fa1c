// A single-file checkpoint (A1111's `.safetensors` or `.ckpt`) opened as an index of tensors whose bytes are
// read on demand, one tensor at a time, so importing a multi-gigabyte file never holds it whole in memory.
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { basename } from "node:path";
import { indexSafetensors } from "./safetensors_index.ts";
import { indexTorchZip } from "./torch_zip_index.ts";
import { InputError } from "../../io/input_error.ts";

export type TensorDtype = "float16" | "bfloat16" | "float32" | "float64" | "int64" | "int32" | "other";

export const DTYPE_SIZE: Readonly<Record<TensorDtype, number>> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
  int64: 8,
  int32: 4,
  other: 1,
};

export interface CheckpointTensor {
  name: string;
  shape: number[];
  dtype: TensorDtype;
  /** Where the bytes are; a strided view (only in `.ckpt`) is gathered when read. */
  offset: number;
  /** Element strides of a `.ckpt` view, row-major when absent. */
  strides?: number[];
}

/** Plain-sentence failure of a checkpoint file (truncated, hostile, unknown): the CLI exits with code 2. */
/** A checkpoint file that cannot be imported (truncated, unknown architecture, refused pickle). */
export class CheckpointError extends InputError {}

export class Checkpoint {
  readonly tensors: ReadonlyMap<string, CheckpointTensor>;

  private constructor(
    readonly path: string,
    readonly format: "safetensors" | "ckpt",
    readonly size: number,
    private readonly fd: number,
    tensors: CheckpointTensor[],
  ) {
    this.tensors = new Map(tensors.map((t) => [t.name, t]));
  }

  /** Opens a `.safetensors` (by its header) or a torch zip `.ckpt` (restricted unpickler: tensors only). */
  static open(path: string): Checkpoint {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      throw new CheckpointError(`cannot open ${path}: ${(e as Error).message}`);
    }
    try {
      const size = fstatSync(fd).size;
      const read = (position: number, length: number) => readExactly(fd, position, length, size, path);
      const head = read(0, Math.min(size, 16));
      const name = basename(path);
      if (head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
        return new Checkpoint(path, "ckpt", size, fd, indexTorchZip(read, size, name));
      }
      if (head.length >= 9 && head[8] === 0x7b) {
        return new Checkpoint(path, "safetensors", size, fd, indexSafetensors(read, size, name));
      }
      throw new CheckpointError(
        `${name} is neither a safetensors file nor a torch zip checkpoint (.ckpt saved by torch >= 1.6)`,
      );
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** The tensor's values as contiguous little-endian bytes of its own dtype. */
  read(name: string): Uint8Array {
    const t = this.tensors.get(name);
    if (!t) throw new CheckpointError(`${basename(this.path)} has no tensor ${name}`);
    const item = DTYPE_SIZE[t.dtype];
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const contiguous = !t.strides || isRowMajor(t.shape, t.strides);
    if (contiguous) return readExactly(this.fd, t.offset, numel * item, this.size, this.path);
    // A strided view: read the span it covers, then gather element by element.
    const span = t.shape.reduce((acc, d, i) => acc + (d - 1) * t.strides![i], 0) + 1;
    const src = readExactly(this.fd, t.offset, span * item, this.size, this.path);
    const out = new Uint8Array(numel * item);
    const index = new Array<number>(t.shape.length).fill(0);
    for (let n = 0; n < numel; n++) {
      let at = 0;
      for (let d = 0; d < index.length; d++) at += index[d] * t.strides![d];
      out.set(src.subarray(at * item, at * item + item), n * item);
      for (let d = index.length - 1; d >= 0; d--) {
        if (++index[d] < t.shape[d]) break;
        index[d] = 0;
      }
    }
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}

function isRowMajor(shape: number[], strides: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

function readExactly(fd: number, position: number, length: number, size: number, path: string): Uint8Array {
  if (position + length > size) {
    throw new CheckpointError(
      `${basename(path)} is truncated: it has ${size} bytes but its index needs ${position + length}`,
    );
  }
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n <= 0) {
      throw new CheckpointError(`${basename(path)} ended early while reading at byte ${position + done}`);
    }
    done += n;
  }
  return out;
}

export type ReadAt = (position: number, length: number) => Uint8Array;

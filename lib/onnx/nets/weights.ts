// A graph's weights taken from a checkpoint by key: each becomes an initializer whose bytes live in an external
// data file written later by streaming the checkpoint one tensor at a time. Layout changes the exporters make
// at export time (a Linear's weight transposed for MatMul, a fused qkv split into rows, a 1×1 convolution read
// as a matrix) are applied per tensor while streaming. fp16 tensors may stay fp16 on disk, with a Cast to
// float32 in the graph (onnxruntime folds it when the session opens), so the arithmetic is float32 throughout
// as diffusers' float32 pipelines compute.
import { closeSync, openSync, writeSync } from "node:fs";
import { decodeFloats, type FloatDtype } from "../../io/float_codec.ts";
import type { GraphBuilder } from "../builder.ts";
import { DataType, type TensorProto } from "../proto.ts";

export interface SourceTensor {
  shape: number[];
  dtype: string;
}

/** Where weights come from: the checkpoint's index and its reader. */
export interface WeightSource {
  info(key: string): SourceTensor | undefined;
  read(key: string): Uint8Array;
}

export interface TakeOptions {
  /** Store the 2-D (or 1×1-conv 4-D) weight transposed, as exporters do for MatMul. */
  transpose?: boolean;
  /** Only rows [start, end) of dimension 0 (one of q, k, v in a fused projection). */
  rows?: [number, number];
  /** Dims to declare (same element count): a bias as [C, 1, 1], a 1×1 conv as a matrix. */
  dims?: number[];
  /** The initializer's name (default: the key). */
  name?: string;
}

interface Pending {
  tensor: TensorProto;
  key: string;
  source: SourceTensor;
  opts: TakeOptions;
  half: boolean;
}

const FLOATS = new Set(["float16", "bfloat16", "float32", "float64"]);

export class Weights {
  readonly #pending: Pending[] = [];
  readonly #taken = new Map<string, string>();

  /** `keepHalf`: fp16 tensors stay fp16 in the data file (Cast in the graph); otherwise all are float32. */
  constructor(
    private readonly b: GraphBuilder,
    private readonly source: WeightSource,
    private readonly keepHalf: boolean,
  ) {}

  has(key: string): boolean {
    return this.source.info(key) !== undefined;
  }

  shape(key: string): number[] {
    const s = this.source.info(key);
    if (!s) throw new Error(`the checkpoint has no tensor ${key}`);
    return s.shape;
  }

  /** A float32 graph value holding the tensor (after its Cast when stored as fp16). */
  take(key: string, opts: TakeOptions = {}): string {
    const name = opts.name ?? key;
    const done = this.#taken.get(name);
    if (done) return done;
    const source = this.source.info(key);
    if (!source) throw new Error(`the checkpoint has no tensor ${key}`);
    if (!FLOATS.has(source.dtype)) throw new Error(`tensor ${key} is ${source.dtype}, not floating point`);
    let dims = [...source.shape];
    if (opts.rows) dims[0] = opts.rows[1] - opts.rows[0];
    if (opts.transpose) {
      const [o, i] = [dims[0], dims.slice(1).reduce((a, b) => a * b, 1)];
      dims = [i, o];
    }
    if (opts.dims) {
      const count = (d: number[]) => d.reduce((a, b) => a * b, 1);
      if (count(opts.dims) !== count(dims)) {
        throw new Error(`tensor ${key} cannot be viewed as [${opts.dims}]`);
      }
      dims = opts.dims;
    }
    const half = this.keepHalf && source.dtype === "float16";
    const tensor: TensorProto = { name, dims, dataType: half ? DataType.FLOAT16 : DataType.FLOAT };
    this.b.initializers.push(tensor);
    this.#pending.push({ tensor, key, source, opts, half });
    const value = half ? this.b.op("Cast", [name], { to: DataType.FLOAT }) : name;
    this.#taken.set(name, value);
    return value;
  }

  /** Total bytes the data file will hold. */
  get bytes(): number {
    return this.#pending.reduce((n, p) =>
      n + p.tensor.dims!.reduce((a: number, b) => a * Number(b), 1) *
        (p.half ? 2 : 4), 0);
  }

  /**
   * Streams every taken tensor into `dataPath` (named `location` in the graph), one tensor in memory at a time;
   * `progress` gets the bytes written so far.
   */
  writeData(dataPath: string, location: string, progress?: (bytes: number) => void): void {
    const fd = openSync(dataPath, "w");
    try {
      let offset = 0;
      for (const p of this.#pending) {
        const bytes = this.#convert(p);
        const pad = (64 - (offset % 64)) % 64; // aligned starts let onnxruntime map the data directly
        if (pad) writeSync(fd, new Uint8Array(pad));
        offset += pad;
        let done = 0;
        while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
        p.tensor.dataLocation = 1;
        p.tensor.externalData = [
          { key: "location", value: location },
          { key: "offset", value: String(offset) },
          { key: "length", value: String(bytes.length) },
        ];
        offset += bytes.length;
        progress?.(offset);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Puts every taken tensor's bytes inside the graph (for graphs that are loaded from memory and rewritten). */
  inline(): void {
    for (const p of this.#pending) p.tensor.rawData = this.#convert(p);
  }

  #convert(p: Pending): Uint8Array {
    let raw = this.source.read(p.key);
    const item = p.source.dtype === "float16" || p.source.dtype === "bfloat16"
      ? 2
      : p.source.dtype === "float32"
      ? 4
      : 8;
    const rowSize = p.source.shape.slice(1).reduce((a, b) => a * b, 1);
    if (p.opts.rows) raw = raw.subarray(p.opts.rows[0] * rowSize * item, p.opts.rows[1] * rowSize * item);
    if (!p.half) {
      const f = p.source.dtype === "float32" && raw.byteOffset % 4 === 0
        ? new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4)
        : decodeFloats(raw, p.source.dtype as FloatDtype);
      raw = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    }
    if (!p.opts.transpose) return raw;
    const copy = raw.slice(); // aligned, owned
    const src = p.half ? new Uint16Array(copy.buffer) : new Uint32Array(copy.buffer);
    const out = p.half ? new Uint16Array(src.length) : new Uint32Array(src.length);
    const rows = src.length / rowSize;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < rowSize; c++) out[c * rows + r] = src[r * rowSize + c];
    }
    return new Uint8Array(out.buffer);
  }
}

// Converting ONNX TensorProto payloads to and from typed arrays.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DataType, num, type TensorProto } from "./proto.ts";

export type NumericArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

export interface TensorValue {
  dataType: number;
  dims: number[];
  data: NumericArray;
}

const BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.DOUBLE]: 8,
  [DataType.INT32]: 4,
  [DataType.INT64]: 8,
  [DataType.UINT8]: 1,
  [DataType.INT8]: 1,
  [DataType.BOOL]: 1,
};

/** The onnxruntime-node type name of an ONNX data type. */
export function ortType(
  dataType: number,
): "float32" | "float64" | "int32" | "int64" | "uint8" | "int8" | "bool" {
  switch (dataType) {
    case DataType.FLOAT:
      return "float32";
    case DataType.DOUBLE:
      return "float64";
    case DataType.INT32:
      return "int32";
    case DataType.INT64:
      return "int64";
    case DataType.UINT8:
      return "uint8";
    case DataType.INT8:
      return "int8";
    case DataType.BOOL:
      return "bool";
  }
  throw new Error(`unsupported ONNX tensor data type ${dataType}`);
}

export function dataTypeOfOrt(type: string): number {
  const map: Record<string, number> = {
    float32: DataType.FLOAT,
    float64: DataType.DOUBLE,
    int32: DataType.INT32,
    int64: DataType.INT64,
    uint8: DataType.UINT8,
    int8: DataType.INT8,
    bool: DataType.BOOL,
  };
  const t = map[type];
  if (t === undefined) throw new Error(`unsupported tensor type ${type}`);
  return t;
}

function view(dataType: number, bytes: Uint8Array): NumericArray {
  // Copy when unaligned: typed array views need their element alignment.
  const size = BYTES[dataType];
  if (size === undefined) throw new Error(`unsupported ONNX tensor data type ${dataType}`);
  const b = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const n = b.byteLength / size;
  switch (dataType) {
    case DataType.FLOAT:
      return new Float32Array(b.buffer, b.byteOffset, n);
    case DataType.DOUBLE:
      return new Float64Array(b.buffer, b.byteOffset, n);
    case DataType.INT32:
      return new Int32Array(b.buffer, b.byteOffset, n);
    case DataType.INT64:
      return new BigInt64Array(b.buffer, b.byteOffset, n);
    case DataType.INT8:
      return new Int8Array(b.buffer, b.byteOffset, n);
    default:
      return new Uint8Array(b.buffer, b.byteOffset, n);
  }
}

/** Reads a tensor's values; external data is resolved relative to baseDir (the model's folder). */
export function readTensor(t: TensorProto, baseDir?: string): TensorValue {
  const dataType = t.dataType ?? 0;
  const dims = (t.dims ?? []).map(num);
  if (t.dataLocation === 1) {
    const entry = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
    if (!baseDir) throw new Error(`tensor ${t.name} has external data but no model folder is known`);
    const file = readFileSync(join(baseDir, entry.location));
    const offset = Number(entry.offset ?? 0);
    const length = entry.length ? Number(entry.length) : file.byteLength - offset;
    if (offset + length > file.byteLength) {
      throw new Error(`external data of ${t.name} runs past the end of ${entry.location}`);
    }
    return {
      dataType,
      dims,
      data: view(dataType, new Uint8Array(file.buffer, file.byteOffset + offset, length)),
    };
  }
  if (t.rawData && t.rawData.byteLength > 0) return { dataType, dims, data: view(dataType, t.rawData) };
  switch (dataType) {
    case DataType.FLOAT:
      return { dataType, dims, data: Float32Array.from(t.floatData ?? []) };
    case DataType.DOUBLE:
      return { dataType, dims, data: Float64Array.from(t.doubleData ?? []) };
    case DataType.INT64:
      return { dataType, dims, data: BigInt64Array.from((t.int64Data ?? []).map((v) => BigInt(num(v)))) };
    case DataType.INT32:
      return { dataType, dims, data: Int32Array.from(t.int32Data ?? []) };
    case DataType.INT8:
      return { dataType, dims, data: Int8Array.from(t.int32Data ?? []) };
    case DataType.BOOL:
    case DataType.UINT8:
      return { dataType, dims, data: Uint8Array.from(t.int32Data ?? []) };
  }
  throw new Error(`tensor ${t.name}: unsupported data type ${dataType}`);
}

export function makeTensor(name: string, dataType: number, dims: number[], data: NumericArray): TensorProto {
  const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { name, dataType, dims, rawData };
}

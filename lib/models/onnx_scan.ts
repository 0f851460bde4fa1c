// Reads an ONNX file's interface (graph inputs/outputs with shapes) and its initializers' headers without
// loading the weights: it walks the protobuf wire format through file seeks, skips every node and every tensor
// payload, and hands only the small records to proto.ts's decoder. A 3.4 GB UNet costs a few thousand tiny reads
// instead of a full read, which protobufjs (a whole-buffer decoder) cannot avoid on its own.
import { dirname, isAbsolute, join, sep } from "node:path";
import { InputError } from "../io/input_error.ts";
import { decodeModel, num, type ValueInfoProto } from "../onnx/proto.ts";

/**
 * A model that would make a reader leave its folder or read something other than a file: external data whose
 * location points outside the folder holding the .onnx (directly, through "..", or through a symlink), or a
 * model or data path that is a FIFO, a device or a folder.
 */
export class UnsafeModelFileError extends InputError {}

async function realPath(path: string): Promise<string | undefined> {
  try {
    return await Deno.realPath(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * The external data file `location` names, next to the model at `modelPath`, refused unless it stays in the
 * model's folder once every link is resolved and is a regular file. A missing file passes (the caller reports
 * it as missing): it can only be read once it exists, and then it is checked again here.
 */
async function confinedDataPath(modelPath: string, location: string, tensor: string): Promise<string> {
  const base = dirname(modelPath);
  const refuse = (why: string) =>
    new UnsafeModelFileError(`${modelPath}: tensor ${tensor}'s external data "${location}" ${why}`);
  if (isAbsolute(location) || location.split(/[\\/]/).includes("..") || location.includes("\0")) {
    throw refuse("is not a path inside the model's folder");
  }
  const path = join(base, location);
  const real = await realPath(path);
  if (real === undefined) return path;
  const realBase = await Deno.realPath(base);
  if (!real.startsWith(realBase.endsWith(sep) ? realBase : realBase + sep)) {
    throw refuse(`resolves to ${real}, outside the model's folder`);
  }
  const info = await Deno.stat(real);
  if (!info.isFile) throw refuse("is not a regular file");
  return path;
}

export interface ValueInfo {
  name: string;
  /** Static sizes as numbers; symbolic ones (batch_size, …) as their names; unknown as "?". */
  dims: (number | string)[];
  elemType: number;
}

export interface InitializerInfo {
  name: string;
  dims: number[];
  dataType: number;
  /** Where raw_data sits in the .onnx file itself. */
  raw?: { offset: number; length: number };
  /** Where the values sit when stored outside (models over 2 GB): path resolved next to the model. */
  external?: { path: string; location: string; offset: number; length?: number };
}

export interface OnnxSummary {
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: InitializerInfo[];
  /** The external data files the initializers name, resolved next to the model (deduplicated). */
  externalFiles: string[];
}

// Field numbers (ONNX IR): ModelProto.graph = 7; GraphProto.initializer = 5, input = 11, output = 12;
// TensorProto payload fields: float_data 4, int32_data 5, string_data 6, int64_data 7, raw_data 9, double 10,
// uint64 11.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12;
const TENSOR_RAW = 9;
const TENSOR_PAYLOAD = new Set([4, 5, 6, 7, 9, 10, 11]);

/** A forward-only cursor over a file with a small read window. */
class FileCursor {
  #buf = new Uint8Array(0);
  #bufStart = 0;
  pos = 0;

  constructor(private readonly file: Deno.FsFile, readonly size: number) {}

  async #fill(n: number) {
    if (this.pos >= this.#bufStart && this.pos + n <= this.#bufStart + this.#buf.length) return;
    // A small window: after a skipped payload the next read is a short tensor header, not a long run.
    const want = Math.min(Math.max(n, 1 << 14), this.size - this.pos);
    if (want < n) throw new Error(`ends early: needs ${n} bytes at offset ${this.pos}`);
    const buf = new Uint8Array(want);
    await this.file.seek(this.pos, Deno.SeekMode.Start);
    for (let off = 0; off < want;) {
      const got = await this.file.read(buf.subarray(off));
      if (got === null) throw new Error(`ends early at offset ${this.pos + off}`);
      off += got;
    }
    this.#buf = buf;
    this.#bufStart = this.pos;
  }

  async bytes(n: number): Promise<Uint8Array> {
    await this.#fill(n);
    const at = this.pos - this.#bufStart;
    this.pos += n;
    return this.#buf.slice(at, at + n);
  }

  async varint(): Promise<number> {
    let result = 0, scale = 1;
    for (let i = 0; i < 10; i++) {
      await this.#fill(1);
      const b = this.#buf[this.pos - this.#bufStart];
      this.pos++;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new Error(`bad varint at offset ${this.pos}`);
  }

  /** Skips a field's value of the given wire type. */
  async skip(wireType: number) {
    if (wireType === 0) await this.varint();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) {
      const n = await this.varint();
      this.pos += n;
    } else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wireType} at offset ${this.pos}`);
  }
}

function varintBytes(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

/** A length-delimited record: key, length, payload. */
function record(field: number, payload: Uint8Array): Uint8Array {
  const head = [...varintBytes((field << 3) | 2), ...varintBytes(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) out.set(p, off), off += p.length;
  return out;
}

/** Scans an ONNX model file; errors name the file. */
export async function scanOnnx(path: string): Promise<OnnxSummary> {
  // Checked before opening: opening a FIFO blocks until something writes to it.
  const stat = await Deno.stat(path).catch((e) => {
    throw new Error(`cannot open ${path}: ${(e as Error).message}`);
  });
  if (!stat.isFile) throw new UnsafeModelFileError(`${path} is not a regular file`);
  const file = await Deno.open(path, { read: true }).catch((e) => {
    throw new Error(`cannot open ${path}: ${(e as Error).message}`);
  });
  try {
    const size = (await file.stat()).size;
    const cur = new FileCursor(file, size);
    const graphRecords: Uint8Array[] = [];
    const rawSpans: ({ offset: number; length: number } | undefined)[] = [];
    let sawGraph = false;
    while (cur.pos < size) {
      const key = await cur.varint();
      const field = Math.floor(key / 8), wireType = key & 7;
      if (field !== MODEL_GRAPH || wireType !== 2) {
        await cur.skip(wireType);
        continue;
      }
      sawGraph = true;
      const graphLength = await cur.varint();
      const end = cur.pos + graphLength;
      while (cur.pos < end) {
        const gkey = await cur.varint();
        const gfield = Math.floor(gkey / 8), gwt = gkey & 7;
        if (gwt === 2 && (gfield === GRAPH_INPUT || gfield === GRAPH_OUTPUT)) {
          graphRecords.push(record(gfield, await cur.bytes(await cur.varint())));
        } else if (gwt === 2 && gfield === GRAPH_INITIALIZER) {
          const tensorLength = await cur.varint();
          const tend = cur.pos + tensorLength;
          const kept: Uint8Array[] = [];
          let raw: { offset: number; length: number } | undefined;
          while (cur.pos < tend) {
            const tkey = await cur.varint();
            const tfield = Math.floor(tkey / 8), twt = tkey & 7;
            if (TENSOR_PAYLOAD.has(tfield)) {
              if (tfield === TENSOR_RAW && twt === 2) {
                const length = await cur.varint();
                raw = { offset: cur.pos, length };
                cur.pos += length;
              } else await cur.skip(twt);
            } else if (twt === 2) {
              kept.push(record(tfield, await cur.bytes(await cur.varint())));
            } else {
              // Varint fields (data_type, data_location, unpacked dims) are copied with their key.
              const v = await cur.varint();
              kept.push(new Uint8Array([...varintBytes(tkey), ...varintBytes(v)]));
            }
          }
          if (cur.pos !== tend) throw new Error(`a tensor record overruns its length at offset ${cur.pos}`);
          graphRecords.push(record(GRAPH_INITIALIZER, concat(kept)));
          rawSpans.push(raw);
        } else await cur.skip(gwt);
      }
      if (cur.pos !== end) throw new Error(`the graph record overruns its length at offset ${cur.pos}`);
    }
    if (!sawGraph) throw new Error("no graph in the protobuf");
    // The kept records form a small, valid ModelProto: proto.ts decodes it like any other model.
    const model = decodeModel(record(MODEL_GRAPH, concat(graphRecords)));
    const externalFiles = new Set<string>();
    const checked = new Map<string, string>();
    const initializers: InitializerInfo[] = [];
    for (const [i, t] of model.graph.initializer.entries()) {
      const info: InitializerInfo = {
        name: t.name ?? "",
        dims: (t.dims ?? []).map(num),
        dataType: t.dataType ?? 0,
      };
      if (rawSpans[i]) info.raw = rawSpans[i];
      if (t.dataLocation === 1) {
        const entry = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
        if (!entry.location) throw new Error(`tensor ${info.name} has external data without a location`);
        let external = checked.get(entry.location);
        if (external === undefined) {
          external = await confinedDataPath(path, entry.location, info.name);
          checked.set(entry.location, external);
        }
        externalFiles.add(external);
        info.external = {
          path: external,
          location: entry.location,
          offset: Number(entry.offset ?? 0),
          ...(entry.length ? { length: Number(entry.length) } : {}),
        };
      }
      initializers.push(info);
    }
    return {
      inputs: model.graph.input.map(valueInfo),
      outputs: model.graph.output.map(valueInfo),
      initializers,
      externalFiles: [...externalFiles],
    };
  } catch (e) {
    if (e instanceof UnsafeModelFileError) throw e;
    const msg = (e as Error).message;
    throw new Error(msg.startsWith("cannot open") ? msg : `${path} is not a readable ONNX model: ${msg}`);
  } finally {
    file.close();
  }
}

function valueInfo(v: ValueInfoProto): ValueInfo {
  const t = v.type?.tensorType;
  // A dimension holds either a size or a symbol; neither (size 0 by protobuf default) means unknown.
  const dims = (t?.shape?.dim ?? []).map((d) =>
    d.dimParam ? d.dimParam : num(d.dimValue) > 0 ? num(d.dimValue) : "?"
  );
  return { name: v.name, dims, elemType: t?.elemType ?? 0 };
}

/** The first `maxBytes` bytes of an initializer's stored values (raw or external). */
export async function readInitializerPrefix(
  modelPath: string,
  init: InitializerInfo,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const span = init.raw
    ? { path: modelPath, offset: init.raw.offset, length: init.raw.length }
    : init.external
    ? { path: init.external.path, offset: init.external.offset, length: init.external.length ?? maxBytes }
    : undefined;
  if (!span) return undefined;
  const n = Math.min(maxBytes, span.length);
  // The data file may have appeared (as anything) since the scan: read it only as a regular file.
  if (!(await Deno.stat(span.path)).isFile) {
    throw new UnsafeModelFileError(`${span.path} is not a regular file`);
  }
  const file = await Deno.open(span.path, { read: true });
  try {
    await file.seek(span.offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const got = await file.read(buf.subarray(off));
      if (got === null) break;
      off += got;
    }
    return buf.subarray(0, off);
  } finally {
    file.close();
  }
}

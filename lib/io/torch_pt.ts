// Reads and writes single-tensor torch `.pt` files in torch's zip format (torch >= 1.6):
//   <archive>/data.pkl   the pickle describing the tensor (see pickle.ts)
//   <archive>/data/<key> raw storage bytes
//   <archive>/byteorder  "little" or "big" (absent in older files: little)
//   <archive>/version    serialization format version
import { type UnzipFileInfo, unzipSync, type ZipOptions, zipSync } from "fflate";
import { decodeFloats, encodeFloats, type FloatDtype } from "./float_codec.ts";
import {
  dumpTensorPickle,
  loadPickle,
  PickleDict,
  type PickleValue,
  storageTypeFor,
  type TensorSpec,
} from "./pickle.ts";
import { InputError, InputLimitError } from "./input_error.ts";

/** A `.pt` file that is not a readable single tensor: wrong format, corrupt, or a view its storage cannot back. */
export class TorchFileError extends InputError {}

export interface ReadTorchOptions {
  /** Refuse (InputLimitError) a tensor of more elements, before any is gathered. */
  maxElements?: number;
  /**
   * Refuse (InputLimitError) a storage of more bytes, before it is inflated (default 1 GiB). A zip entry may
   * be compressed, so a small file can declare a huge storage.
   */
  maxStorageBytes?: number;
}

export type { FloatDtype };

/** One tensor read from a `.pt` file, values converted to float32 (dtype says how they were stored). */
export interface TorchTensor {
  data: Float32Array;
  shape: number[];
  dtype: FloatDtype;
  /** The device tag the file was saved from ('cpu', 'cuda:0', …); data is always loaded to the CPU. */
  location: string;
}

// Tensor pickles are a few hundred bytes; this bounds memory spent on a hostile archive.
const MAX_PICKLE_BYTES = 16 << 20;
const MAX_STORAGE_BYTES = 1 << 30;

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
// Legacy (torch < 1.6) files are a bare pickle stream starting with PROTO 2 and this magic number.
const LEGACY_PREFIX = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8];

export function isTorchZip(bytes: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => bytes[i] === b);
}

/** Reads the single tensor stored in a torch zip `.pt` file. `what` names the file in error messages. */
export function readTorchTensor(
  bytes: Uint8Array,
  what = "torch file",
  opts: ReadTorchOptions = {},
): TorchTensor {
  const archive = openArchive(bytes, what);
  return archive.tensor(asTensor(archive.root, what), what, opts);
}

/**
 * Reads a state dict (`torch.save(model.state_dict(), f)`: a dict or OrderedDict of name → tensor), such as a
 * LAION aesthetic predictor's `.pth`. Only tensor-building globals are allowed, as for single tensors.
 */
export function readTorchStateDict(
  bytes: Uint8Array,
  what = "torch file",
  opts: ReadTorchOptions = {},
): Map<string, TorchTensor> {
  const archive = openArchive(bytes, what);
  if (!(archive.root instanceof PickleDict)) throw new TorchFileError(`${what}: does not hold a state dict`);
  const out = new Map<string, TorchTensor>();
  for (const [key, value] of archive.root.entries) {
    const name = String(key);
    const isTensor = typeof value === "object" && value !== null && "kind" in value &&
      value.kind === "tensor";
    if (!isTensor) throw new TorchFileError(`${what}: entry ${name} of the state dict is not a tensor`);
    out.set(name, archive.tensor(value, `${what}: ${name}`, opts));
  }
  return out;
}

interface Archive {
  root: PickleValue;
  tensor(spec: TensorSpec, what: string, opts: ReadTorchOptions): TorchTensor;
}

/** The zip's pickle, loaded, and a reader of the tensors it describes from their storages. */
function openArchive(bytes: Uint8Array, what: string): Archive {
  if (LEGACY_PREFIX.every((b, i) => bytes[i] === b)) {
    throw new TorchFileError(
      `${what}: legacy (torch < 1.6) .pt format is not supported; re-save it with a newer torch`,
    );
  }
  if (!isTorchZip(bytes)) throw new TorchFileError(`${what}: not a torch .pt file (not a zip archive)`);

  const entries = listEntries(bytes, what);
  const pkl = [...entries.values()].filter((e) =>
    e.name.endsWith("/data.pkl") && !e.name.slice(0, -9).includes("/")
  );
  if (pkl.length !== 1) {
    throw new TorchFileError(
      `${what}: ${pkl.length ? "several" : "no"} <archive>/data.pkl in the zip; not a torch .pt file`,
    );
  }
  const prefix = pkl[0].name.slice(0, -"data.pkl".length);
  let root: PickleValue;
  try {
    root = loadPickle(extract(bytes, pkl[0], MAX_PICKLE_BYTES, what));
  } catch (e) {
    throw new TorchFileError(`${what}: ${(e as Error).message}`);
  }

  const byteorderEntry = entries.get(`${prefix}byteorder`);
  const byteorder = byteorderEntry
    ? new TextDecoder().decode(extract(bytes, byteorderEntry, 16, what))
    : "little";
  if (byteorder !== "little" && byteorder !== "big") {
    throw new TorchFileError(`${what}: unknown byteorder "${byteorder}"`);
  }

  const tensor = (spec: TensorSpec, what: string, opts: ReadTorchOptions): TorchTensor => {
    const dtype = spec.storage.type.dtype;
    if (dtype !== "float16" && dtype !== "float32" && dtype !== "bfloat16" && dtype !== "float64") {
      throw new TorchFileError(`${what}: tensor has dtype ${dtype}; an embedding must be floating point`);
    }
    const itemSize = spec.storage.type.itemSize;
    const dataName = `${prefix}data/${spec.storage.key}`;
    const dataEntry = entries.get(dataName);
    if (!dataEntry) {
      throw new TorchFileError(`${what}: storage ${dataName} named by data.pkl is missing from the zip`);
    }
    const declared = spec.storage.numel * itemSize;
    if (declared > dataEntry.originalSize) {
      throw new TorchFileError(
        `${what}: storage declares ${spec.storage.numel} ${dtype} values (${declared} bytes) ` +
          `but ${dataName} holds only ${dataEntry.originalSize} bytes`,
      );
    }
    checkView(spec, what, opts.maxElements ?? Infinity);
    const raw = extract(bytes, dataEntry, opts.maxStorageBytes ?? MAX_STORAGE_BYTES, what);
    const storage = decodeFloats(raw.subarray(0, declared), dtype, byteorder === "little");
    return { data: gather(storage, spec), shape: [...spec.shape], dtype, location: spec.storage.location };
  };
  return { root, tensor };
}

export interface WriteTorchOptions {
  dtype?: "float32" | "float16";
  /** The top-level folder inside the zip; torch uses the file's stem or "archive". */
  archiveName?: string;
}

/** Serializes a contiguous tensor the way `torch.save(tensor, f)` does (cpu location, 64-byte aligned). */
export function writeTorchTensor(
  data: Float32Array,
  shape: number[],
  opts: WriteTorchOptions = {},
): Uint8Array {
  const dtype = opts.dtype ?? "float32";
  const numel = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0) || numel !== data.length) {
    throw new Error(`shape [${shape.join(", ")}] does not hold ${data.length} values`);
  }
  const archive = opts.archiveName ?? "archive";
  if (!/^[A-Za-z0-9_.-]+$/.test(archive)) {
    throw new Error(`archive name "${archive}" must be a plain file stem`);
  }
  const stride = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const pickle = dumpTensorPickle({
    type: storageTypeFor(dtype),
    key: "0",
    location: "cpu",
    numel,
    offset: 0,
    shape,
    stride,
  });
  const storage = encodeFloats(data, dtype);
  const enc = new TextEncoder();
  return alignedZip([
    [`${archive}/data.pkl`, pickle],
    [`${archive}/.format_version`, enc.encode("1")],
    [`${archive}/.storage_alignment`, enc.encode("64")],
    [`${archive}/byteorder`, enc.encode("little")],
    [`${archive}/data/0`, storage],
    [`${archive}/version`, enc.encode("3\n")],
  ]);
}

// ------------------------------------------------------------------------------------------------ helpers

function listEntries(bytes: Uint8Array, what: string): Map<string, UnzipFileInfo> {
  const entries = new Map<string, UnzipFileInfo>();
  try {
    unzipSync(bytes, {
      filter: (info) => {
        entries.set(info.name, info);
        return false;
      },
    });
  } catch (e) {
    throw new TorchFileError(`${what}: corrupt or truncated zip archive (${(e as Error).message})`);
  }
  return entries;
}

function extract(bytes: Uint8Array, info: UnzipFileInfo, limit: number, what: string): Uint8Array {
  if (info.originalSize > limit) {
    throw new InputLimitError(
      `${what}: ${info.name} is ${info.originalSize} bytes, over the limit of ${limit}`,
    );
  }
  let out: Uint8Array | undefined;
  try {
    out = unzipSync(bytes, { filter: (i) => i.name === info.name })[info.name];
  } catch (e) {
    throw new TorchFileError(`${what}: cannot read ${info.name} from the zip (${(e as Error).message})`);
  }
  // fflate does not verify sizes or CRCs, so a truncated archive shows up as a short entry.
  if (!out || out.length !== info.originalSize) {
    throw new TorchFileError(
      `${what}: ${info.name} is truncated (${out?.length ?? 0} of ${info.originalSize} bytes)`,
    );
  }
  return out;
}

function asTensor(root: PickleValue, what: string): TensorSpec {
  if (typeof root === "object" && root !== null && "kind" in root && root.kind === "tensor") return root;
  if (root instanceof PickleDict) {
    const keys = [...root.entries.keys()].map(String).slice(0, 5).join(", ");
    throw new TorchFileError(`${what}: holds a dict (keys: ${keys}) rather than a single tensor`);
  }
  throw new TorchFileError(`${what}: does not hold a single tensor`);
}

/**
 * A view may read only values its storage holds: at most as many elements as the storage has (a stride-0
 * broadcast of one stored value to 2^29 elements would otherwise load as a 2 GB tensor), its last element
 * inside the storage. Negative sizes, strides and offsets never get here (pickle.ts refuses them).
 */
function checkView(spec: TensorSpec, what: string, maxElements: number) {
  const numel = spec.shape.reduce((a, b) => a * b, 1);
  const view = `offset ${spec.offset}, shape [${spec.shape.join(", ")}], stride [${spec.stride.join(", ")}]`;
  if (numel > spec.storage.numel) {
    throw new TorchFileError(
      `${what}: tensor view (${view}) has ${numel} elements but its storage holds ${spec.storage.numel}; ` +
        `a view must not repeat stored values`,
    );
  }
  if (numel > maxElements) {
    throw new InputLimitError(`${what}: tensor has ${numel} elements, over the limit of ${maxElements}`);
  }
  if (numel === 0) return;
  const last = spec.shape.reduce((acc, d, i) => acc + (d - 1) * spec.stride[i], spec.offset);
  if (last >= spec.storage.numel) {
    throw new TorchFileError(
      `${what}: tensor view (${view}) reaches past its storage of ${spec.storage.numel} values`,
    );
  }
}

function gather(storage: Float32Array, spec: TensorSpec): Float32Array {
  const numel = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(numel);
  const index = new Array<number>(spec.shape.length).fill(0);
  for (let n = 0; n < numel; n++) {
    let src = spec.offset;
    for (let d = 0; d < index.length; d++) src += index[d] * spec.stride[d];
    out[n] = storage[src];
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < spec.shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

const ALIGNMENT = 64;
// torch pads each local header with an extra field tagged "FB" so every record's data starts aligned.
const PAD_FIELD = 0x4246;
const DOS_EPOCH = new Date(1980, 0, 1);

/** A stored (uncompressed) zip whose entries' data start on 64-byte boundaries, as torch writes. */
function alignedZip(files: [string, Uint8Array][]): Uint8Array {
  const zippable: Record<string, [Uint8Array, ZipOptions]> = {};
  let offset = 0;
  for (const [name, data] of files) {
    const header = offset + 30 + new TextEncoder().encode(name).length + 4;
    const pad = (ALIGNMENT - (header % ALIGNMENT)) % ALIGNMENT;
    zippable[name] = [data, {
      level: 0,
      mtime: DOS_EPOCH,
      extra: { [PAD_FIELD]: new Uint8Array(pad).fill(0x5a) },
    }];
    offset = header + pad + data.length;
  }
  return zipSync(zippable);
}

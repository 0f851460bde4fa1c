// The tensor index of a torch zip checkpoint (`.ckpt`, torch.save of {"state_dict": {...}} or of the state dict
// itself): the zip's central directory (zip64 included: SD checkpoints pass 4 GB) gives each stored entry's
// place in the file, and data.pkl goes through the project's restricted unpickler, which builds tensor
// descriptions and refuses every other global, so nothing in the file is ever run.
import { loadPickle, PickleDict, type PickleValue, type TensorSpec } from "../../io/pickle.ts";
import { CheckpointError, type CheckpointTensor, type ReadAt, type TensorDtype } from "./checkpoint.ts";

interface ZipEntry {
  name: string;
  method: number;
  size: number;
  localHeader: number;
}

const MAX_PICKLE = 256 << 20;

function u64(v: DataView, at: number): number {
  return Number(v.getBigUint64(at, true));
}

function centralDirectory(read: ReadAt, size: number, fail: (m: string) => never): ZipEntry[] {
  const tailLength = Math.min(size, 65536 + 22);
  const tail = read(size - tailLength, tailLength);
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tv.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail("is truncated or not a zip archive: its end-of-archive record is missing");
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  if (cdOffset === 0xffffffff || count === 0xffff || cdSize === 0xffffffff) {
    const locator = eocd - 20;
    if (locator < 0 || tv.getUint32(locator, true) !== 0x07064b50) fail("has a damaged zip64 locator");
    const z = new DataView(read(u64(tv, locator + 8), 56).buffer);
    if (z.getUint32(0, true) !== 0x06064b50) fail("has a damaged zip64 end-of-archive record");
    count = u64(z, 32);
    cdSize = u64(z, 40);
    cdOffset = u64(z, 48);
  }
  if (cdOffset + cdSize > size) fail("is truncated: its zip directory lies past the end of the file");
  const cd = read(cdOffset, cdSize);
  const v = new DataView(cd.buffer);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || v.getUint32(p, true) !== 0x02014b50) fail("has a damaged zip directory");
    const method = v.getUint16(p + 10, true);
    let compressed = v.getUint32(p + 20, true);
    let size32 = v.getUint32(p + 24, true);
    const nameLength = v.getUint16(p + 28, true);
    const extraLength = v.getUint16(p + 30, true);
    const commentLength = v.getUint16(p + 32, true);
    let local = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLength));
    // zip64 sizes and offsets live in extra field 0x0001, in this order, only for the fields that overflowed.
    let x = p + 46 + nameLength;
    const extraEnd = x + extraLength;
    while (x + 4 <= extraEnd) {
      const id = v.getUint16(x, true);
      const len = v.getUint16(x + 2, true);
      if (id === 1) {
        let q = x + 4;
        if (size32 === 0xffffffff) size32 = u64(v, (q += 8) - 8);
        if (compressed === 0xffffffff) compressed = u64(v, (q += 8) - 8);
        if (local === 0xffffffff) local = u64(v, q);
      }
      x += 4 + len;
    }
    entries.push({ name, method, size: size32, localHeader: local });
    p = extraEnd + commentLength;
  }
  return entries;
}

function dataOffset(read: ReadAt, entry: ZipEntry, fail: (m: string) => never): number {
  const h = new DataView(read(entry.localHeader, 30).buffer);
  if (h.getUint32(0, true) !== 0x04034b50) fail(`has a damaged zip entry ${entry.name}`);
  return entry.localHeader + 30 + h.getUint16(26, true) + h.getUint16(28, true);
}

/** The dict holding the tensors: {"state_dict": {...}} as Lightning saves, or the state dict itself. */
function stateDict(root: PickleValue, fail: (m: string) => never): PickleDict {
  if (!(root instanceof PickleDict)) return fail("does not hold a dict of tensors");
  const inner = root.entries.get("state_dict");
  return inner instanceof PickleDict ? inner : root;
}

const isTensor = (v: PickleValue): v is TensorSpec =>
  typeof v === "object" && v !== null && "kind" in v && v.kind === "tensor";

export function indexTorchZip(read: ReadAt, size: number, name: string): CheckpointTensor[] {
  const fail = (msg: string): never => {
    throw new CheckpointError(`${name} ${msg}`);
  };
  const entries = centralDirectory(read, size, fail);
  const pkl = entries.filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pkl.length !== 1) fail("is a zip archive but not a torch checkpoint (no <archive>/data.pkl)");
  const prefix = pkl[0].name.slice(0, -"data.pkl".length);
  if (pkl[0].method !== 0) fail("stores data.pkl compressed, which torch never does");
  if (pkl[0].size > MAX_PICKLE) fail(`has a ${pkl[0].size}-byte data.pkl, over the ${MAX_PICKLE}-byte limit`);
  let root: PickleValue;
  try {
    root = loadPickle(read(dataOffset(read, pkl[0], fail), pkl[0].size));
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    return fail(
      `has a pickle that was refused (${
        (e as Error).message.replace(/^pickle: /, "")
      }); only tensors are loaded ` +
        `and nothing in the file was run`,
    );
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  const order = byName.get(`${prefix}byteorder`);
  if (order && order.size <= 16) {
    const text = new TextDecoder().decode(read(dataOffset(read, order, fail), order.size)).trim();
    if (text !== "little") fail(`stores its tensors ${text}-endian; only little-endian checkpoints are read`);
  }
  const tensors: CheckpointTensor[] = [];
  for (const [key, value] of stateDict(root, fail).entries) {
    if (typeof key !== "string" || !isTensor(value)) continue;
    const storage = byName.get(`${prefix}data/${value.storage.key}`);
    if (!storage) fail(`names storage ${value.storage.key} for ${key}, which the archive lacks`);
    if (storage!.method !== 0) fail(`stores ${key} compressed, which torch never does`);
    const dtype = value.storage.type.dtype as string;
    const known: TensorDtype = ["float16", "bfloat16", "float32", "float64", "int64", "int32"].includes(dtype)
      ? dtype as TensorDtype
      : "other";
    const item = value.storage.type.itemSize;
    const numel = value.shape.reduce((a, b) => a * b, 1);
    const last = value.offset + value.shape.reduce((acc, d, i) => acc + (d - 1) * value.stride[i], 0);
    if (numel > 0 && (last >= value.storage.numel || value.storage.numel * item > storage!.size)) {
      fail(`has tensor ${key} reaching past its storage`);
    }
    tensors.push({
      name: key,
      shape: [...value.shape],
      dtype: known,
      offset: dataOffset(read, storage!, fail) + value.offset * item,
      strides: [...value.stride],
    });
  }
  return tensors;
}

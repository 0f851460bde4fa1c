// A restricted reader and a tiny writer for the Python pickles inside torch `.pt` archives.
//
// Pickle is a program for a stack machine that may call any importable Python function; loading an
// untrusted `.pt` with Python's pickle runs that program. This reader executes only data-building opcodes and
// resolves only the few globals a saved tensor needs, so loading never does more than build numbers,
// strings, tuples, lists, dicts and tensor descriptions. Anything else is refused with an error naming it.
// Training checkpoints (PyTorch Lightning's `.ckpt`, such as sd-v1-4.ckpt) also pickle a few harmless objects
// next to the tensors: A1111's safe unpickler (modules/safe.py) allows them, and here they become opaque
// placeholders that are never called or constructed (INERT_GLOBALS).

import { InputError } from "./input_error.ts";

/** A torch storage type as it appears in a pickle (`torch.FloatStorage`), with its element layout. */
export interface StorageType {
  readonly name: string;
  readonly dtype: StorageDtype;
  readonly itemSize: number;
}

export type StorageDtype =
  | "float64"
  | "float32"
  | "float16"
  | "bfloat16"
  | "int64"
  | "int32"
  | "int16"
  | "int8"
  | "uint8"
  | "bool";

const STORAGE_TYPES: ReadonlyMap<string, StorageType> = new Map(
  ([
    ["DoubleStorage", "float64", 8],
    ["FloatStorage", "float32", 4],
    ["HalfStorage", "float16", 2],
    ["BFloat16Storage", "bfloat16", 2],
    ["LongStorage", "int64", 8],
    ["IntStorage", "int32", 4],
    ["ShortStorage", "int16", 2],
    ["CharStorage", "int8", 1],
    ["ByteStorage", "uint8", 1],
    ["BoolStorage", "bool", 1],
  ] as const).map(([name, dtype, itemSize]) => [name, { name, dtype, itemSize }]),
);

/** Looks up a storage type by its torch class name (`FloatStorage`), or undefined. */
export function storageType(name: string): StorageType | undefined {
  return STORAGE_TYPES.get(name);
}

/** The storage type torch uses for a dtype. */
export function storageTypeFor(dtype: StorageDtype): StorageType {
  for (const t of STORAGE_TYPES.values()) if (t.dtype === dtype) return t;
  throw new Error(`no torch storage type for dtype ${dtype}`);
}

/** A persistent id `('storage', StorageType, key, location, numel)`: where a tensor's bytes live. */
export interface StorageRef {
  readonly kind: "storage";
  readonly type: StorageType;
  readonly key: string;
  readonly location: string;
  readonly numel: number;
}

/** What `torch._utils._rebuild_tensor_v2` would build: a strided view of a storage. */
export interface TensorSpec {
  readonly kind: "tensor";
  readonly storage: StorageRef;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}

/** A callable the reader agreed to resolve. */
export interface PickleGlobal {
  readonly kind: "global";
  readonly module: string;
  readonly name: string;
}

/**
 * An allowed but inert object (a numpy scalar, a Lightning callback, a set): what it is, never its value.
 * Nothing is constructed for it; a state BUILD gives it is dropped.
 */
export interface PickleOpaque {
  readonly kind: "opaque";
  /** The global it came from, as `module.name`. */
  readonly of: string;
}

/** Lightning saves its callbacks' states keyed by the callback's class, so a key may be a global. */
export type PickleKey = string | number | bigint | boolean | null | PickleGlobal | PickleOpaque;

/** A Python dict (or OrderedDict); keys must be scalars. */
export class PickleDict {
  readonly entries = new Map<PickleKey, PickleValue>();
}

/** Tuples are frozen arrays, lists are plain arrays. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | readonly PickleValue[]
  | PickleDict
  | StorageRef
  | TensorSpec
  | PickleGlobal
  | PickleOpaque;

/** The globals a tensor pickle may name; every other global is refused. */
const ALLOWED_CALLABLES = new Set([
  "torch._utils._rebuild_tensor_v2",
  // nn.Parameter saved directly: just a tensor with a requires_grad flag.
  "torch._utils._rebuild_parameter",
  "collections.OrderedDict",
]);

/**
 * The other globals A1111's restricted unpickler allows (modules/safe.py), which training checkpoints use for
 * their bookkeeping: numpy scalars and arrays (with `_codecs.encode` for their bytes in protocol 2), torch's
 * float32 dtype, Lightning's ModelCheckpoint callback, sets. Calling or instantiating one yields an opaque
 * placeholder; no code runs. numpy 2 writes `numpy._core` where numpy 1 wrote `numpy.core`.
 */
const INERT_GLOBALS = new Set([
  "numpy.core.multiarray.scalar",
  "numpy.core.multiarray._reconstruct",
  "numpy._core.multiarray.scalar",
  "numpy._core.multiarray._reconstruct",
  "numpy.dtype",
  "numpy.ndarray",
  "_codecs.encode",
  "torch.float32",
  "torch._utils._rebuild_device_tensor_from_numpy",
  "torch.nn.modules.container.ParameterDict",
  "pytorch_lightning.callbacks.model_checkpoint",
  "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
  "__builtin__.set",
  "builtins.set",
]);

function isKind<K extends string>(v: PickleValue, kind: K): v is Extract<PickleValue, { kind: K }> {
  return typeof v === "object" && v !== null && "kind" in v && v.kind === kind;
}

/** An inert global called or instantiated: a placeholder naming it (anything else is refused). */
function opaqueCall(fn: PickleValue, op: string, fail: Fail): PickleOpaque {
  if (!isKind(fn, "global") || !INERT_GLOBALS.has(`${fn.module}.${fn.name}`)) {
    return fail(`${op} on something that is not an allowed class`);
  }
  return { kind: "opaque", of: `${fn.module}.${fn.name}` };
}

const OPCODE_NAMES: Record<number, string> = {
  0x28: "MARK",
  0x2e: "STOP",
  0x30: "POP",
  0x31: "POP_MARK",
  0x32: "DUP",
  0x46: "FLOAT",
  0x49: "INT",
  0x4a: "BININT",
  0x4b: "BININT1",
  0x4c: "LONG",
  0x4d: "BININT2",
  0x4e: "NONE",
  0x50: "PERSID",
  0x51: "BINPERSID",
  0x52: "REDUCE",
  0x53: "STRING",
  0x54: "BINSTRING",
  0x55: "SHORT_BINSTRING",
  0x56: "UNICODE",
  0x58: "BINUNICODE",
  0x61: "APPEND",
  0x62: "BUILD",
  0x63: "GLOBAL",
  0x64: "DICT",
  0x7d: "EMPTY_DICT",
  0x65: "APPENDS",
  0x67: "GET",
  0x68: "BINGET",
  0x69: "INST",
  0x6a: "LONG_BINGET",
  0x6c: "LIST",
  0x5d: "EMPTY_LIST",
  0x6f: "OBJ",
  0x70: "PUT",
  0x71: "BINPUT",
  0x72: "LONG_BINPUT",
  0x73: "SETITEM",
  0x74: "TUPLE",
  0x29: "EMPTY_TUPLE",
  0x75: "SETITEMS",
  0x47: "BINFLOAT",
  0x80: "PROTO",
  0x81: "NEWOBJ",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x85: "TUPLE1",
  0x86: "TUPLE2",
  0x87: "TUPLE3",
  0x88: "NEWTRUE",
  0x89: "NEWFALSE",
  0x8a: "LONG1",
  0x8b: "LONG4",
  0x42: "BINBYTES",
  0x43: "SHORT_BINBYTES",
  0x8c: "SHORT_BINUNICODE",
  0x8d: "BINUNICODE8",
  0x8e: "BINBYTES8",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x92: "NEWOBJ_EX",
  0x93: "STACK_GLOBAL",
  0x94: "MEMOIZE",
  0x95: "FRAME",
  0x96: "BYTEARRAY8",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

export class PickleError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = "PickleError";
  }
}

const MARK: unique symbol = Symbol("mark");
type StackItem = PickleValue | typeof MARK;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Runs a pickle (protocols 2–5) allowing only tensor-building globals and the torch storage persistent id.
 * Throws PickleError naming the offending global, opcode or malformed structure.
 */
export function loadPickle(bytes: Uint8Array): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;

  const fail = (msg: string): never => {
    throw new PickleError(`pickle: ${msg}`);
  };
  const need = (n: number, what: string) => {
    if (n < 0 || pos + n > bytes.length) fail(`truncated while reading ${what} at byte ${pos}`);
  };
  const u8 = () => (need(1, "a byte"), bytes[pos++]);
  const u16 = () => (need(2, "a 2-byte integer"), pos += 2, view.getUint16(pos - 2, true));
  const u32 = () => (need(4, "a 4-byte integer"), pos += 4, view.getUint32(pos - 4, true));
  const u64 = () => {
    need(8, "an 8-byte length");
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`length ${v} is too large`);
    return Number(v);
  };
  const take = (n: number, what: string) => (need(n, what), pos += n, bytes.subarray(pos - n, pos));
  const text = (n: number) => {
    const raw = take(n, "a string");
    try {
      return utf8.decode(raw);
    } catch {
      return fail(`invalid UTF-8 string at byte ${pos - n}`);
    }
  };
  const line = (what: string) => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail(`unterminated ${what} at byte ${pos}`);
    const s = text(end - pos);
    pos++;
    return s;
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined) fail(`stack underflow at byte ${pos}`);
    if (v === MARK) fail(`unexpected MARK on the stack at byte ${pos}`);
    return v as PickleValue;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) fail(`stack underflow at byte ${pos}`);
    return v as PickleValue;
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) fail(`no MARK to pop at byte ${pos}`);
    const items = stack.splice(m!) as StackItem[];
    items.shift(); // the MARK itself
    return items as PickleValue[];
  };
  const push = (v: PickleValue) => stack.push(v);
  const resolveGlobal = (module: string, name: string): PickleGlobal => {
    const full = `${module}.${name}`;
    if (module === "torch" && storageType(name)) return { kind: "global", module, name };
    if (ALLOWED_CALLABLES.has(full) || INERT_GLOBALS.has(full)) return { kind: "global", module, name };
    return fail(`refusing global ${full}: only tensor data may be loaded`);
  };
  const memoPut = (key: number) => memo.set(key, top());
  const memoGet = (key: number) => {
    if (!memo.has(key)) fail(`memo key ${key} was never stored`);
    push(memo.get(key)!);
  };
  const list = (v: PickleValue, op: string): PickleValue[] => {
    if (!Array.isArray(v) || Object.isFrozen(v)) fail(`${op} on a non-list`);
    return v as PickleValue[];
  };
  const setItems = (d: PickleValue, items: PickleValue[], op: string) => {
    if (!(d instanceof PickleDict)) return fail(`${op} on a non-dict`);
    if (items.length % 2) fail(`${op} with an odd number of items`);
    for (let i = 0; i < items.length; i += 2) d.entries.set(dictKey(items[i], fail), items[i + 1]);
  };
  const signedLong = (raw: Uint8Array): number | bigint => {
    let v = 0n;
    for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
    if (raw.length && raw[raw.length - 1] & 0x80) v -= 1n << BigInt(raw.length * 8);
    return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  };

  while (true) {
    if (pos >= bytes.length) fail("ended without STOP");
    const at = pos;
    const op = bytes[pos++];
    switch (op) {
      case 0x80: { // PROTO
        const proto = u8();
        if (proto < 2 || proto > 5) fail(`unsupported pickle protocol ${proto}`);
        break;
      }
      case 0x95: // FRAME: only a read-ahead hint
        u64();
        break;
      case 0x2e: { // STOP
        const v = pop();
        if (stack.length) fail(`${stack.length} items left on the stack at STOP`);
        return v;
      }
      case 0x28: // MARK
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x30: // POP
        if (stack[stack.length - 1] === MARK) popMark();
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4a: // BININT
        need(4, "BININT");
        push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: // LONG1
        push(signedLong(take(u8(), "LONG1")));
        break;
      case 0x8b: { // LONG4
        const n = u32();
        if (n > 64) fail(`LONG4 of ${n} bytes is not a plausible tensor field`);
        push(signedLong(take(n, "LONG4")));
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8, "BINFLOAT");
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: // BINUNICODE
        push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(text(u64()));
        break;
      case 0x42: // BINBYTES
        push(take(u32(), "BINBYTES").slice());
        break;
      case 0x43: // SHORT_BINBYTES
        push(take(u8(), "SHORT_BINBYTES").slice());
        break;
      case 0x8e: // BINBYTES8
        push(take(u64(), "BINBYTES8").slice());
        break;
      case 0x29: // EMPTY_TUPLE
        push(Object.freeze([]));
        break;
      case 0x85: // TUPLE1
        push(Object.freeze([pop()]));
        break;
      case 0x86: { // TUPLE2
        const b = pop(), a = pop();
        push(Object.freeze([a, b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop(), b = pop(), a = pop();
        push(Object.freeze([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        push(Object.freeze(popMark()));
        break;
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x6c: // LIST
        push(popMark());
        break;
      case 0x61: { // APPEND
        const v = pop();
        list(top(), "APPEND").push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        list(top(), "APPENDS").push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push(new PickleDict());
        break;
      case 0x64: { // DICT
        const d = new PickleDict();
        setItems(d, popMark(), "DICT");
        push(d);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop(), k = pop();
        setItems(top(), [k, v], "SETITEM");
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items, "SETITEMS");
        break;
      }
      case 0x71: // BINPUT
        memoPut(u8());
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32());
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size);
        break;
      case 0x68: // BINGET
        memoGet(u8());
        break;
      case 0x6a: // LONG_BINGET
        memoGet(u32());
        break;
      case 0x63: { // GLOBAL
        const module = line("GLOBAL module");
        push(resolveGlobal(module, line("GLOBAL name")));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop(), module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("STACK_GLOBAL needs two strings");
        push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x51: // BINPERSID
        push(storageRef(pop(), fail));
        break;
      case 0x52: { // REDUCE
        const args = pop(), fn = pop();
        push(reduce(fn, args, fail));
        break;
      }
      case 0x62: { // BUILD
        // A state dict is an OrderedDict whose __dict__ carries `_metadata` (per-module versions): the state is
        // dropped, since a dict needs none; so is an opaque placeholder's. BUILD on anything else would call its
        // __setstate__: refused.
        pop();
        const target = top();
        if (!(target instanceof PickleDict) && !isKind(target, "opaque")) {
          fail(`opcode BUILD is only allowed on a dict (byte ${at})`);
        }
        break;
      }
      case 0x81: { // NEWOBJ: cls.__new__(cls, *args), only for an inert class
        pop();
        push(opaqueCall(pop(), "NEWOBJ", fail));
        break;
      }
      case 0x92: { // NEWOBJ_EX: cls.__new__(cls, *args, **kwargs), likewise
        pop(), pop();
        push(opaqueCall(pop(), "NEWOBJ_EX", fail));
        break;
      }
      default: {
        const name = OPCODE_NAMES[op];
        fail(
          name
            ? `opcode ${name} is not allowed in a tensor file (byte ${at})`
            : `unknown opcode 0x${op.toString(16).padStart(2, "0")} at byte ${at}`,
        );
      }
    }
  }
}

type Fail = (msg: string) => never;

function dictKey(k: PickleValue, fail: Fail): PickleKey {
  if (k === null || ["string", "number", "bigint", "boolean"].includes(typeof k)) return k as PickleKey;
  if (isKind(k, "global") || isKind(k, "opaque")) return k;
  return fail("dict keys must be strings or numbers");
}

function isInt(v: PickleValue): v is number {
  return typeof v === "number" && Number.isSafeInteger(v);
}

function isTuple(v: PickleValue): v is readonly PickleValue[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

function storageRef(pid: PickleValue, fail: Fail): StorageRef {
  if (!isTuple(pid) || pid.length !== 5 || pid[0] !== "storage") {
    return fail("persistent id is not ('storage', type, key, location, numel)");
  }
  const [, type, key, location, numel] = pid;
  const t = typeof type === "object" && type !== null && "kind" in type && type.kind === "global" &&
      type.module === "torch"
    ? storageType(type.name)
    : undefined;
  if (!t) return fail("persistent id does not name a torch storage type");
  if (typeof key !== "string") return fail("storage key is not a string");
  if (typeof location !== "string") return fail("storage location is not a string");
  if (!isInt(numel) || numel < 0) return fail(`storage size ${String(numel)} is not a non-negative integer`);
  return { kind: "storage", type: t, key, location, numel };
}

function intTuple(v: PickleValue, what: string, fail: Fail): number[] {
  if (!isTuple(v) || !v.every((x) => isInt(x) && x >= 0)) {
    return fail(`${what} is not a tuple of non-negative integers`);
  }
  return v as number[];
}

function reduce(fn: PickleValue, args: PickleValue, fail: Fail): PickleValue {
  if (typeof fn !== "object" || fn === null || !("kind" in fn) || fn.kind !== "global") {
    return fail("REDUCE on something that is not a global");
  }
  if (!isTuple(args)) return fail(`arguments of ${fn.module}.${fn.name} are not a tuple`);
  switch (`${fn.module}.${fn.name}`) {
    case "collections.OrderedDict":
      if (args.length) fail("OrderedDict with constructor arguments is not supported");
      return new PickleDict();
    case "torch._utils._rebuild_tensor_v2": {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (args.length !== 6 && args.length !== 7) {
        fail(`_rebuild_tensor_v2 takes 6 or 7 arguments, got ${args.length}`);
      }
      const [storage, offset, size, stride] = args;
      if (
        typeof storage !== "object" || storage === null || !("kind" in storage) || storage.kind !== "storage"
      ) {
        return fail("_rebuild_tensor_v2: first argument is not a storage");
      }
      if (!isInt(offset) || offset < 0) {
        return fail(`_rebuild_tensor_v2: storage offset ${String(offset)} is not a non-negative integer`);
      }
      const shape = intTuple(size, "tensor size", fail);
      const strides = intTuple(stride, "tensor stride", fail);
      if (shape.length !== strides.length) {
        fail(`tensor has ${shape.length} sizes but ${strides.length} strides`);
      }
      return { kind: "tensor", storage, offset, shape, stride: strides };
    }
    case "torch._utils._rebuild_parameter": {
      const data = args[0];
      if (
        args.length !== 3 || typeof data !== "object" || data === null || !("kind" in data) ||
        data.kind !== "tensor"
      ) {
        return fail("_rebuild_parameter: expected (tensor, requires_grad, hooks)");
      }
      return data;
    }
    default:
      if (INERT_GLOBALS.has(`${fn.module}.${fn.name}`)) return opaqueCall(fn, "REDUCE", fail);
      return fail(`calling ${fn.module}.${fn.name} is not allowed`);
  }
}

// ------------------------------------------------------------------------------------------------ writer

/** The pickle torch.save writes for one tensor, byte for byte as Python's protocol-2 pickler emits it. */
export function dumpTensorPickle(t: {
  type: StorageType;
  key: string;
  location: string;
  numel: number;
  offset: number;
  shape: readonly number[];
  stride: readonly number[];
}): Uint8Array {
  const w = new Writer();
  w.op(0x80, 2); // PROTO 2
  w.global("torch._utils", "_rebuild_tensor_v2");
  w.op(0x28); // MARK: reduce args (6 > 3 items, so MARK ... TUPLE)
  w.op(0x28); // MARK: persistent id tuple
  w.str("storage");
  w.global("torch", t.type.name);
  w.str(t.key);
  w.str(t.location);
  w.int(t.numel);
  w.op(0x74), w.put(); // TUPLE
  w.op(0x51); // BINPERSID
  w.int(t.offset);
  w.tuple(t.shape);
  w.tuple(t.stride);
  w.op(0x89); // NEWFALSE: requires_grad
  w.global("collections", "OrderedDict");
  w.op(0x29, 0x52), w.put(); // EMPTY_TUPLE REDUCE: backward_hooks
  w.op(0x74), w.put(); // TUPLE
  w.op(0x52), w.put(); // REDUCE
  w.op(0x2e); // STOP
  return w.bytes();
}

class Writer {
  #out: number[] = [];
  #memo = 0;

  op(...b: number[]) {
    this.#out.push(...b);
  }
  #u32(n: number) {
    this.#out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  put() {
    if (this.#memo < 256) this.op(0x71, this.#memo); // BINPUT
    else this.op(0x72), this.#u32(this.#memo); // LONG_BINPUT
    this.#memo++;
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    this.op(0x58), this.#u32(b.length), this.op(...b), this.put(); // BINUNICODE
  }
  global(module: string, name: string) {
    this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`)), this.put(); // GLOBAL
  }
  int(n: number) {
    if (!Number.isSafeInteger(n)) throw new Error(`cannot pickle ${n} as an integer`);
    if (n >= 0 && n < 0x100) this.op(0x4b, n); // BININT1
    else if (n >= 0 && n < 0x10000) this.op(0x4d, n & 0xff, n >> 8); // BININT2
    else if (n >= -0x80000000 && n <= 0x7fffffff) this.op(0x4a), this.#u32(n); // BININT
    else { // LONG1: minimal two's-complement little-endian
      const bytes: number[] = [];
      let v = BigInt(n);
      while (true) {
        bytes.push(Number(v & 0xffn));
        v >>= 8n;
        const sign = bytes[bytes.length - 1] & 0x80;
        if ((v === 0n && !sign) || (v === -1n && sign)) break;
      }
      this.op(0x8a, bytes.length, ...bytes);
    }
  }
  tuple(items: readonly number[]) {
    if (items.length === 0) return this.op(0x29); // EMPTY_TUPLE is never memoized
    if (items.length > 3) this.op(0x28);
    for (const i of items) this.int(i);
    this.op(items.length > 3 ? 0x74 : 0x84 + items.length); // TUPLE or TUPLE1..3
    this.put();
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.#out);
  }
}

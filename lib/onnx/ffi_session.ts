// onnxruntime's C API called through Deno's FFI, for the sessions whose outputs are large and preallocated (the
// personalization's gradients). onnxruntime-node 1.30's binding copies every fetched output into a new
// ArrayBuffer, a preallocated one too: for the 85M gradients of CLIP ViT-L/14's text model that is 340 MB
// allocated, zeroed and copied on every step (100–250 ms) and garbage that peaks memory until it is collected.
// Here onnxruntime writes straight into the caller's buffers, and Run runs off the main thread (nonblocking).
// The library is the one onnxruntime-node ships and has already loaded; the API is addressed by its stable
// function-table indices (onnxruntime only ever appends to the table).
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { openSession, type RunSession, type SessionOptions, Tensor } from "./session.ts";

/** Indices into OrtApi (onnxruntime_c_api.h); the table is append-only, so these hold for every later version. */
const API = {
  GetErrorMessage: 2,
  CreateEnv: 3,
  CreateSessionFromArray: 8,
  Run: 9,
  CreateSessionOptions: 10,
  SetSessionGraphOptimizationLevel: 23,
  SetIntraOpNumThreads: 24,
  SetInterOpNumThreads: 25,
  SessionGetInputCount: 30,
  SessionGetOutputCount: 31,
  SessionGetInputName: 36,
  SessionGetOutputName: 37,
  CreateTensorWithDataAsOrtValue: 49,
  GetTensorMutableData: 51,
  GetTensorElementType: 60,
  GetDimensionsCount: 61,
  GetDimensions: 62,
  GetTensorTypeAndShape: 65,
  CreateCpuMemoryInfo: 69,
  AllocatorFree: 76,
  GetAllocatorWithDefaultOptions: 78,
  ReleaseStatus: 93,
  ReleaseSession: 95,
  ReleaseValue: 96,
  ReleaseTensorTypeAndShapeInfo: 99,
  ReleaseSessionOptions: 100,
  AddSessionConfigEntry: 130,
} as const;

/** The C API version asked for: the one onnxruntime 1.16 introduced, which every later library serves. */
const API_VERSION = 16;
const ORT_LOGGING_LEVEL_WARNING = 2;
const ORT_ENABLE_ALL = 99;

type ElementType = "float32" | "int64" | "int32" | "uint8" | "int8" | "bool" | "float64";
const TYPE_CODES: Record<ElementType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
};
const TYPE_NAMES = new Map(Object.entries(TYPE_CODES).map(([name, code]) => [code, name as ElementType]));
const P = "pointer" as const;
const B = "buffer" as const;

type Arg = Deno.PointerValue | number | bigint | ArrayBufferView<ArrayBufferLike>;

/** The loaded C API: each function made callable once. */
class OrtC {
  readonly #fns = new Map<string, (...args: Arg[]) => unknown>();
  readonly env: Deno.PointerValue;
  readonly cpu: Deno.PointerValue;
  readonly allocator: Deno.PointerValue;

  constructor(private readonly api: Deno.UnsafePointerView) {
    this.env = this.out((o) =>
      this.check("CreateEnv", ["i32", B, B], ORT_LOGGING_LEVEL_WARNING, cstr("ag"), o)
    );
    this.cpu = this.out((o) => this.check("CreateCpuMemoryInfo", ["i32", "i32", B], 0, 0, o));
    this.allocator = this.out((o) => this.check("GetAllocatorWithDefaultOptions", [B], o));
  }

  /** API function `name` with these parameters, made callable (once per name). */
  fn(
    name: keyof typeof API,
    parameters: Deno.NativeType[],
    result: Deno.NativeResultType,
    nonblocking = false,
  ): (...args: Arg[]) => unknown {
    let f = this.#fns.get(name);
    if (!f) {
      const address = this.api.getPointer(API[name] * 8);
      if (!address) throw new Error(`onnxruntime's C API has no function ${name}`);
      const definition: Deno.ForeignFunction = { parameters, result, nonblocking };
      const pointer = new Deno.UnsafeFnPointer(
        address as Deno.PointerObject<Deno.ForeignFunction>,
        definition,
      );
      f = (...args: Arg[]) => (pointer.call as (...a: Arg[]) => unknown)(...args);
      this.#fns.set(name, f);
    }
    return f;
  }

  /** Calls a function that returns an OrtStatus and throws onnxruntime's message if it failed. */
  check(name: keyof typeof API, parameters: Deno.NativeType[], ...args: Arg[]): void {
    this.status(this.fn(name, parameters, P)(...args) as Deno.PointerValue);
  }

  /** Calls a function that returns nothing (the Release functions). */
  release(name: keyof typeof API, handle: Deno.PointerValue): void {
    if (handle) this.fn(name, [P], "void")(handle);
  }

  status(s: Deno.PointerValue): void {
    if (s === null) return;
    const message = Deno.UnsafePointerView.getCString(
      this.fn("GetErrorMessage", [P], P)(s) as Deno.PointerObject,
    );
    this.release("ReleaseStatus", s);
    throw new Error(`onnxruntime: ${message}`);
  }

  /** Runs `f` with an out-parameter slot and returns what it wrote there. */
  out(f: (slot: BigUint64Array) => void): Deno.PointerValue {
    const slot = new BigUint64Array(1);
    f(slot);
    return Deno.UnsafePointer.create(slot[0]);
  }

  /** A size_t out-parameter. */
  size(f: (slot: BigUint64Array) => void): number {
    const slot = new BigUint64Array(1);
    f(slot);
    return Number(slot[0]);
  }
}

function cstr(s: string): Uint8Array {
  return new TextEncoder().encode(s + "\0");
}

let loaded: OrtC | null | undefined;

/** Where onnxruntime-node keeps the shared library it loads on this platform, if it is there. */
export function libraryPath(): string | undefined {
  const platform = Deno.build.os === "windows" ? "win32" : Deno.build.os;
  const arch = Deno.build.arch === "x86_64" ? "x64" : "arm64";
  const file = platform === "linux"
    ? "libonnxruntime.so.1"
    : platform === "darwin"
    ? "libonnxruntime.1.dylib"
    : "onnxruntime.dll";
  try {
    const pkg = dirname(createRequire(import.meta.url).resolve("onnxruntime-node/package.json"));
    const path = join(pkg, "bin", "napi-v6", platform, arch, file);
    return existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/** The C API, or null where it cannot be used (no FFI permission, no library, or `AG_ORT_FFI=0`). */
function api(): OrtC | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (Deno.env.get("AG_ORT_FFI") === "0") return null;
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
  const path = libraryPath();
  if (!path) return null;
  const lib = Deno.dlopen(path, { OrtGetApiBase: { parameters: [], result: "pointer" } });
  const base = new Deno.UnsafePointerView(lib.symbols.OrtGetApiBase()!);
  const getApi = new Deno.UnsafeFnPointer(
    base.getPointer(0)!,
    { parameters: ["u32"], result: "pointer" } as const,
  );
  const table = getApi.call(API_VERSION);
  if (!table) return null;
  loaded = new OrtC(new Deno.UnsafePointerView(table));
  return loaded;
}

/** Whether sessions can be opened through the C API here. */
export function ffiAvailable(): boolean {
  return api() !== null;
}

type Fetches = readonly string[] | Record<string, Tensor | null>;

/** A session run through the C API: the subset of onnxruntime-node's InferenceSession the engine uses. */
export class FfiSession implements RunSession {
  #session: Deno.PointerValue;
  readonly #inputs: Set<string>;
  readonly #outputs: Set<string>;

  private constructor(
    private readonly ort: OrtC,
    session: Deno.PointerValue,
    readonly inputNames: string[],
    readonly outputNames: string[],
  ) {
    this.#session = session;
    this.#inputs = new Set(inputNames);
    this.#outputs = new Set(outputNames);
  }

  /** Opens serialized model bytes on the CPU with `threads` intra-op threads (0: onnxruntime's choice). */
  static open(model: Uint8Array, threads = 0): FfiSession {
    const ort = api();
    if (!ort) throw new Error("onnxruntime's C API is not available through FFI here");
    const opts = ort.out((o) => ort.check("CreateSessionOptions", [B], o));
    let session: Deno.PointerValue = null;
    try {
      ort.check("SetIntraOpNumThreads", [P, "i32"], opts, threads);
      ort.check("SetInterOpNumThreads", [P, "i32"], opts, 1);
      ort.check("SetSessionGraphOptimizationLevel", [P, "i32"], opts, ORT_ENABLE_ALL);
      // As in session.ts: idle pools must not spin, or they take the cores from the Adam update.
      ort.check("AddSessionConfigEntry", [P, B, B], opts, cstr("session.intra_op.allow_spinning"), cstr("0"));
      session = ort.out((o) =>
        ort.check(
          "CreateSessionFromArray",
          [P, B, "usize", P, B],
          ort.env,
          model,
          BigInt(model.byteLength),
          opts,
          o,
        )
      );
      const names = (which: "Input" | "Output") => {
        const n = ort.size((o) => ort.check(`SessionGet${which}Count`, [P, B], session, o));
        return Array.from({ length: n }, (_, i) => {
          const p = ort.out((o) =>
            ort.check(`SessionGet${which}Name`, [P, "usize", P, B], session, BigInt(i), ort.allocator, o)
          );
          const name = Deno.UnsafePointerView.getCString(p!);
          ort.check("AllocatorFree", [P, P], ort.allocator, p);
          return name;
        });
      };
      return new FfiSession(ort, session, names("Input"), names("Output"));
    } catch (e) {
      ort.release("ReleaseSession", session);
      throw e;
    } finally {
      ort.release("ReleaseSessionOptions", opts);
    }
  }

  /**
   * Runs the session. `fetches` names the outputs, or maps them to preallocated tensors that onnxruntime writes
   * into (returned as they are) or null (copied out into new tensors).
   */
  async run(feeds: Record<string, Tensor>, fetches: Fetches): Promise<Record<string, Tensor>> {
    const ort = this.ort;
    if (!this.#session) throw new Error("the session was released");
    const outNames: string[] = Array.isArray(fetches) ? [...fetches] : Object.keys(fetches);
    const given: Record<string, Tensor | null> = Array.isArray(fetches)
      ? {}
      : { ...(fetches as Record<string, Tensor | null>) };
    const inNames = Object.keys(feeds);
    for (const name of inNames) {
      if (!this.#inputs.has(name)) throw new Error(`the model has no input ${name}`);
    }
    for (const name of outNames) {
      if (!this.#outputs.has(name)) throw new Error(`the model has no output ${name}`);
    }
    const values: Deno.PointerValue[] = [];
    // Everything onnxruntime reads or writes during the nonblocking Run stays referenced until it returns.
    const keep: unknown[] = [];
    const wrap = (t: Tensor): bigint => {
      const code = TYPE_CODES[t.type as ElementType];
      if (code === undefined) throw new Error(`tensors of type ${t.type} are not supported here`);
      const data = t.data as ArrayBufferView;
      const shape = BigInt64Array.from(t.dims, (d) => BigInt(d));
      keep.push(data, shape);
      const v = ort.out((o) =>
        ort.check(
          "CreateTensorWithDataAsOrtValue",
          [P, B, "usize", B, "usize", "i32", B],
          ort.cpu,
          data,
          BigInt(data.byteLength),
          shape,
          BigInt(shape.length),
          code,
          o,
        )
      );
      values.push(v);
      return BigInt(Deno.UnsafePointer.value(v));
    };
    try {
      const inputs = BigUint64Array.from(inNames.map((n) => wrap(feeds[n])));
      const outputs = BigUint64Array.from(outNames.map((n) => given[n] ? wrap(given[n]!) : 0n));
      const inNamePtrs = cNames(inNames, keep);
      const outNamePtrs = cNames(outNames, keep);
      const run = ort.fn("Run", [P, P, B, B, "usize", B, "usize", B], P, true);
      const status = await (run(
        this.#session,
        null,
        inNamePtrs,
        inputs,
        BigInt(inNames.length),
        outNamePtrs,
        BigInt(outNames.length),
        outputs,
      ) as Promise<Deno.PointerValue>);
      ort.status(status);
      const result: Record<string, Tensor> = {};
      outNames.forEach((name, i) => {
        if (given[name]) {
          result[name] = given[name]!;
          return;
        }
        const v = Deno.UnsafePointer.create(outputs[i]);
        values.push(v);
        result[name] = readOut(ort, v, name);
      });
      return result;
    } finally {
      for (const v of values) ort.release("ReleaseValue", v);
    }
  }

  release(): Promise<void> {
    this.ort.release("ReleaseSession", this.#session);
    this.#session = null;
    return Promise.resolve();
  }
}

/** A C array of pointers to NUL-terminated names; the name bytes are pushed to `keep` to outlive the call. */
function cNames(list: string[], keep: unknown[]): BigUint64Array {
  return BigUint64Array.from(list.map((n) => {
    const bytes = cstr(n);
    keep.push(bytes);
    return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)));
  }));
}

/** Copies an output onnxruntime allocated into a new tensor. */
function readOut(ort: OrtC, v: Deno.PointerValue, name: string): Tensor {
  const info = ort.out((o) => ort.check("GetTensorTypeAndShape", [P, B], v, o));
  try {
    const code = new Int32Array(1);
    ort.check("GetTensorElementType", [P, B], info, code);
    const type = TYPE_NAMES.get(code[0]);
    if (!type) throw new Error(`output ${name} has element type ${code[0]}, not supported here`);
    const rank = ort.size((o) => ort.check("GetDimensionsCount", [P, B], info, o));
    const dims = new BigInt64Array(rank);
    ort.check("GetDimensions", [P, B, "usize"], info, dims, BigInt(rank));
    const shape = Array.from(dims, Number);
    const count = shape.reduce((a, b) => a * b, 1);
    const data = ort.out((o) => ort.check("GetTensorMutableData", [P, B], v, o));
    const out = new ARRAYS[type](count);
    if (count > 0) new Deno.UnsafePointerView(data!).copyInto(new Uint8Array(out.buffer));
    return new Tensor(type, out as Float32Array, shape);
  } finally {
    ort.release("ReleaseTensorTypeAndShapeInfo", info);
  }
}

const ARRAYS = {
  float32: Float32Array,
  int64: BigInt64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  int8: Int8Array,
  bool: Uint8Array,
  float64: Float64Array,
} as const;

/**
 * Opens model bytes through the C API when the session runs on the CPU and the API is reachable, else through
 * onnxruntime-node (other devices, or no FFI permission).
 */
export async function openRunSession(model: Uint8Array, opts: SessionOptions = {}): Promise<RunSession> {
  if ((opts.device ?? "cpu") === "cpu" && ffiAvailable()) return FfiSession.open(model, opts.threads ?? 0);
  return await openSession(model, opts);
}

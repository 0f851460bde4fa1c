import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { unzipSync } from "fflate";
import {
  dumpTensorPickle,
  loadPickle,
  PickleDict,
  PickleError,
  type PickleValue,
  storageType,
  storageTypeFor,
  type TensorSpec,
} from "../../../lib/io/pickle.ts";
import { FIXTURES } from "../../fixtures.ts";

function assertThrows(fn: () => unknown, type: new (...a: never[]) => Error): Error {
  try {
    fn();
  } catch (e) {
    ok(e instanceof type, `expected ${type.name}, got ${e}`);
    return e;
  }
  throw new Error("expected an error");
}

// Byte-for-byte string views of a pickle, for splicing hostile bytes into a real one.
const latin1 = (b: Uint8Array) => String.fromCharCode(...b);
const fromLatin1 = (s: string) => new Uint8Array([...s].map((c) => c.charCodeAt(0)));
const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));
const bytes = (...parts: (number | string)[]) =>
  new Uint8Array(parts.flatMap((p) => typeof p === "number" ? [p] : [...new TextEncoder().encode(p)]));

function fixturePickle(name: string): Uint8Array {
  const files = unzipSync(Deno.readFileSync(join(FIXTURES, "embeddings", name)));
  return files["archive/data.pkl"];
}

function asTensor(v: PickleValue): TensorSpec {
  if (typeof v !== "object" || v === null || !("kind" in v) || v.kind !== "tensor") {
    throw new Error("not a tensor");
  }
  return v;
}

// Pickles torch 2.9 wrote (torch.save to a BytesIO), captured as hex at development time.
const TORCH_PROTO4 =
  "8004958b000000000000008c0c746f7263682e5f7574696c73948c125f72656275696c645f74656e736f725f76329" +
  "4939428288c0773746f72616765948c05746f726368948c0c466c6f617453746f726167659493948c0130948c03637075944b037494514b00" +
  "4b0385944b018594898c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394295294749452942e";
// torch.arange(20.)[5:10]: storage of 20, offset 5.
const TORCH_VIEW =
  "800263746f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a71002828580700000073746f72" +
  "616765710163746f7263680a466c6f617453746f726167650a71025801000000307103580300000063707571044b14747105514b054b0585" +
  "71064b018571078963636f6c6c656374696f6e730a4f726465726564446963740a71082952710974710a52710b2e";
// torch.arange(20.).reshape(4, 5)[:, 1]: offset 1, stride 5.
const TORCH_STRIDED =
  "800263746f7263682e5f7574696c730a5f72656275696c645f74656e736f725f76320a71002828580700000073746f" +
  "72616765710163746f7263680a466c6f617453746f726167650a71025801000000307103580300000063707571044b14747105514b014b04" +
  "8571064b058571078963636f6c6c656374696f6e730a4f726465726564446963740a71082952710974710a52710b2e";
// torch.nn.Parameter(torch.tensor([1.0, 2.0])).
const TORCH_PARAMETER =
  "800263746f7263682e5f7574696c730a5f72656275696c645f706172616d657465720a710063746f7263682e5f" +
  "7574696c730a5f72656275696c645f74656e736f725f76320a71012828580700000073746f72616765710263746f7263680a466c6f617453" +
  "746f726167650a71035801000000307104580300000063707571054b02747106514b004b028571074b018571088963636f6c6c656374696f" +
  "6e730a4f726465726564446963740a71092952710a74710b52710c8868092952710d87710e52710f2e";

Deno.test("reads the tensor pickle torch.save writes (protocol 2, cuda location)", () => {
  const t = asTensor(loadPickle(fixturePickle("vitl-f16-1x768-cuda.pt")));
  assertEquals(t.storage.type.name, "HalfStorage");
  assertEquals(t.storage.type.dtype, "float16");
  assertEquals(t.storage.key, "0");
  assertEquals(t.storage.location, "cuda:0");
  assertEquals(t.storage.numel, 768);
  assertEquals([t.offset, t.shape, t.stride], [0, [1, 768], [768, 1]]);
});

Deno.test("reads protocol 4 and 5 pickles (FRAME, SHORT_BINUNICODE, STACK_GLOBAL, MEMOIZE)", () => {
  for (const proto of ["04", "05"]) {
    const t = asTensor(loadPickle(hex("80" + proto + TORCH_PROTO4.slice(4))));
    assertEquals([t.storage.type.dtype, t.storage.numel, t.offset, t.shape, t.stride], [
      "float32",
      3,
      0,
      [3],
      [1],
    ]);
  }
});

Deno.test("reads views: storage offset and strides", () => {
  const v = asTensor(loadPickle(hex(TORCH_VIEW)));
  assertEquals([v.storage.numel, v.offset, v.shape, v.stride], [20, 5, [5], [1]]);
  const s = asTensor(loadPickle(hex(TORCH_STRIDED)));
  assertEquals([s.storage.numel, s.offset, s.shape, s.stride], [20, 1, [4], [5]]);
});

Deno.test("an nn.Parameter loads as its tensor", () => {
  const t = asTensor(loadPickle(hex(TORCH_PARAMETER)));
  assertEquals([t.storage.numel, t.shape], [2, [2]]);
});

Deno.test("writer output is byte-identical to torch.save's pickle", () => {
  const cases: [string, Parameters<typeof dumpTensorPickle>[0]][] = [
    ["vitl-f32-1x768.pt", { numel: 768, offset: 0, shape: [1, 768], stride: [768, 1], dtype: "float32" }],
    ["vitl-f16-768.pt", { numel: 768, offset: 0, shape: [768], stride: [1], dtype: "float16" }],
    ["tiny-sd1-images.pt", { numel: 16, offset: 0, shape: [1, 16], stride: [16, 1], dtype: "float32" }],
  ].map(([file, t]) => {
    const { dtype, ...rest } = t as {
      dtype: "float32" | "float16";
      numel: number;
      offset: number;
      shape: number[];
      stride: number[];
    };
    return [file as string, { type: storageTypeFor(dtype), key: "0", location: "cpu", ...rest }];
  });
  for (const [file, spec] of cases) assertEquals(dumpTensorPickle(spec), fixturePickle(file), file);
  const f32 = storageTypeFor("float32");
  const view = { type: f32, key: "0", location: "cpu", numel: 20 };
  assertEquals(dumpTensorPickle({ ...view, offset: 5, shape: [5], stride: [1] }), hex(TORCH_VIEW));
  assertEquals(dumpTensorPickle({ ...view, offset: 1, shape: [4], stride: [5] }), hex(TORCH_STRIDED));
});

Deno.test("writer encodes large sizes and long shapes the way Python's pickler does", () => {
  const t = {
    type: storageTypeFor("float32"),
    key: "7",
    location: "cpu",
    numel: 3_000_000_000,
    offset: 70_000,
    shape: [2, 3, 4, 5],
    stride: [60, 20, 5, 1],
  };
  const back = asTensor(loadPickle(dumpTensorPickle(t)));
  assertEquals([back.storage.numel, back.offset, back.shape, back.stride], [
    t.numel,
    t.offset,
    t.shape,
    t.stride,
  ]);
  assertEquals(back.storage.key, "7");
});

Deno.test("every torch float storage type is recognized; unknown ones are not", () => {
  assertEquals(storageType("BFloat16Storage")?.dtype, "bfloat16");
  assertEquals(storageType("DoubleStorage")?.itemSize, 8);
  assertEquals(storageType("UntypedStorage"), undefined);
});

Deno.test("refuses any other global, naming it", () => {
  const cases: [Uint8Array, string][] = [
    // The classic exploit: os.system('echo pwned') in protocol 0/2 form.
    [bytes(0x80, 2, "cos\nsystem\n", 0x58, 10, 0, 0, 0, "echo pwned", 0x85, "R."), "os.system"],
    [bytes(0x80, 2, "cposix\nsystem\n", 0x29, "R."), "posix.system"],
    [bytes(0x80, 4, 0x8c, 8, "builtins", 0x8c, 4, "eval", 0x93, 0x29, "R."), "builtins.eval"],
    [bytes(0x80, 2, "ctorch\nload\n."), "torch.load"],
    [bytes(0x80, 2, "ctorch._utils\n_rebuild_tensor\n."), "torch._utils._rebuild_tensor"],
  ];
  for (const [pickle, name] of cases) {
    const err = assertThrows(() => loadPickle(pickle), PickleError);
    assertEquals(err.message, `pickle: refusing global ${name}: only tensor data may be loaded`);
  }
});

Deno.test("a forbidden global hidden inside an otherwise valid tensor pickle is refused", () => {
  // Replace 'collections\nOrderedDict' (the backward-hooks constructor) with 'subprocess\ncheck_output'.
  const good = latin1(hex(TORCH_VIEW));
  const bad = good.replace("collections\nOrderedDict", "subprocess\ncheck_output");
  const err = assertThrows(
    () => loadPickle(fromLatin1(bad)),
    PickleError,
  );
  assertEquals(err.message.includes("subprocess.check_output"), true);
});

Deno.test("refuses object-building opcodes and malformed pickles with a clear reason", () => {
  const cases: [Uint8Array, string][] = [
    [bytes(0x80, 2, 0x5d, 0x7d, "b."), "opcode BUILD is only allowed on a dict"],
    [
      bytes(0x80, 2, "ccollections\nOrderedDict\n", 0x29, 0x81),
      "NEWOBJ on something that is not an allowed class",
    ],
    [bytes(0x80, 2, "S'x'\n."), "opcode STRING is not allowed"],
    [bytes(0x80, 2, 0xff), "unknown opcode 0xff"],
    [bytes(0x80, 6), "unsupported pickle protocol 6"],
    [bytes(0x80, 2, 0x58, 100, 0, 0, 0, "ab"), "truncated"],
    [bytes(0x80, 2, 0x4e), "ended without STOP"],
    [bytes(0x80, 2, "."), "stack underflow"],
    [bytes(0x80, 2, 0x68, 3, "."), "memo key 3 was never stored"],
    [bytes(0x80, 2, 0x4e, 0x4e, "."), "left on the stack"],
    [bytes(0x80, 2, 0x29, 0x4e, "a."), "APPEND on a non-list"],
    [bytes(0x80, 2, 0x4e, 0x29, "Q."), "persistent id is not"],
    [
      bytes(0x80, 2, "ccollections\nOrderedDict\n", 0x4e, 0x85, "R."),
      "OrderedDict with constructor arguments",
    ],
    [bytes(0x80, 2, 0x4e, 0x29, "R."), "REDUCE on something that is not a global"],
  ];
  for (const [pickle, text] of cases) {
    const err = assertThrows(() => loadPickle(pickle), PickleError);
    assertEquals(err.message.includes(text), true, `"${err.message}" should mention "${text}"`);
  }
});

Deno.test("rebuild_tensor_v2 arguments are type-checked", () => {
  const good = latin1(hex(TORCH_VIEW));
  // The persistent id's numel (BININT1 20) becomes BININT -1.
  const bad = good.replace("cpuq\x04K\x14t", "cpuq\x04J\xff\xff\xff\xfft");
  const err = assertThrows(
    () => loadPickle(fromLatin1(bad)),
    PickleError,
  );
  assertEquals(err.message.includes("storage size -1 is not a non-negative integer"), true, err.message);
});

Deno.test("data opcodes build dicts, lists, tuples, ints, floats and strings", () => {
  // {'a': [1, -2, 3.5, None, True], 'b': (b'\x01',), 7: 2**70}
  const pickle = bytes(
    0x80,
    2,
    0x7d,
    0x71,
    0,
    0x28,
    0x58,
    1,
    0,
    0,
    0,
    "a",
    0x5d,
    0x28,
    0x4b,
    1,
    0x4a,
    0xfe,
    0xff,
    0xff,
    0xff,
    0x47,
    0x40,
    0x0c,
    0,
    0,
    0,
    0,
    0,
    0,
    0x4e,
    0x88,
    0x65,
    0x58,
    1,
    0,
    0,
    0,
    "b",
    0x43,
    1,
    1,
    0x85,
    0x4b,
    7,
    0x8a,
    9,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0x40,
    0x75,
    ".",
  );
  const d = loadPickle(pickle);
  ok(d instanceof PickleDict);
  assertEquals(d.entries.get("a"), [1, -2, 3.5, null, true]);
  assertEquals(d.entries.get("b"), [new Uint8Array([1])]);
  assertEquals(d.entries.get(7), 2n ** 70n);
});

Deno.test("A1111's inert globals (numpy scalars, Lightning's callback class) load as opaque values", () => {
  // {ModelCheckpoint: {"s": numpy.float64(1.5)}} as numpy 1 + Lightning 1.x pickled it under protocol 2.
  const pickle = bytes(
    0x80,
    2,
    0x7d,
    "(",
    "cpytorch_lightning.callbacks.model_checkpoint\nModelCheckpoint\n",
    0x7d,
    "(",
    0x58,
    1,
    0,
    0,
    0,
    "s",
    "cnumpy.core.multiarray\nscalar\n",
    "cnumpy\ndtype\n",
    0x58,
    2,
    0,
    0,
    0,
    "f8",
    0x89,
    0x88,
    0x87,
    "R",
    "(",
    0x4b,
    3,
    0x58,
    1,
    0,
    0,
    0,
    "<",
    0x4e,
    0x4e,
    0x4e,
    0x4a,
    0xff,
    0xff,
    0xff,
    0xff,
    0x4a,
    0xff,
    0xff,
    0xff,
    0xff,
    0x4b,
    0,
    "tb",
    "c_codecs\nencode\n",
    0x58,
    9,
    0,
    0,
    0,
    "\0\0\0\0\0\0\xf8?", /* UTF-8: 9 bytes */
    0x58,
    6,
    0,
    0,
    0,
    "latin1",
    0x86,
    "R",
    0x86,
    "R",
    "u",
    "u.",
  );
  const root = loadPickle(pickle) as PickleDict;
  const [[key, value]] = [...root.entries];
  assertEquals(key, {
    kind: "global",
    module: "pytorch_lightning.callbacks.model_checkpoint",
    name: "ModelCheckpoint",
  });
  assertEquals((value as PickleDict).entries.get("s"), {
    kind: "opaque",
    of: "numpy.core.multiarray.scalar",
  });
  // Instantiating the callback gives a placeholder too; its state is dropped, nothing is constructed.
  const obj = bytes(
    0x80,
    2,
    "cpytorch_lightning.callbacks.model_checkpoint\nModelCheckpoint\n",
    0x29,
    0x81,
    0x7d,
    "b.",
  );
  assertEquals(loadPickle(obj), {
    kind: "opaque",
    of: "pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint",
  });
  // Only the allowed names: other numpy, codecs or builtins functions stay refused.
  for (const g of ["numpy\nload\n", "_codecs\ndecode\n", "builtins\neval\n", "__builtin__\ngetattr\n"]) {
    assertThrows(() => loadPickle(bytes(0x80, 2, `c${g}`, 0x29, "R.")), PickleError);
  }
});

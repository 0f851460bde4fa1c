import { deepStrictEqual as assertEquals, ok, throws } from "node:assert";
import { join } from "node:path";
import { unzipSync, zipSync } from "fflate";
import { dumpTensorPickle, type StorageDtype, storageTypeFor } from "../../../lib/io/pickle.ts";
import { isTorchZip, readTorchTensor, TorchFileError, writeTorchTensor } from "../../../lib/io/torch_pt.ts";
import { InputError, InputLimitError } from "../../../lib/io/input_error.ts";
import { FIXTURES, readRef, refs, type TensorRef } from "../../fixtures.ts";

interface EmbeddingRef {
  file: string;
  shape: number[];
  dtype: string;
  location: string;
  values: TensorRef;
}

const fixture = (file: string) => Deno.readFileSync(join(FIXTURES, "embeddings", file));

/** A torch-style archive around a pickle and raw storages, built here so each test controls every byte. */
function archive(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array>,
  extra: Record<string, string> = {},
) {
  const files: Record<string, Uint8Array> = { "archive/data.pkl": pickle };
  for (const [key, data] of Object.entries(storages)) files[`archive/data/${key}`] = data;
  for (const [name, text] of Object.entries(extra)) files[`archive/${name}`] = new TextEncoder().encode(text);
  files["archive/version"] ??= new TextEncoder().encode("3\n");
  return zipSync(files, { level: 0 });
}

function tensorPickle(dtype: StorageDtype, numel: number, shape: number[], stride: number[], offset = 0) {
  return dumpTensorPickle({
    type: storageTypeFor(dtype),
    key: "0",
    location: "cpu",
    numel,
    offset,
    shape,
    stride,
  });
}

function rejects(fn: () => unknown, text: string) {
  throws(fn, (e: Error) => {
    ok(e.message.includes(text), `"${e.message}" should mention "${text}"`);
    return true;
  });
}

for (const ref of refs().embeddings as EmbeddingRef[]) {
  Deno.test(`fixture ${ref.file} reads exactly: ${ref.dtype} [${ref.shape}] from ${ref.location}`, () => {
    const t = readTorchTensor(fixture(ref.file), ref.file);
    assertEquals(t.shape, ref.shape);
    assertEquals(t.dtype, ref.dtype);
    assertEquals(t.location, ref.location);
    assertEquals(t.data, readRef(ref.values));
  });
}

Deno.test("write → read round trip, float32 and float16 (float16 rounds to nearest even like torch .half())", () => {
  const data = Float32Array.from({ length: 768 }, (_, i) => Math.sin(i * 0.37) * 0.05);
  const f32 = readTorchTensor(writeTorchTensor(data, [1, 768]));
  assertEquals([f32.shape, f32.dtype, f32.location], [[1, 768], "float32", "cpu"]);
  assertEquals(f32.data, data);
  const f16 = readTorchTensor(writeTorchTensor(data, [768], { dtype: "float16" }));
  assertEquals([f16.shape, f16.dtype], [[768], "float16"]);
  assertEquals(f16.data, data.map((v) => Math.f16round(v)));
  // Halfway cases: 1 + 2^-11 lies between 1 and 1 + 2^-10 and rounds to the even mantissa (1).
  const ties = readTorchTensor(
    writeTorchTensor(new Float32Array([1 + 2 ** -11, 1 + 3 * 2 ** -11]), [2], { dtype: "float16" }),
  );
  assertEquals(ties.data, new Float32Array([1, 1 + 2 ** -9]));
});

Deno.test("writer output is structurally what torch.save writes", () => {
  const data = readTorchTensor(fixture("vitl-f32-1x768.pt")).data;
  const out = writeTorchTensor(data, [1, 768]);
  const files = unzipSync(out);
  assertEquals(Object.keys(files), [
    "archive/data.pkl",
    "archive/.format_version",
    "archive/.storage_alignment",
    "archive/byteorder",
    "archive/data/0",
    "archive/version",
  ]);
  const torch = unzipSync(fixture("vitl-f32-1x768.pt"));
  for (const name of Object.keys(files)) assertEquals(files[name], torch[name], name);

  // Every record is stored (method 0) with its data 64-byte aligned, as torch's writer pads them.
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let offset = 0;
  for (const name of Object.keys(files)) {
    assertEquals(view.getUint32(offset, true), 0x04034b50, `local header of ${name}`);
    assertEquals(view.getUint16(offset + 8, true), 0, `${name} is stored`);
    const nameLen = view.getUint16(offset + 26, true), extraLen = view.getUint16(offset + 28, true);
    assertEquals(new TextDecoder().decode(out.subarray(offset + 30, offset + 30 + nameLen)), name);
    const start = offset + 30 + nameLen + extraLen;
    assertEquals(start % 64, 0, `${name} data starts at ${start}`);
    offset = start + files[name].length;
  }
});

Deno.test("the archive folder is whatever name the file uses", () => {
  const out = writeTorchTensor(new Float32Array([1, 2]), [2], { archiveName: "sac_8plus" });
  assertEquals(Object.keys(unzipSync(out))[0], "sac_8plus/data.pkl");
  assertEquals(readTorchTensor(out).data, new Float32Array([1, 2]));
  rejects(() => writeTorchTensor(new Float32Array([1]), [1], { archiveName: "../x" }), "plain file stem");
});

Deno.test("storage offsets and strides select the right elements", () => {
  const storage = new Float32Array(20).map((_, i) => i);
  const raw = new Uint8Array(storage.buffer);
  const row = readTorchTensor(archive(tensorPickle("float32", 20, [5], [1], 5), { 0: raw }));
  assertEquals(row.data, new Float32Array([5, 6, 7, 8, 9]));
  const column = readTorchTensor(archive(tensorPickle("float32", 20, [4], [5], 1), { 0: raw }));
  assertEquals(column.data, new Float32Array([1, 6, 11, 16]));
  const transposed = readTorchTensor(archive(tensorPickle("float32", 20, [1, 4], [1, 5], 2), { 0: raw }));
  assertEquals([transposed.shape, transposed.data], [[1, 4], new Float32Array([2, 7, 12, 17])]);
});

Deno.test("bfloat16, float64 and big-endian storages decode", () => {
  // bfloat16 [1, 2, -0.5] is the top half of each float32.
  const bf16 = new Uint8Array([0x80, 0x3f, 0x00, 0x40, 0x00, 0xbf]);
  const b = readTorchTensor(
    archive(tensorPickle("bfloat16", 3, [3], [1]), { 0: bf16 }, { byteorder: "little" }),
  );
  assertEquals([b.dtype, b.data], ["bfloat16", new Float32Array([1, 2, -0.5])]);
  const f64 = new Uint8Array(new Float64Array([0.1, -3]).buffer);
  const d = readTorchTensor(archive(tensorPickle("float64", 2, [1, 2], [2, 1]), { 0: f64 }));
  assertEquals([d.dtype, d.data], ["float64", new Float32Array([0.1, -3])]);
  const be = new Uint8Array([0x3c, 0x00, 0xc0, 0x00]); // float16 big-endian [1, -2]
  const h = readTorchTensor(archive(tensorPickle("float16", 2, [2], [1]), { 0: be }, { byteorder: "big" }));
  assertEquals(h.data, new Float32Array([1, -2]));
});

Deno.test("hostile and broken files are refused with clear errors", () => {
  const good = writeTorchTensor(new Float32Array([1, 2, 3]), [3]);
  const osSystem = new Uint8Array([
    0x80,
    2,
    ...new TextEncoder().encode("cos\nsystem\nX\x0a\x00\x00\x00echo pwned\x85R."),
  ]);
  const cases: [string, () => Uint8Array, string][] = [
    ["pickle calling os.system", () => archive(osSystem, {}), "refusing global os.system"],
    [
      "storage declared far larger than the data",
      () => archive(tensorPickle("float32", 1_000_000, [1_000_000], [1]), { 0: new Uint8Array(12) }),
      "storage declares 1000000 float32 values (4000000 bytes) but archive/data/0 holds only 12 bytes",
    ],
    [
      "view reaching past its storage",
      () => archive(tensorPickle("float32", 3, [3], [1], 2), { 0: new Uint8Array(12) }),
      "reaches past its storage of 3 values",
    ],
    [
      "stride 0 repeating one stored value 2^29 times (a 2 GB tensor from 600 bytes)",
      () => archive(tensorPickle("float32", 1, [1 << 29], [0]), { 0: new Uint8Array(4) }),
      "has 536870912 elements but its storage holds 1",
    ],
    [
      "stride 0 over a second axis",
      () => archive(tensorPickle("float32", 4, [4, 1000], [1, 0]), { 0: new Uint8Array(16) }),
      "has 4000 elements but its storage holds 4",
    ],
    [
      "negative stride",
      () => archive(tensorPickle("float32", 3, [3], [-1], 2), { 0: new Uint8Array(12) }),
      "tensor stride is not a tuple of non-negative integers",
    ],
    [
      "negative offset",
      () => archive(tensorPickle("float32", 3, [3], [1], -1), { 0: new Uint8Array(12) }),
      "storage offset -1 is not a non-negative integer",
    ],
    [
      "negative size",
      () => archive(tensorPickle("float32", 3, [-3], [1]), { 0: new Uint8Array(12) }),
      "tensor size is not a tuple of non-negative integers",
    ],
    [
      "storage entry missing",
      () => archive(tensorPickle("float32", 3, [3], [1]), {}),
      "storage archive/data/0 named by data.pkl is missing",
    ],
    ["not a zip", () => new TextEncoder().encode("hello, I am a text file"), "not a zip archive"],
    [
      "zip without data.pkl",
      () => zipSync({ "archive/version": new Uint8Array([51]) }),
      "no <archive>/data.pkl",
    ],
    ["truncated zip", () => good.slice(0, good.length - 40), "corrupt or truncated zip"],
    ["truncated mid-file", () => good.slice(0, 300), "corrupt or truncated zip"],
    [
      "a state dict instead of a tensor",
      () => archive(new Uint8Array([0x80, 2, 0x7d, 0x58, 1, 0, 0, 0, 0x77, 0x4e, 0x73, 0x2e]), {}),
      "holds a dict (keys: w) rather than a single tensor",
    ],
    [
      "an integer tensor",
      () => archive(tensorPickle("int64", 1, [1], [1]), { 0: new Uint8Array(8) }),
      "has dtype int64; an embedding must be floating point",
    ],
    [
      "unknown byteorder",
      () => archive(tensorPickle("float32", 1, [1], [1]), { 0: new Uint8Array(4) }, { byteorder: "middle" }),
      'unknown byteorder "middle"',
    ],
    [
      "legacy pre-1.6 format",
      () => new Uint8Array([0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]),
      "legacy",
    ],
  ];
  for (const [what, make, text] of cases) {
    const bytes = make();
    throws(() => readTorchTensor(bytes, "x.pt"), (e: Error) => {
      ok(e.message.startsWith("x.pt: "), `${what}: "${e.message}" should name the file`);
      ok(e.message.includes(text), `${what}: "${e.message}" should mention "${text}"`);
      return true;
    });
  }
});

Deno.test("maxElements refuses a larger tensor before gathering it, as InputLimitError", () => {
  const bytes = writeTorchTensor(new Float32Array(100), [1, 100]);
  throws(() => readTorchTensor(bytes, "x.pt", { maxElements: 99 }), (e: Error) => {
    ok(e instanceof InputLimitError, e.name);
    ok(e.message.includes("x.pt: tensor has 100 elements, over the limit of 99"), e.message);
    return true;
  });
  assertEquals(readTorchTensor(bytes, "x.pt", { maxElements: 100 }).data.length, 100);
  // The view checks are input errors too, so a front end can answer them as such.
  const repeated = archive(tensorPickle("float32", 1, [8], [0]), { 0: new Uint8Array(4) });
  throws(() => readTorchTensor(repeated), (e: Error) => e instanceof TorchFileError);
  throws(
    () => readTorchTensor(archive(tensorPickle("float32", 1, [1], [-1]), {})),
    (e: Error) => e instanceof InputError,
  );
});

Deno.test("an entry whose declared size runs past the end of the file is refused", () => {
  // fflate copies stored entries without checking sizes or CRCs, so claim 4000 bytes for the last record.
  const files = unzipSync(writeTorchTensor(new Float32Array([1, 2, 3]), [3]));
  const bytes = zipSync({
    "archive/data.pkl": files["archive/data.pkl"],
    "archive/data/0": files["archive/data/0"],
  }, {
    level: 0,
  });
  const view = new DataView(bytes.buffer);
  const central = bytes.findLastIndex((_, i) =>
    i + 4 <= bytes.length && view.getUint32(i, true) === 0x02014b50
  );
  ok(new TextDecoder().decode(bytes.subarray(central + 46, central + 46 + 14)) === "archive/data/0");
  view.setUint32(central + 20, 4000, true);
  view.setUint32(central + 24, 4000, true);
  rejects(() => readTorchTensor(bytes, "x.pt"), "archive/data/0 is truncated");
});

Deno.test("isTorchZip looks only at the magic", () => {
  ok(isTorchZip(fixture("tiny-random-f16.pt")));
  ok(!isTorchZip(new Uint8Array([0x80, 2])));
});

Deno.test("shape must match the data", () => {
  rejects(() => writeTorchTensor(new Float32Array(3), [1, 4]), "does not hold 3 values");
});

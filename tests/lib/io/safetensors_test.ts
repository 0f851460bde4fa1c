import { deepStrictEqual as assertEquals, ok, throws } from "node:assert";
import {
  looksLikeSafetensors,
  readSafetensors,
  SafetensorsError,
  writeSafetensors,
} from "../../../lib/io/safetensors.ts";

const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((b) => parseInt(b, 16)));

// Written by the reference implementation (python safetensors 0.7.0, safetensors.torch.save) at dev time:
// {"embedding": tensor([[1, -2, 0.5]]).half()} with metadata {"model": "tiny-sd1", "images": "3"} …
const REF_F16_META =
  "78000000000000007b225f5f6d657461646174615f5f223a7b226d6f64656c223a2274696e792d736431222c2269" +
  "6d61676573223a2233227d2c22656d62656464696e67223a7b226474797065223a22463136222c227368617065223a5b312c335d2c226461" +
  "74615f6f666673657473223a5b302c365d7d7d20202020202020003c00c00038";
// … and the same values as float32 without metadata.
const REF_F32 =
  "48000000000000007b22656d62656464696e67223a7b226474797065223a22463332222c227368617065223a5b312c335d2c" +
  "22646174615f6f666673657473223a5b302c31325d7d7d202020202020200000803f000000c00000003f";

/** A file from a header object and a data section, for hand-made broken files. */
function file(header: unknown, data = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

Deno.test("reads files written by the reference implementation", () => {
  const a = readSafetensors(hex(REF_F16_META));
  assertEquals(a.metadata, { model: "tiny-sd1", images: "3" });
  assertEquals(a.tensors.map((t) => [t.name, t.shape, t.dtype]), [["embedding", [1, 3], "float16"]]);
  assertEquals(a.tensors[0].data, new Float32Array([1, -2, 0.5]));
  const b = readSafetensors(hex(REF_F32));
  assertEquals([b.metadata, b.tensors[0].dtype, b.tensors[0].data], [
    {},
    "float32",
    new Float32Array([1, -2, 0.5]),
  ]);
});

Deno.test("writes byte-identical output to the reference implementation", () => {
  const data = new Float32Array([1, -2, 0.5]);
  const meta = { model: "tiny-sd1", images: "3" };
  assertEquals(
    writeSafetensors([{ name: "embedding", data, shape: [1, 3], dtype: "float16" }], meta),
    hex(REF_F16_META),
  );
  assertEquals(
    writeSafetensors([{ name: "embedding", data, shape: [1, 3], dtype: "float32" }]),
    hex(REF_F32),
  );
});

Deno.test("round trips several tensors, metadata, float16 and float32; header padded to 8 bytes", () => {
  const a = Float32Array.from({ length: 768 }, (_, i) => Math.cos(i) * 0.1);
  const b = new Float32Array([3, 4]);
  const meta = {
    source_model: "openai/clip-vit-large-patch14",
    image_count: "42",
    date: "2024-05-01",
    "ünï": "çødé",
  };
  const bytes = writeSafetensors([
    { name: "a", data: a, shape: [1, 768], dtype: "float16" },
    { name: "b", data: b, shape: [2], dtype: "float32" },
  ], meta);
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assertEquals(headerLen % 8, 0);
  const back = readSafetensors(bytes);
  assertEquals(back.metadata, meta);
  assertEquals(back.tensors.map((t) => [t.name, t.shape, t.dtype]), [["a", [1, 768], "float16"], [
    "b",
    [2],
    "float32",
  ]]);
  assertEquals(back.tensors[0].data, a.map((v) => Math.f16round(v)));
  assertEquals(back.tensors[1].data, b);
});

Deno.test("bfloat16 and float64 tensors decode", () => {
  const f = readSafetensors(file({
    x: { dtype: "BF16", shape: [2], data_offsets: [0, 4] },
    y: { dtype: "F64", shape: [1], data_offsets: [4, 12] },
  }, new Uint8Array([0x80, 0x3f, 0x00, 0xc0, ...new Uint8Array(new Float64Array([0.25]).buffer)])));
  assertEquals(f.tensors.map((t) => [t.dtype, [...t.data]]), [["bfloat16", [1, -2]], ["float64", [0.25]]]);
});

Deno.test("malformed files are refused with a reason", () => {
  const f32 = (offsets: number[], shape = [1]) => ({ dtype: "F32", shape, data_offsets: offsets });
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(4), "too short"],
    [
      (() => {
        const b = file({});
        new DataView(b.buffer).setBigUint64(0, 1000n, true);
        return b;
      })(),
      "header length 1000 runs past the end",
    ],
    [file({ x: f32([0, 4]) }, new Uint8Array(2)), "ends at byte 4 but the data section has 2"],
    [file({ x: f32([0, 8]) }, new Uint8Array(8)), "declares 1 values (4 bytes) but spans 8 bytes"],
    [file({ x: f32([0, 4]), y: f32([2, 6]) }, new Uint8Array(8)), "(overlap or gap)"],
    [file({ x: f32([4, 8]) }, new Uint8Array(8)), "starts at byte 4, expected 0"],
    [file({ x: f32([0, 4]) }, new Uint8Array(8)), "4 trailing bytes"],
    [file({ x: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8)), 'dtype "I64"'],
    [file({ x: f32([0, 4], [-1]) }, new Uint8Array(4)), "invalid shape"],
    [file({ x: f32([4, 0]) }), "invalid data_offsets"],
    [file({ __metadata__: { n: 3 } }), "__metadata__.n is not a string"],
    [file([1, 2]), "header is not an object"],
    [
      (() => {
        const b = file({ x: 1 });
        b[9] = 0x7b; // '{{…' is not JSON
        return b;
      })(),
      "not valid JSON",
    ],
  ];
  for (const [bytes, text] of cases) {
    throws(() => readSafetensors(bytes, "e.safetensors"), (e: Error) => {
      ok(e instanceof SafetensorsError, `${text}: ${e.name} is not an input error`);
      ok(
        e.message.startsWith("e.safetensors: ") && e.message.includes(text),
        `"${e.message}" should say "${text}"`,
      );
      return true;
    });
  }
});

Deno.test("writer checks names and shapes", () => {
  const data = new Float32Array(2);
  throws(
    () => writeSafetensors([{ name: "x", data, shape: [3], dtype: "float32" }]),
    /does not hold 2 values/,
  );
  throws(() => writeSafetensors([{ name: "__metadata__", data, shape: [2], dtype: "float32" }]), /reserved/);
});

Deno.test("looksLikeSafetensors recognizes the header, not zips or text", () => {
  ok(looksLikeSafetensors(hex(REF_F32)));
  ok(!looksLikeSafetensors(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0])));
  ok(!looksLikeSafetensors(new TextEncoder().encode("just some text here")));
});

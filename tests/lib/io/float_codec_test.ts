import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { decodeFloats, encodeFloats } from "../../../lib/io/float_codec.ts";

Deno.test("float16 encodes little-endian with round-to-nearest-even, overflow to infinity", () => {
  const bytes = encodeFloats(new Float32Array([1, -2, 65504, 1 + 2 ** -11, 1e-8, 70000]), "float16");
  assertEquals([...new Uint16Array(bytes.buffer)], [0x3c00, 0xc000, 0x7bff, 0x3c00, 0x0000, 0x7c00]);
  assertEquals(bytes.subarray(0, 2), new Uint8Array([0x00, 0x3c]));
});

Deno.test("every dtype decodes, in either byte order", () => {
  assertEquals(
    decodeFloats(new Uint8Array([0x00, 0x3c, 0x01, 0x00]), "float16"),
    new Float32Array([1, 2 ** -24]),
  );
  assertEquals(decodeFloats(new Uint8Array([0x3c, 0x00]), "float16", false), new Float32Array([1]));
  assertEquals(decodeFloats(new Uint8Array([0x49, 0x40]), "bfloat16"), new Float32Array([3.140625]));
  assertEquals(decodeFloats(new Uint8Array([0x40, 0x49]), "bfloat16", false), new Float32Array([3.140625]));
  assertEquals(
    decodeFloats(encodeFloats(new Float32Array([0.1]), "float32"), "float32"),
    new Float32Array([0.1]),
  );
  assertEquals(
    decodeFloats(new Uint8Array(new Float64Array([0.1]).buffer), "float64"),
    new Float32Array([0.1]),
  );
});

Deno.test("a byte count that is not a whole number of values is refused", () => {
  throws(() => decodeFloats(new Uint8Array(3), "float16"), /3 bytes is not a whole number of float16 values/);
});

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { release } from "../../../lib/io/release.ts";

Deno.test("release detaches a typed array that owns its whole buffer", () => {
  const a = new Float32Array(1024).fill(1);
  assert(release(a));
  assertEquals(a.length, 0);
  assertEquals(a.buffer.byteLength, 0);
  // Twice is harmless.
  assertEquals(release(a), false);
});

Deno.test("release leaves views that share their buffer untouched", () => {
  const whole = new Uint8Array(64).fill(7);
  const part = whole.subarray(8, 16);
  assertEquals(release(part), false);
  assertEquals(part.length, 8);
  assertEquals(whole[10], 7);
  const shared = new Uint8Array(new SharedArrayBuffer(16));
  assertEquals(release(shared), false);
  assertEquals(shared.length, 16);
});

Deno.test("release takes the buffers sharp decodes into", async () => {
  const { default: sharp } = await import("sharp");
  const jpeg = await sharp({ create: { width: 512, height: 512, channels: 3, background: "#336699" } }).jpeg()
    .toBuffer();
  const { data } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  assertEquals(data.length, 512 * 512 * 3);
  assert(release(data));
  assertEquals(data.length, 0);
});

// Pixels ↔ the VAE's tensors, against the fixtures' reference decoder and encoder outputs.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { decodeLatents, encodeImage, fitImage, imageToTensor } from "../../../lib/diffusion/vae.ts";
import { openSession } from "../../../lib/onnx/session.ts";
import { assertClose, MODELS, readRef, refs } from "../../fixtures.ts";

Deno.test("pixels map to [−1, 1] channel-first", () => {
  const img = { width: 2, height: 1, data: Uint8Array.of(0, 255, 51, 255, 0, 102) };
  // float32 as torch computes it: 102/255 → 0.4f, 2·0.4f − 1 = −0.19999998807907104 (not −0.2f).
  assertEquals(Array.from(imageToTensor(img)), [-1, 1, 1, -1, Math.fround(-0.6), -0.19999998807907104]);
});

Deno.test("fitImage resizes only when the size differs", async () => {
  const img = { width: 4, height: 4, data: new Uint8Array(48).fill(200) };
  assertEquals(await fitImage(img, 4, 4), img);
  const big = await fitImage(img, 8, 6);
  assertEquals([big.width, big.height, big.data.length, big.data[0]], [8, 6, 8 * 6 * 3, 200]);
});

Deno.test("decode: (x/2 + 0.5) clamped, from latents ×scaling factor, against the reference decoder", async () => {
  const e = refs().onnx_models.find((m: { model: string }) => m.model === "tiny-sd1");
  const decoder = await openSession(join(MODELS, "tiny-sd1", "vae_decoder", "model.onnx"));
  const latent = readRef(e.vae_decoder.latent_sample);
  const want = readRef(e.vae_decoder.sample); // 1 × 3 × 64 × 64, raw decoder output
  const { images, float } = await decodeLatents(
    decoder,
    latent.map((v) => v * 0.18215),
    [1, 4, 8, 8],
    0.18215,
  );
  const hwc = new Float32Array(64 * 64 * 3);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < 64 * 64; p++) hwc[p * 3 + c] = Math.min(Math.max(want[c * 4096 + p] / 2 + 0.5, 0), 1);
  }
  assertClose(float, hwc, 1e-5, "decoded pixels");
  assertClose(Float32Array.from(images[0].data, (v) => v / 255), hwc, 0.5 / 255 + 1e-5, "8-bit pixels");
  await decoder.release();
});

Deno.test("encode: mean and logvar for each latent cell (values are checked by the img2img parity test)", async () => {
  const encoder = await openSession(join(MODELS, "tiny-sd1", "vae_encoder", "model.onnx"));
  const img = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).fill(128) };
  assertEquals((await encodeImage(encoder, img)).length, 2 * 4 * 8 * 6);
  await encoder.release();
});

// Tiled VAE decode and encode against diffusers' AutoencoderKL with enable_tiling() on the tiny-sd1 VAE
// (tests/fixtures/fx_vae_tiling.py), at sizes that tile both ways with partial last tiles.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { decodeLatents, encodePixels } from "../../../lib/diffusion/vae.ts";
import { needsTiles, vaeTiling } from "../../../lib/diffusion/vae_tiling.ts";
import { openSession } from "../../../lib/onnx/session.ts";
import { assertClose, FIXTURES, maxAbsDiff, MODELS, readRef, type TensorRef } from "../../fixtures.ts";

interface TilingRefs {
  tile_sample_min_size: number;
  tile_latent_min_size: number;
  decode: { latents: TensorRef; image: TensorRef };
  encode: { height: number; width: number; moments: TensorRef };
}

const refs: TilingRefs = JSON.parse(
  Deno.readTextFileSync(join(FIXTURES, "refs", "vae_tiling", "manifest.json")),
);
const vaeConfig = JSON.parse(Deno.readTextFileSync(join(MODELS, "tiny-sd1", "vae_decoder", "config.json")));
const tiling = vaeTiling(vaeConfig);

Deno.test("tile sizes follow diffusers: sample_size pixels, sample_size / 2^(blocks − 1) latent cells", () => {
  assertEquals(tiling, { sampleTile: refs.tile_sample_min_size, latentTile: refs.tile_latent_min_size });
  assertEquals(vaeTiling({ sample_size: [1024, 1024], block_out_channels: [1, 2, 3, 4] }), {
    sampleTile: 1024,
    latentTile: 128,
  });
  assertEquals([needsTiles(8, 8, 8), needsTiles(8, 9, 8)], [false, true]);
});

/** B × 3 × H × W → the pipeline's B × H × W × 3. */
function toHwc(x: Float32Array, [b, c, h, w]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < c; k++) {
      for (let p = 0; p < h * w; p++) out[(i * h * w + p) * c + k] = x[(i * c + k) * h * w + p];
    }
  }
  return out;
}

Deno.test("tiled decode: a batch of two, pixels within 1/255 of diffusers' tiled decode", async () => {
  const decoder = await openSession(join(MODELS, "tiny-sd1", "vae_decoder", "model.onnx"), { threads: 1 });
  const latents = readRef(refs.decode.latents);
  const shape = refs.decode.latents.shape as [number, number, number, number];
  const want = toHwc(readRef(refs.decode.image), refs.decode.image.shape);
  const tiled = await decodeLatents(decoder, latents, shape, 1, tiling);
  assertEquals(tiled.images.map((i) => [i.width, i.height]), [[96, 80], [96, 80]]);
  assertClose(tiled.float, want, 1 / 255, "tiled decode");
  // The case really tiles: the whole-image decode is further from diffusers' tiled output.
  const whole = await decodeLatents(decoder, latents, shape, 1);
  const d = maxAbsDiff(whole.float, want);
  if (!(d > 1e-3)) throw new Error(`the untiled decode is as close (${d}): the case does not tile`);
  await decoder.release();
});

Deno.test("tiled encode: mean and logvar of a 112×80 pattern match diffusers' tiled encode", async () => {
  const encoder = await openSession(join(MODELS, "tiny-sd1", "vae_encoder", "model.onnx"), { threads: 1 });
  const { height, width } = refs.encode;
  const f = Math.fround;
  const pixels = new Float32Array(3 * height * width);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        pixels[(c * height + y) * width + x] = f(f(2 * f(((7 * x + 13 * y + 29 * c) % 256) / 255)) - 1);
      }
    }
  }
  const want = readRef(refs.encode.moments);
  const tiled = await encodePixels(encoder, pixels, width, height, tiling);
  assertEquals(tiled.length, want.length);
  assertClose(tiled, want, 1e-4, "tiled moments");
  const whole = await encodePixels(encoder, pixels, width, height);
  if (!(maxAbsDiff(whole, want) > 1e-3)) {
    throw new Error("the untiled encode is as close: the case does not tile");
  }
  await encoder.release();
});

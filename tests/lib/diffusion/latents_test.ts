// Latent arithmetic: diffusers' get_timesteps cut, guidance, the VAE posterior sample and NaN detection.
import { deepStrictEqual as assertEquals, throws } from "node:assert";
import {
  firstNonFinite,
  guide,
  img2imgTimesteps,
  initialLatents,
  sampleLatentDist,
} from "../../../lib/diffusion/latents.ts";
import { TorchGenerator } from "../../../lib/diffusion/torch_rng.ts";

Deno.test("img2img keeps the last ⌊steps·strength⌋ timesteps", () => {
  const ts = [900, 700, 500, 300, 100];
  assertEquals(img2imgTimesteps(ts, 5, 1), ts);
  assertEquals(img2imgTimesteps(ts, 5, 0.6), [500, 300, 100]);
  assertEquals(img2imgTimesteps(ts, 5, 0.59), [300, 100]);
  assertEquals(img2imgTimesteps(ts, 5, 0.1), []);
});

Deno.test("guidance: uncond + s·(cond − uncond)", () => {
  const out = new Float32Array(2);
  guide(Float32Array.of(1, -2), Float32Array.of(3, 2), 7.5, out);
  assertEquals(Array.from(out), [16, 28]);
});

Deno.test("starting latents are the noise times the initial sigma", () => {
  const noise = new TorchGenerator(7).randn([1, 4, 2, 2]);
  const plain = initialLatents(noise.slice(), 1);
  assertEquals(plain, noise);
  const scaled = initialLatents(noise.slice(), 2);
  assertEquals(scaled, noise.map((v) => 2 * v));
});

Deno.test("posterior sample: scale·(mean + exp(logvar/2)·ε), logvar clamped to [−30, 20]", () => {
  const n = 4;
  const moments = Float32Array.of(1, 2, 3, 4, 0, Math.log(4), -100, 100);
  const eps = new TorchGenerator(3).randn([1, 1, 2, 2]);
  const got = sampleLatentDist(moments, new TorchGenerator(3), [1, 1, 2, 2], 0.5);
  const std = [1, 2, Math.exp(-15), Math.exp(10)];
  for (let i = 0; i < n; i++) {
    const want = 0.5 * (moments[i] + std[i] * eps[i]);
    if (Math.abs(got[i] - want) > 1e-5 * Math.max(1, Math.abs(want))) {
      throw new Error(`${i}: ${got[i]} vs ${want}`);
    }
  }
  throws(() => sampleLatentDist(moments.subarray(1), new TorchGenerator(3), [1, 1, 2, 2], 1), /expected 8/);
});

Deno.test("firstNonFinite finds NaN and infinities", () => {
  assertEquals(firstNonFinite(Float32Array.of(0, 1, 2)), -1);
  assertEquals(firstNonFinite(Float32Array.of(0, NaN)), 1);
  assertEquals(firstNonFinite(Float32Array.of(Infinity)), 0);
});

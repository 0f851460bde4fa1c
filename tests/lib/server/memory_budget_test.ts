// The memory budget: the estimate follows the UNet's attention layout and the VAE's, chooses the tiled VAE when
// the whole-image one would not fit, and refuses what is over --max-memory either way.
import { deepStrictEqual as assertEquals, ok, throws } from "node:assert";
import { TINY_DEMO_MODEL_DIR } from "../../../lib/models/defaults.ts";
import {
  attentionLayout,
  estimatePeakBytes,
  isLargeJob,
  planMemory,
} from "../../../lib/server/memory_budget.ts";

const GB = 2 ** 30;
const layout = (await attentionLayout(TINY_DEMO_MODEL_DIR))!;
const job = (s: number, batchSize = 1) => ({ width: s, height: s, batchSize });

Deno.test("the tiny demo's layout: 4 heads at full latent resolution; its VAE tiles at 64 pixels", () => {
  assertEquals([layout.heads, layout.level], [4, 0]);
  ok(layout.weightBytes > 1e6 && layout.weightBytes < 1e8, String(layout.weightBytes));
  assertEquals(layout.vae, {
    factor: 8,
    channels: 8,
    attention: true,
    tiling: { sampleTile: 64, latentTile: 8 },
  });
});

Deno.test("the estimate covers what was measured and grows with the square of the area and with the batch", () => {
  const at = (s: number, batchSize = 1) => estimatePeakBytes(layout, job(s, batchSize));
  // Measured peaks (CPU, Euler, 1 step, whole-image VAE): 384² 1.0 GB, 448² 1.7 GB, 512² 2.7 GB, 384² batch 2
  // 1.8 GB.
  for (const [s, b, measured] of [[384, 1, 1.0], [448, 1, 1.7], [512, 1, 2.7], [384, 2, 1.8]]) {
    ok(at(s, b) >= measured * GB, `${s}² batch ${b}: ${at(s, b) / GB} GB`);
    ok(at(s, b) < 2 * measured * GB, `not wildly above the measure at ${s}²`);
  }
  ok(at(1024) > 16 * (at(512) - at(8)) / 1.01);
  // The hires fix's second pass and encoding count.
  ok(estimatePeakBytes(layout, { ...job(256), largest: { width: 512, height: 512 } }) === at(512));
  ok(estimatePeakBytes(layout, { ...job(512), encodes: true }) > at(512));
});

Deno.test("the VAE in tiles costs one tile, not the image: far less at large sizes", () => {
  const whole = estimatePeakBytes(layout, { ...job(384), tiledVae: false });
  const tiled = estimatePeakBytes(layout, { ...job(384), tiledVae: true });
  // Whole: 2304 latent tokens' mid-block attention (2304² × 12 bytes) and 8 full-resolution activations.
  ok(whole - tiled > 90e6, `${(whole - tiled) / 1e6} MB saved`);
  // Tiled, the VAE's part is a 64-pixel tile plus three float copies of the image.
  const unetOnly = { ...layout, vae: undefined };
  ok(tiled - estimatePeakBytes(unetOnly, job(384)) < 8e6);
});

Deno.test("planMemory: whole-image VAE when it fits, tiles when only they fit, a 422 when neither does", () => {
  const whole = estimatePeakBytes(layout, { ...job(384), tiledVae: false });
  const tiled = estimatePeakBytes(layout, { ...job(384), tiledVae: true });
  assertEquals(planMemory(layout, job(384), whole), { tiledVae: false, peakBytes: whole });
  const between = (whole + tiled) / 2;
  assertEquals(planMemory(layout, job(384), between), { tiledVae: true, peakBytes: tiled });
  assertEquals(planMemory(layout, { ...job(384), tiledVae: true }, whole), {
    tiledVae: true,
    peakBytes: tiled,
  });
  throws(
    () => planMemory(layout, { ...job(384), tiledVae: false }, between),
    (e: Error & { loc?: unknown }) =>
      /384×384 with batch size 1 needs about [\d.]+ GB .*the VAE: [\d.]+ GB.*--max-memory/.test(e.message) &&
      JSON.stringify(e.loc) === '["width"]',
  );
  throws(
    () => planMemory(layout, job(2048), 8 * GB),
    (e: Error) =>
      /2048×2048 with batch size 1 needs about [\d.]+ GB even with the VAE in tiles .*--max-memory/.test(
        e.message,
      ),
  );
});

Deno.test("a large job is one well above the model's usual one", () => {
  const peak = (s: number) => estimatePeakBytes(layout, job(s));
  assertEquals([isLargeJob(layout, peak(64), 64), isLargeJob(layout, peak(256), 64)], [false, false]);
  assertEquals(isLargeJob(layout, peak(448), 64), true);
});

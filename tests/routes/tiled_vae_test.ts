// The tiled VAE through the API: a job whose whole-image VAE would go over --max-memory runs with the VAE in
// tiles; one too large even so is a 422 that says why; override_settings.tiled_vae forces either way.
import { deepStrictEqual as assertEquals, notDeepStrictEqual, ok } from "node:assert";
import { TINY_DEMO_MODEL_DIR } from "../../lib/models/defaults.ts";
import { attentionLayout, estimatePeakBytes } from "../../lib/server/memory_budget.ts";
import { post, startServer } from "./server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const job = { prompt: "x", steps: 1, seed: 5, width: 384, height: 384 };

Deno.test(
  "over the budget with the whole-image VAE, within it in tiles: the job runs tiled",
  opts,
  async () => {
    const layout = (await attentionLayout(TINY_DEMO_MODEL_DIR))!;
    const shape = { width: 384, height: 384, batchSize: 1 };
    const whole = estimatePeakBytes(layout, { ...shape, tiledVae: false });
    const tiled = estimatePeakBytes(layout, { ...shape, tiledVae: true });
    const s = await startServer({ maxMemoryBytes: Math.round((whole + tiled) / 2) });
    try {
      const ok200 = await post(`${s.url}/sdapi/v1/txt2img`, job);
      assertEquals(ok200.status, 200);
      const image = (await ok200.json()).images[0];
      // The same job with the VAE whole is refused, naming the VAE's share.
      const never = await post(`${s.url}/sdapi/v1/txt2img`, {
        ...job,
        override_settings: { tiled_vae: "Never" },
      });
      const refused = await never.json();
      assertEquals([never.status, refused.detail[0].loc], [422, ["body", "width"]]);
      ok(/the VAE: [\d.]+ GB.*--max-memory/.test(refused.detail[0].msg), refused.detail[0].msg);
      // Too large even in tiles: still refused, saying so.
      const huge = await post(`${s.url}/sdapi/v1/txt2img`, { ...job, width: 2048, height: 2048 });
      const why = (await huge.json()).detail[0].msg;
      assertEquals(huge.status, 422);
      ok(/needs about [\d.]+ GB even with the VAE in tiles .*--max-memory/.test(why), why);
      // Tiling changes the image a little, so a tiled image is not the untiled one.
      const small = { ...job, width: 128, height: 128 };
      const pngs = [];
      for (const tiledVae of ["Never", "Always"]) {
        const r = await post(`${s.url}/sdapi/v1/txt2img`, {
          ...small,
          override_settings: { tiled_vae: tiledVae },
        });
        assertEquals(r.status, 200);
        pngs.push((await r.json()).images[0]);
      }
      notDeepStrictEqual(pngs[0], pngs[1]);
      ok(image.length > 0);
    } finally {
      await s.close();
    }
  },
);

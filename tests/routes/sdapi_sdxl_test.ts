// The A1111-compatible API on an SDXL checkpoint (tiny-sdxl): listed, chosen by override_settings, run with the
// aesthetic extension personalizing its second text encoder (no CLIP pair needed for that one).
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { writeEmbedding } from "../../lib/io/embedding.ts";
import { parseInfotext } from "../../lib/io/infotext.ts";
import { readPngParameters } from "../../lib/io/png.ts";
import { serve } from "../../main.ts";
import { decodeBase64Image } from "../../routes/sdapi.ts";
import { readRef } from "../fixtures.ts";
import { sdxlRefs } from "../lib/diffusion/sdxl_refs.ts";
import { linkFixture } from "../lib/models/model_dirs.ts";
import { post } from "./server.ts";

Deno.test("API: an SDXL checkpoint is offered and runs txt2img with an aesthetic embedding", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const root = await Deno.makeTempDir({ prefix: "webui-sdxl-" });
  await linkFixture("tiny-sdxl", join(root, "models", "xl"));
  await Deno.mkdir(join(root, "embeddings"));
  await writeEmbedding(join(root, "embeddings", "bigg.pt"), readRef(sdxlRefs.personalize.embedding_2));
  const server = await serve({
    port: 0,
    hostname: "127.0.0.1",
    modelsDir: join(root, "models"),
    embeddingsDir: join(root, "embeddings"),
    outputsDir: join(root, "outputs"),
  });
  try {
    const models = await (await fetch(`${server.url}/sdapi/v1/sd-models`)).json();
    assertEquals(models.map((m: { model_name: string }) => m.model_name), ["xl"]);
    const r = await post(`${server.url}/sdapi/v1/txt2img`, {
      prompt: "a lighthouse",
      negative_prompt: "blurry",
      sampler_name: "DPM++ 2M",
      scheduler: "Karras",
      steps: 3,
      width: 64,
      height: 64,
      seed: 3,
      override_settings: { sd_model_checkpoint: "xl" },
      alwayson_scripts: { "Aesthetic embeddings": { args: [1, 2, 0.001, false, "bigg", "", 0.1, false] } },
    });
    assertEquals(r.status, 200, await r.clone().text());
    const body = await r.json();
    const fields = Object.fromEntries(
      parseInfotext(readPngParameters(decodeBase64Image(body.images[0])!)!).params,
    );
    assertEquals([fields.Model, fields["Aesthetic embedding"], fields.Size], ["xl", "bigg", "64x64"]);
    const info = JSON.parse(body.info);
    ok(info.charts[0].series[0].values.length === 3, JSON.stringify(info.charts));
  } finally {
    await server.shutdown();
    await Deno.remove(root, { recursive: true });
  }
});

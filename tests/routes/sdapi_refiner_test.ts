// The SDXL refiner through the A1111-compatible API: refiner_checkpoint and refiner_switch_at run A1111's switch
// (the same image the pipeline makes, itself checked against A1111's apply_refiner in
// tests/lib/diffusion/refiner_test.ts), the infotext names the refiner as A1111 does, and a refiner is refused
// where a base model belongs and the other way round.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { generate } from "../../lib/diffusion/pipeline.ts";
import { SdxlRefiner } from "../../lib/diffusion/refiner.ts";
import { SdModel } from "../../lib/diffusion/sd_model.ts";
import { decodeImage } from "../../lib/io/image.ts";
import { parseInfotext } from "../../lib/io/infotext.ts";
import { readPngParameters } from "../../lib/io/png.ts";
import { serve } from "../../main.ts";
import { decodeBase64Image } from "../../routes/sdapi.ts";
import { linkFixture } from "../lib/models/model_dirs.ts";
import { post } from "./server.ts";

Deno.test("API: refiner_checkpoint and refiner_switch_at run A1111's refiner switch", {
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const root = await Deno.makeTempDir({ prefix: "webui-refiner-" });
  await linkFixture("tiny-sdxl", join(root, "models", "xl"));
  await linkFixture("tiny-sdxl-refiner", join(root, "models", "xl-refiner"));
  const server = await serve({
    port: 0,
    hostname: "127.0.0.1",
    modelsDir: join(root, "models"),
    embeddingsDir: join(root, "embeddings"),
    outputsDir: join(root, "outputs"),
  });
  const base = {
    prompt: "a lighthouse",
    negative_prompt: "blurry",
    sampler_name: "Euler a",
    steps: 6,
    width: 64,
    height: 64,
    seed: 3,
    cfg_scale: 7,
    override_settings: { sd_model_checkpoint: "xl", randn_source: "CPU" },
  };
  const txt2img = (body: Record<string, unknown>) =>
    post(`${server.url}/sdapi/v1/txt2img`, { ...base, ...body });
  try {
    const models = await (await fetch(`${server.url}/sdapi/v1/sd-models`)).json();
    const refinerTitle = models.find((m: { model_name: string }) => m.model_name === "xl-refiner").title;
    const r = await txt2img({ refiner_checkpoint: "xl-refiner", refiner_switch_at: 0.5 });
    assertEquals(r.status, 200, await r.clone().text());
    const png = decodeBase64Image((await r.json()).images[0])!;
    const fields = Object.fromEntries(parseInfotext(readPngParameters(png)!).params);
    assertEquals([fields.Refiner, fields["Refiner switch at"]], [refinerTitle, "0.5"]);

    const [model, refiner] = await Promise.all([
      SdModel.open(join(root, "models", "xl")),
      SdxlRefiner.open(join(root, "models", "xl-refiner")),
    ]);
    const expected = await generate(model, {
      prompt: base.prompt,
      negativePrompt: base.negative_prompt,
      sampler: "Euler a",
      scheduler: "Automatic",
      steps: 6,
      cfgScale: 7,
      width: 64,
      height: 64,
      seed: 3,
      eta: 1,
      rngSource: "CPU",
      refinerCheckpoint: refinerTitle,
      refinerSwitchAt: 0.5,
    }, { refiner });
    const got = await decodeImage(png);
    assertEquals(
      got.ok && got.image.data,
      expected.images[0].image.data,
      "the API ran the pipeline's switch",
    );
    await Promise.all([model.release(), refiner.release()]);

    const notRefiner = await txt2img({ refiner_checkpoint: "xl" });
    assertEquals([notRefiner.status, (await notRefiner.json()).detail[0].loc], [422, [
      "body",
      "refiner_checkpoint",
    ]]);
    const refinerAsModel = await txt2img({ override_settings: { sd_model_checkpoint: "xl-refiner" } });
    assertEquals(
      [refinerAsModel.status, (await refinerAsModel.json()).detail[0].loc],
      [422, ["body", "override_settings", "sd_model_checkpoint"]],
    );
    const badSwitch = await txt2img({ refiner_checkpoint: "xl-refiner", refiner_switch_at: 0 });
    assertEquals(badSwitch.status, 422);
  } finally {
    await server.shutdown();
    await Deno.remove(root, { recursive: true });
  }
});

// Opening diffusers-ONNX pipeline folders: what is read from them, and plain-word errors for folders that
// cannot run. A UNet rewritten to take an int64 timestep (as older exports do) gives the same image.
import { deepStrictEqual as assertEquals, rejects } from "node:assert";
import { join } from "node:path";
import { generate } from "../../../lib/diffusion/pipeline.ts";
import { SdModel } from "../../../lib/diffusion/sd_model.ts";
import { DataType, decodeModel, encodeModel } from "../../../lib/onnx/proto.ts";
import { MODELS } from "../../fixtures.ts";
import { linkFixture } from "../models/model_dirs.ts";

Deno.test("SD 1.x and 2.x fixtures: version, VAE factors, UNet inputs, prediction type", async () => {
  const sd1 = await SdModel.open(join(MODELS, "tiny-sd1"));
  const sd2 = await SdModel.open(join(MODELS, "tiny-sd2"));
  try {
    assertEquals(
      [
        sd1.version,
        sd1.vaeScaleFactor,
        sd1.scalingFactor,
        sd1.latentChannels,
        sd1.hiddenSize,
        sd1.prediction,
      ],
      ["sd1", 8, 0.18215, 4, 16, "epsilon"],
    );
    assertEquals([sd2.version, sd2.hiddenSize, sd2.prediction], ["sd2", 12, "v_prediction"]);
    assertEquals(sd1.unetIO.timestep, { name: "timestep", type: "float32", perBatch: false });
    assertEquals([sd1.hasVaeEncoder, sd1.sizeMultiple], [true, 8]);
  } finally {
    await sd1.release();
    await sd2.release();
  }
});

Deno.test("folders that cannot run say why", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const noText = await linkFixture("tiny-sd1", join(tmp, "no-text"));
    await Deno.remove(join(noText, "text_encoder", "model.onnx"));
    await rejects(SdModel.open(noText), /text_encoder\/model\.onnx is missing/);
    const noUnet = await linkFixture("tiny-sd1", join(tmp, "no-unet"));
    await Deno.remove(join(noUnet, "unet", "model.onnx"));
    await rejects(SdModel.open(noUnet), /unet\/model\.onnx is missing/);
    await rejects(SdModel.open(tmp), /is not a Stable Diffusion pipeline folder \(no model_index\.json\)/);
    await rejects(
      SdModel.open(join(MODELS, "tiny-sd1-clip")),
      /is a CLIP pair, not a Stable Diffusion pipeline/,
    );
    // SDXL with an SD 1.x UNet (same cross-attention width): no text_embeds/time_ids to take the pooled vector.
    const xlWithSd1Unet = await linkFixture("tiny-sdxl", join(tmp, "xl"));
    for (const f of ["model.onnx", "config.json"]) {
      await Deno.remove(join(xlWithSd1Unet, "unet", f));
      await Deno.symlink(join(MODELS, "tiny-sd1", "unet", f), join(xlWithSd1Unet, "unet", f));
    }
    await rejects(SdModel.open(xlWithSd1Unet), /an SDXL UNet needs text_embeds and time_ids inputs/);

    const noEncoder = await linkFixture("tiny-sd1", join(tmp, "no-vae-encoder"));
    await Deno.remove(join(noEncoder, "vae_encoder", "model.onnx"));
    const m = await SdModel.open(noEncoder);
    assertEquals(m.hasVaeEncoder, false);
    const init = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3) };
    const request = { prompt: "x", sampler: "DDIM", steps: 2, cfgScale: 7, width: 64, height: 64, seed: 1 };
    await rejects(
      generate(m, { ...request, initImage: init }),
      /vae_encoder\/model\.onnx is missing, so no img2img/,
    );
    await m.release();
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("an int64 timestep input is fed as int64 and gives the float32 export's image", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const dir = await linkFixture("tiny-sd1", join(tmp, "int64"));
    const unetPath = join(dir, "unet", "model.onnx");
    const unet = decodeModel(await Deno.readFile(unetPath));
    // timestep (int64, 0-d) → Cast → the float the graph used before.
    for (const n of unet.graph.node) n.input = n.input.map((i) => (i === "timestep" ? "timestep_float" : i));
    unet.graph.node.unshift({
      opType: "Cast",
      input: ["timestep"],
      output: ["timestep_float"],
      name: "timestep_cast",
      attribute: [{ name: "to", type: 2, i: DataType.FLOAT }],
    });
    const t = unet.graph.input.find((i) => i.name === "timestep")!;
    t.type = { tensorType: { elemType: DataType.INT64, shape: { dim: [] } } };
    await Deno.remove(unetPath);
    await Deno.writeFile(unetPath, encodeModel(unet));

    const int64 = await SdModel.open(dir);
    const float = await SdModel.open(join(MODELS, "tiny-sd1"));
    assertEquals(int64.unetIO.timestep, { name: "timestep", type: "int64", perBatch: false });
    const request = {
      prompt: "a lighthouse",
      sampler: "DDIM",
      steps: 3,
      cfgScale: 7,
      width: 32,
      height: 32,
      seed: 3,
    };
    const a = await generate(int64, request);
    const b = await generate(float, request);
    assertEquals(a.images[0].latents, b.images[0].latents);
    await int64.release();
    await float.release();
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

// Family detection from tensor names and shapes alone (no weights needed): SD 1.x, SD 2.x with its prediction
// type from the sidecar .yaml / flag / default, inpainting, SDXL, and files that are not Stable Diffusion.
import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { detectFamily, predictionFromYaml } from "../../../../lib/models/single_file/detect.ts";

const U = "model.diffusion_model.", V = "first_stage_model.";

function shapes(entries: Record<string, number[]>) {
  const m = new Map(Object.entries(entries).map(([k, shape]) => [k, { shape }]));
  return { get: (k: string) => m.get(k), keys: () => m.keys() };
}

function sd(text: Record<string, number[]>, inChannels = 4) {
  return shapes({
    [`${U}input_blocks.0.0.weight`]: [320, inChannels, 3, 3],
    [`${U}time_embed.0.weight`]: [1280, 320],
    [`${U}out.2.weight`]: [4, 320, 3, 3],
    [`${V}encoder.conv_in.weight`]: [128, 3, 3, 3],
    [`${V}decoder.conv_in.weight`]: [512, 4, 3, 3],
    [`${V}quant_conv.weight`]: [8, 8, 1, 1],
    [`${V}post_quant_conv.weight`]: [4, 4, 1, 1],
    ...text,
  });
}

const T = "cond_stage_model.transformer.text_model.";
const SD1_TEXT = {
  [`${T}embeddings.token_embedding.weight`]: [49408, 768],
  [`${T}embeddings.position_embedding.weight`]: [77, 768],
  ...Object.fromEntries(
    Array.from({ length: 12 }, (_, i) => [`${T}encoder.layers.${i}.mlp.fc1.weight`, [3072, 768]]),
  ),
};
const O = "cond_stage_model.model.";
const SD2_TEXT = {
  [`${O}token_embedding.weight`]: [49408, 1024],
  [`${O}positional_embedding`]: [77, 1024],
  ...Object.fromEntries(
    Array.from({ length: 24 }, (_, i) => [`${O}transformer.resblocks.${i}.mlp.c_fc.weight`, [4096, 1024]]),
  ),
};

Deno.test("detect: SD 1.x by its OpenAI CLIP text encoder, predicting noise", () => {
  const d = detectFamily(sd(SD1_TEXT), "a.safetensors");
  assertEquals([d.family, d.prediction, d.inpainting, d.text.layers, d.text.hidden], [
    "sd1",
    "epsilon",
    false,
    12,
    768,
  ]);
});

Deno.test("detect: SD 2.x by OpenCLIP, one layer short; v unless the .yaml or the flag says otherwise", () => {
  const v = detectFamily(sd(SD2_TEXT), "b.safetensors");
  assertEquals([v.family, v.prediction, v.text.layout, v.text.layers], [
    "sd2",
    "v_prediction",
    "open_clip",
    23,
  ]);
  const eps = detectFamily(sd(SD2_TEXT), "b.safetensors", {
    yaml: "model:\n  params:\n    linear_start: 0.00085\n",
  });
  assertEquals([eps.prediction, eps.predictionSource], ["epsilon", "the sidecar .yaml"]);
  const yamlV = detectFamily(sd(SD2_TEXT), "b.safetensors", {
    yaml: 'model:\n  params:\n    parameterization: "v"\n',
  });
  assertEquals(yamlV.prediction, "v_prediction");
  assertEquals(detectFamily(sd(SD2_TEXT), "b", { prediction: "epsilon" }).prediction, "epsilon");
});

Deno.test("detect: a 9-channel UNet input is an inpainting model", () => {
  assertEquals(detectFamily(sd(SD1_TEXT, 9), "inpaint.ckpt").inpainting, true);
});

Deno.test("detect: SDXL by its two embedders, every OpenCLIP layer kept, with its projection width", () => {
  const C = "conditioner.embedders.0.transformer.text_model.", B = "conditioner.embedders.1.model.";
  const d = detectFamily(
    sd({
      [`${C}embeddings.token_embedding.weight`]: [49408, 768],
      [`${C}embeddings.position_embedding.weight`]: [77, 768],
      [`${C}encoder.layers.0.mlp.fc1.weight`]: [3072, 768],
      [`${B}token_embedding.weight`]: [49408, 1280],
      [`${B}positional_embedding`]: [77, 1280],
      [`${B}text_projection`]: [1280, 1280],
      ...Object.fromEntries(
        Array.from(
          { length: 32 },
          (_, i) => [`${B}transformer.resblocks.${i}.mlp.c_fc.weight`, [5120, 1280]],
        ),
      ),
    }),
    "xl.safetensors",
  );
  assertEquals([d.family, d.prediction, d.text.hidden, d.text2?.layers, d.text2?.projection], [
    "sdxl",
    "epsilon",
    768,
    32,
    1280,
  ]);
});

Deno.test("detect: a file that is not Stable Diffusion gets one sentence naming the keys it lacks", () => {
  throws(
    () => detectFamily(shapes({ "encoder.layer.0.weight": [2, 2] }), "bert.safetensors"),
    /bert\.safetensors is not a Stable Diffusion 1\.x\/2\.x\/XL checkpoint in the original layout: it lacks model\.diffusion_model\.input_blocks\.0\.0\.weight, .* \(its 1 tensors start with encoder\)/,
  );
});

Deno.test("predictionFromYaml: only parameterization v means v-prediction", () => {
  assertEquals(predictionFromYaml("  parameterization: v\n"), "v_prediction");
  assertEquals(predictionFromYaml("  parameterization: eps\n"), "epsilon");
  assertEquals(predictionFromYaml(""), "epsilon");
});

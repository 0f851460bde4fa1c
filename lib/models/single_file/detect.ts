// Which Stable Diffusion a single-file checkpoint is, from its tensor names and shapes (and A1111's sidecar
// `.yaml` for the prediction type): SD 1.x (OpenAI CLIP text encoder), SD 2.x (OpenCLIP; v-prediction or eps),
// SDXL base (two text encoders), and the inpainting variants (a 9-channel UNet input). A file that is none of
// these fails with one sentence naming the keys it lacks.
import { CheckpointError } from "./checkpoint.ts";

export type Family = "sd1" | "sd2" | "sdxl";
export type Prediction = "epsilon" | "v_prediction";

export interface TensorShapes {
  get(key: string): { shape: number[] } | undefined;
  keys(): Iterable<string>;
}

export interface Detected {
  family: Family;
  /** The UNet takes 9 channels (latents, mask, masked image): an inpainting model. */
  inpainting: boolean;
  prediction: Prediction;
  /** Where the prediction type came from, for the import's report. */
  predictionSource: string;
  text: {
    layout: "clip" | "open_clip";
    prefix: string;
    hidden: number;
    /** Layers the text encoder graph runs (SD 2.x: the OpenCLIP tower minus its last layer). */
    layers: number;
    intermediate: number;
    vocab: number;
    positions: number;
  };
}

export const UNET_PREFIX = "model.diffusion_model.";
export const VAE_PREFIX = "first_stage_model.";

const REQUIRED = [
  `${UNET_PREFIX}input_blocks.0.0.weight`,
  `${UNET_PREFIX}time_embed.0.weight`,
  `${UNET_PREFIX}out.2.weight`,
  `${VAE_PREFIX}encoder.conv_in.weight`,
  `${VAE_PREFIX}decoder.conv_in.weight`,
  `${VAE_PREFIX}quant_conv.weight`,
  `${VAE_PREFIX}post_quant_conv.weight`,
];
const CLIP = "cond_stage_model.transformer.";
const OPEN_CLIP = "cond_stage_model.model.";
const XL = ["conditioner.embedders.0.transformer.", "conditioner.embedders.1.model."];
const CLIP_TOKENS = `${CLIP}text_model.embeddings.token_embedding.weight`;
const OPEN_CLIP_TOKENS = `${OPEN_CLIP}token_embedding.weight`;

/** A1111's sidecar config says v-prediction with `parameterization: "v"` under model.params. */
export function predictionFromYaml(yaml: string): Prediction {
  return /^\s*parameterization:\s*["']?v["']?\s*$/m.test(yaml) ? "v_prediction" : "epsilon";
}

function count(tensors: TensorShapes, at: (i: number) => string): number {
  let n = 0;
  while (tensors.get(at(n))) n++;
  return n;
}

export function detectFamily(
  tensors: TensorShapes,
  file: string,
  opts: { yaml?: string; prediction?: Prediction } = {},
): Detected {
  const keys = [...tensors.keys()];
  const shape = (k: string) => tensors.get(k)!.shape;
  if (tensors.get(`${XL[1]}token_embedding.weight`)) {
    throw new CheckpointError(
      `${file} is an SDXL checkpoint; importing SDXL single files is not supported yet`,
    );
  }
  const missing = REQUIRED.filter((k) => !tensors.get(k));
  const textKey = tensors.get(CLIP_TOKENS)
    ? CLIP_TOKENS
    : tensors.get(OPEN_CLIP_TOKENS)
    ? OPEN_CLIP_TOKENS
    : "";
  if (!textKey) missing.push(`${CLIP_TOKENS} (or ${OPEN_CLIP_TOKENS})`);
  if (missing.length) {
    const prefixes = [...new Set(keys.map((k) => k.split(".")[0]))].slice(0, 6);
    throw new CheckpointError(
      `${file} is not a Stable Diffusion 1.x/2.x checkpoint in the original layout: it lacks ${
        missing.join(", ")
      }` +
        (keys.length
          ? ` (its ${keys.length} tensors start with ${prefixes.join(", ")})`
          : " (it holds no tensors)"),
    );
  }
  const inChannels = shape(`${UNET_PREFIX}input_blocks.0.0.weight`)[1];
  const [vocab, hidden] = shape(textKey);
  let text: Detected["text"];
  if (textKey === CLIP_TOKENS) {
    const layers = count(tensors, (i) => `${CLIP}text_model.encoder.layers.${i}.mlp.fc1.weight`);
    text = {
      layout: "clip",
      prefix: CLIP,
      hidden,
      layers,
      intermediate: shape(`${CLIP}text_model.encoder.layers.0.mlp.fc1.weight`)[0],
      vocab,
      positions: shape(`${CLIP}text_model.embeddings.position_embedding.weight`)[0],
    };
  } else {
    const blocks = count(tensors, (i) => `${OPEN_CLIP}transformer.resblocks.${i}.mlp.c_fc.weight`);
    if (blocks < 2) throw new CheckpointError(`${file}: its OpenCLIP text encoder has ${blocks} layers`);
    text = {
      layout: "open_clip",
      prefix: OPEN_CLIP,
      hidden,
      layers: blocks - 1,
      intermediate: shape(`${OPEN_CLIP}transformer.resblocks.0.mlp.c_fc.weight`)[0],
      vocab,
      positions: shape(`${OPEN_CLIP}positional_embedding`)[0],
    };
  }
  const family: Family = text.layout === "clip" ? "sd1" : "sd2";
  let prediction: Prediction = "epsilon";
  let predictionSource = "SD 1.x predicts noise";
  if (opts.prediction) {
    prediction = opts.prediction;
    predictionSource = "--prediction";
  } else if (opts.yaml !== undefined) {
    prediction = predictionFromYaml(opts.yaml);
    predictionSource = "the sidecar .yaml";
  } else if (family === "sd2") {
    // SD 2.x releases at 768 px (and most fine-tunes of them) are v-prediction; 512-base is the exception.
    prediction = "v_prediction";
    predictionSource =
      "SD 2.x default without a sidecar .yaml (pass --prediction epsilon for 512-base models)";
  }
  return { family, inpainting: inChannels === 9, prediction, predictionSource, text };
}

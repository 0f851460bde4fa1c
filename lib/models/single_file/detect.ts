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

export interface TextSpec {
  layout: "clip" | "open_clip";
  prefix: string;
  hidden: number;
  /** Layers the text encoder graph runs (SD 2.x: the OpenCLIP tower minus its last layer). */
  layers: number;
  intermediate: number;
  vocab: number;
  positions: number;
  /** Width of the OpenCLIP projection (SDXL's second encoder exports text_embeds through it). */
  projection?: number;
}

export interface Detected {
  family: Family;
  /** The UNet takes 9 channels (latents, mask, masked image): an inpainting model. */
  inpainting: boolean;
  prediction: Prediction;
  /** Where the prediction type came from, for the import's report. */
  predictionSource: string;
  text: TextSpec;
  /** SDXL's second text encoder (OpenCLIP ViT-bigG). */
  text2?: TextSpec;
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

function clipSpec(tensors: TensorShapes, prefix: string): TextSpec {
  const shape = (k: string) => tensors.get(k)!.shape;
  const t = `${prefix}text_model.`;
  const [vocab, hidden] = shape(`${t}embeddings.token_embedding.weight`);
  return {
    layout: "clip",
    prefix,
    hidden,
    layers: count(tensors, (i) => `${t}encoder.layers.${i}.mlp.fc1.weight`),
    intermediate: shape(`${t}encoder.layers.0.mlp.fc1.weight`)[0],
    vocab,
    positions: shape(`${t}embeddings.position_embedding.weight`)[0],
  };
}

/** OpenCLIP's tower; `dropLast` leaves out the last layer (SD 2.x conditions on the penultimate one). */
function openClipSpec(tensors: TensorShapes, prefix: string, file: string, dropLast: boolean): TextSpec {
  const shape = (k: string) => tensors.get(k)!.shape;
  const blocks = count(tensors, (i) => `${prefix}transformer.resblocks.${i}.mlp.c_fc.weight`);
  if (blocks < 2) throw new CheckpointError(`${file}: its OpenCLIP text encoder has ${blocks} layers`);
  const [vocab, hidden] = shape(`${prefix}token_embedding.weight`);
  const projection = tensors.get(`${prefix}text_projection`)?.shape[1];
  return {
    layout: "open_clip",
    prefix,
    hidden,
    layers: dropLast ? blocks - 1 : blocks,
    intermediate: shape(`${prefix}transformer.resblocks.0.mlp.c_fc.weight`)[0],
    vocab,
    positions: shape(`${prefix}positional_embedding`)[0],
    ...(projection ? { projection } : {}),
  };
}

export function detectFamily(
  tensors: TensorShapes,
  file: string,
  opts: { yaml?: string; prediction?: Prediction } = {},
): Detected {
  const keys = [...tensors.keys()];
  const xlText = `${XL[0]}text_model.embeddings.token_embedding.weight`;
  const xlText2 = `${XL[1]}token_embedding.weight`;
  const xl = tensors.get(xlText2) !== undefined;
  const missing = REQUIRED.filter((k) => !tensors.get(k));
  const textKey = xl
    ? (tensors.get(xlText) ? xlText : "")
    : tensors.get(CLIP_TOKENS)
    ? CLIP_TOKENS
    : tensors.get(OPEN_CLIP_TOKENS)
    ? OPEN_CLIP_TOKENS
    : "";
  if (!textKey) missing.push(xl ? xlText : `${CLIP_TOKENS} (or ${OPEN_CLIP_TOKENS})`);
  if (missing.length) {
    const prefixes = [...new Set(keys.map((k) => k.split(".")[0]))].slice(0, 6);
    throw new CheckpointError(
      `${file} is not a Stable Diffusion 1.x/2.x/XL checkpoint in the original layout: it lacks ${
        missing.join(", ")
      }` +
        (keys.length
          ? ` (its ${keys.length} tensors start with ${prefixes.join(", ")})`
          : " (it holds no tensors)"),
    );
  }
  const inChannels = tensors.get(`${UNET_PREFIX}input_blocks.0.0.weight`)!.shape[1];
  const text = textKey === OPEN_CLIP_TOKENS
    ? openClipSpec(tensors, OPEN_CLIP, file, true)
    : clipSpec(tensors, xl ? XL[0] : CLIP);
  const text2 = xl ? openClipSpec(tensors, XL[1], file, false) : undefined;
  if (text2 && !text2.projection) {
    throw new CheckpointError(`${file}: its second text encoder has no text_projection`);
  }
  const family: Family = xl ? "sdxl" : text.layout === "clip" ? "sd1" : "sd2";
  let prediction: Prediction = "epsilon";
  let predictionSource = `${family === "sd1" ? "SD 1.x" : "SDXL"} predicts noise`;
  if (opts.prediction) {
    prediction = opts.prediction;
    predictionSource = "--prediction";
  } else if (opts.yaml !== undefined) {
    prediction = predictionFromYaml(opts.yaml);
    predictionSource = "the sidecar .yaml";
  } else if (family === "sd2") {
    // Until the import runs A1111's test on the UNet: the 768 releases and most fine-tunes are v-prediction.
    prediction = "v_prediction";
    predictionSource = "SD 2.x default";
  }
  return {
    family,
    inpainting: inChannels === 9,
    prediction,
    predictionSource,
    text,
    ...(text2 ? { text2 } : {}),
  };
}

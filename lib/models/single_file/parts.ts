// Which graphs a family's pipeline folder holds and how each is built from the checkpoint: the text
// encoder(s), the UNet (with SDXL's micro-conditioning when the file has label_emb), the VAE encoder and decoder.
import { buildClipText } from "../../onnx/nets/clip_text.ts";
import type { Net } from "../../onnx/nets/layers.ts";
import type { GraphIO } from "../../onnx/nets/model_file.ts";
import { buildUnet } from "../../onnx/nets/unet.ts";
import { buildVaeDecoder, buildVaeEncoder } from "../../onnx/nets/vae.ts";
import type { WeightSource } from "../../onnx/nets/weights.ts";
import { type Detected, type TensorShapes, UNET_PREFIX } from "./detect.ts";
import type { Hyper } from "./hyper.ts";

export interface Built {
  inputs: GraphIO[];
  outputs: { io: GraphIO; value: string }[];
}

export interface Part {
  /** The folder it is written to (text_encoder, unet, …). */
  name: string;
  source: WeightSource;
  /** fp16 weights stay fp16 on disk (with a Cast in the graph). */
  keepHalf: boolean;
  /** Weights inside model.onnx rather than in model.onnx_data (when under 2 GB). */
  inline: boolean;
  build: (net: Net) => Built;
}

export function pipelineParts(
  d: Detected,
  h: Hyper,
  main: WeightSource & TensorShapes,
  vae: { source: WeightSource; prefix: string },
  keepHalf: boolean,
): Part[] {
  // Text encoders stay float32 and inside their graphs: personalization reads them into memory and trains
  // their float32 weights in place.
  const text = (name: string, build: (net: Net) => Built): Part => ({
    name,
    source: main,
    keepHalf: false,
    inline: true,
    build,
  });
  const parts = [
    text("text_encoder", (net) =>
      buildClipText(net, {
        ...d.text,
        projection: undefined, // SD 2.x files carry OpenCLIP's projection; its text encoder export has none
        heads: h.textHeads,
        eps: h.textEps,
        act: h.textAct,
        eosTokenId: 49407,
        hiddenStates: d.family === "sdxl",
      })),
  ];
  const t2 = d.text2;
  if (t2?.projection) {
    parts.push(text("text_encoder_2", (net) =>
      buildClipText(net, {
        ...t2,
        heads: h.text2Heads,
        eps: h.text2Eps,
        act: h.text2Act,
        eosTokenId: 49407,
        hiddenStates: true,
        projection: { key: `${t2.prefix}text_projection`, width: t2.projection! },
      })));
  }
  const label = main.get(`${UNET_PREFIX}label_emb.0.0.weight`);
  const addition = t2?.projection && label
    ? { textEmbeds: t2.projection, timeDim: (label.shape[1] - t2.projection) / 6 }
    : undefined;
  const unet = { prefix: UNET_PREFIX, heads: h.unetHeads, groups: h.unetGroups, eps: h.unetEps };
  const v = { prefix: vae.prefix, groups: h.vaeGroups };
  const weights = (name: string, source: WeightSource, build: (net: Net) => Built): Part => ({
    name,
    source,
    keepHalf,
    inline: false,
    build,
  });
  parts.push(
    weights("unet", main, (net) => buildUnet(net, { ...unet, ...(addition ? { addition } : {}) })),
    weights("vae_encoder", vae.source, (net) => buildVaeEncoder(net, v)),
    weights("vae_decoder", vae.source, (net) => buildVaeDecoder(net, v)),
  );
  return parts;
}

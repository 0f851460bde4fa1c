// The non-graph files of an imported pipeline folder, as optimum writes them and the registry reads them:
// model_index.json, each part's config.json, the scheduler config, and the CLIP tokenizer (the project's BPE
// vocabulary, the same for every SD family; SD 2.x pads with "!" as its OpenCLIP tokenizer does).
import { copyFile } from "node:fs/promises";
import { join } from "node:path";
import type { Detected, TextSpec } from "./detect.ts";
import type { Hyper } from "./hyper.ts";
import type { TensorShapes } from "./detect.ts";
import { UNET_PREFIX, VAE_PREFIX } from "./detect.ts";

async function writeJson(dir: string, rel: string, value: unknown): Promise<void> {
  await Deno.mkdir(join(dir, rel, ".."), { recursive: true });
  await Deno.writeTextFile(join(dir, rel), JSON.stringify(value, null, 2) + "\n");
}

/** Channel width of each UNet level: a new level starts after each downsampling conv. */
export function unetLevels(t: TensorShapes): { channels: number[]; layersPerBlock: number } {
  const channels: number[] = [];
  let perLevel = 0, layers = 0;
  for (let i = 1;; i++) {
    const res = t.get(`${UNET_PREFIX}input_blocks.${i}.0.out_layers.3.weight`);
    const op = t.get(`${UNET_PREFIX}input_blocks.${i}.0.op.weight`);
    if (!res && !op) break;
    if (op) {
      layers = Math.max(layers, perLevel);
      perLevel = 0;
      channels.push(op.shape[0]);
    } else perLevel++;
  }
  const last = t.get(`${UNET_PREFIX}middle_block.0.out_layers.3.weight`);
  if (last) channels.push(last.shape[0]);
  return { channels, layersPerBlock: Math.max(layers, perLevel) };
}

function vaeLevels(t: TensorShapes, prefix: string): number[] {
  const out: number[] = [];
  for (let i = 0;; i++) {
    const w = t.get(`${prefix}encoder.down.${i}.block.0.conv2.weight`);
    if (!w) return out;
    out.push(w.shape[0]);
  }
}

export interface FolderFacts {
  detected: Detected;
  hyper: Hyper;
  tensors: TensorShapes;
  vaeTensors: TensorShapes;
  vaePrefix: string;
  /** A folder with vocab.json and merges.txt (the demo model's tokenizer/). */
  vocabDir: string;
}

/** A text encoder's transformers config; OpenCLIP towers pad with "!" (id 0), OpenAI CLIP with end-of-text. */
function textConfig(spec: TextSpec, heads: number, eps: number, act: string) {
  return {
    architectures: [spec.projection ? "CLIPTextModelWithProjection" : "CLIPTextModel"],
    model_type: "clip_text_model",
    hidden_size: spec.hidden,
    intermediate_size: spec.intermediate,
    num_attention_heads: heads,
    num_hidden_layers: spec.layers,
    hidden_act: act,
    layer_norm_eps: eps,
    max_position_embeddings: spec.positions,
    vocab_size: spec.vocab,
    bos_token_id: 49406,
    eos_token_id: 49407,
    pad_token_id: spec.layout === "open_clip" ? 0 : 1,
    ...(spec.projection ? { projection_dim: spec.projection } : {}),
  };
}

async function writeTokenizer(dir: string, rel: string, spec: TextSpec, vocabDir: string): Promise<void> {
  await Deno.mkdir(join(dir, rel), { recursive: true });
  for (const file of ["vocab.json", "merges.txt"]) await copyFile(join(vocabDir, file), join(dir, rel, file));
  const token = (content: string, normalized = true) => ({
    content,
    lstrip: false,
    normalized,
    rstrip: false,
    single_word: false,
  });
  const pad = spec.layout === "open_clip" ? token("!", false) : token("<|endoftext|>");
  await writeJson(dir, `${rel}/special_tokens_map.json`, {
    bos_token: token("<|startoftext|>"),
    eos_token: token("<|endoftext|>"),
    pad_token: pad,
    unk_token: token("<|endoftext|>"),
  });
  await writeJson(dir, `${rel}/tokenizer_config.json`, {
    bos_token: "<|startoftext|>",
    eos_token: "<|endoftext|>",
    pad_token: pad.content,
    unk_token: "<|endoftext|>",
    model_max_length: spec.positions,
    clean_up_tokenization_spaces: false,
    errors: "replace",
    tokenizer_class: "CLIPTokenizer",
  });
}

export async function writeFolderFiles(dir: string, f: FolderFacts): Promise<void> {
  const { detected: d, hyper: h, tensors: t } = f;
  const { channels, layersPerBlock } = unetLevels(t);
  const heads = h.unetHeads;
  const keys = [...t.keys()];
  const crossAttention = keys.find((k) => k.endsWith("attn2.to_k.weight"));
  const projIn = keys.find((k) => k.startsWith(UNET_PREFIX) && k.endsWith(".proj_in.weight"));
  const xl = d.family === "sdxl";
  const inpaint = d.inpainting ? "Inpaint" : "";
  await writeJson(dir, "model_index.json", {
    _class_name: `StableDiffusion${xl ? "XL" : ""}${inpaint}Pipeline`,
    _diffusers_version: "0.36.0",
    scheduler: ["diffusers", h.scheduler._class_name],
    text_encoder: ["transformers", "CLIPTextModel"],
    tokenizer: ["transformers", "CLIPTokenizer"],
    ...(d.text2
      ? {
        text_encoder_2: ["transformers", "CLIPTextModelWithProjection"],
        tokenizer_2: ["transformers", "CLIPTokenizer"],
      }
      : {}),
    unet: ["diffusers", "UNet2DConditionModel"],
    vae_encoder: ["diffusers", "OnnxRuntimeModel"],
    vae_decoder: ["diffusers", "OnnxRuntimeModel"],
  });
  await writeJson(dir, "scheduler/scheduler_config.json", h.scheduler);
  await writeJson(dir, "text_encoder/config.json", textConfig(d.text, h.textHeads, h.textEps, h.textAct));
  await writeTokenizer(dir, "tokenizer", d.text, f.vocabDir);
  if (d.text2) {
    await writeJson(
      dir,
      "text_encoder_2/config.json",
      textConfig(d.text2, h.text2Heads, h.text2Eps, h.text2Act),
    );
    await writeTokenizer(dir, "tokenizer_2", d.text2, f.vocabDir);
  }
  const label = t.get(`${UNET_PREFIX}label_emb.0.0.weight`);
  await writeJson(dir, "unet/config.json", {
    _class_name: "UNet2DConditionModel",
    in_channels: t.get(`${UNET_PREFIX}input_blocks.0.0.weight`)!.shape[1],
    out_channels: t.get(`${UNET_PREFIX}out.2.weight`)!.shape[0],
    block_out_channels: channels,
    layers_per_block: layersPerBlock,
    cross_attention_dim: crossAttention ? t.get(crossAttention)!.shape[1] : undefined,
    attention_head_dim: "count" in heads ? heads.count : channels.map((c) => c / heads.width),
    norm_num_groups: h.unetGroups,
    norm_eps: h.unetEps,
    use_linear_projection: projIn !== undefined && t.get(projIn)!.shape.length === 2,
    ...(label && d.text2?.projection
      ? {
        addition_embed_type: "text_time",
        addition_time_embed_dim: (label.shape[1] - d.text2.projection) / 6,
        projection_class_embeddings_input_dim: label.shape[1],
      }
      : {}),
  });
  const vae = {
    _class_name: "AutoencoderKL",
    in_channels: 3,
    out_channels: 3,
    block_out_channels: vaeLevels(f.vaeTensors, f.vaePrefix),
    latent_channels: f.vaeTensors.get(`${f.vaePrefix}post_quant_conv.weight`)!.shape[1],
    norm_num_groups: h.vaeGroups,
    scaling_factor: h.scalingFactor,
  };
  await writeJson(dir, "vae_encoder/config.json", vae);
  await writeJson(dir, "vae_decoder/config.json", vae);
}

export const VAE_PREFIXES = [VAE_PREFIX, "vae.", ""];

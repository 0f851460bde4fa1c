// Recognizes one model folder and checks it is complete: a Stable Diffusion pipeline in the diffusers ONNX
// layout (optimum's export: model_index.json, text_encoder/, unet/, vae_decoder/, …) or a CLIP pair in the
// transformers.js layout (config.json, onnx/text_model.onnx, onnx/vision_model.onnx). Dimensions come from the
// config.json files first and are cross-checked against the ONNX graphs' declared shapes (read by onnx_scan
// without loading weights). Every problem is a plain sentence naming the part.
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { type InitializerInfo, type OnnxSummary, readInitializerPrefix, scanOnnx } from "./onnx_scan.ts";
import { InputError } from "../io/input_error.ts";
import { readRegularFile } from "../io/read_capped.ts";

export type ModelKind = "sd1" | "sd2" | "sdxl" | "clip";

export interface ModelDims {
  /** Hidden size of the (first) text encoder: the width of the conditioning it produces. */
  textHidden?: number;
  /** SDXL's second text encoder's hidden size. */
  textHidden2?: number;
  /** CLIP projection size (text_embeds/image_embeds), when the folder has a projection. */
  projection?: number;
  /** The UNet's cross-attention width. */
  crossAttention?: number;
}

export interface ModelEntry {
  name: string;
  path: string;
  kind: ModelKind;
  dims: ModelDims;
  /** Blocking problems: the model cannot be used until they are fixed. */
  problems: string[];
  /** Things that limit the model without blocking it (a missing VAE encoder: no img2img). */
  warnings: string[];
  /** Files whose bytes identify the UNet weights (hashed by the registry). */
  unetFiles?: string[];
  /** A cheap identity of the (first) text encoder's weights: the token embedding table's first bytes. */
  textFingerprint?: string;
  /** A1111-style short hash of the UNet weights (10 hex digits); set by the registry for pipelines. */
  hash?: string;
  /** The pipeline's class from model_index.json. */
  pipelineClass?: string;
  /**
   * An SDXL refiner (model_index.json without text_encoder, as stabilityai's refiner and its optimum export
   * are laid out): text_encoder_2 alone conditions its UNet. It runs only as a refiner, after a base model.
   */
  refiner?: boolean;
  /**
   * The image side the UNet was trained at, its default size: unet sample_size × the VAE's factor (512 for
   * SD 1.5, 768 for SD 2.x 768-v, 1024 for SDXL).
   */
  defaultSize?: number;
  /** A checkpoint listed from an A1111 single file (lib/models/single_file/dropped.ts). */
  singleFile?: SingleFileSource;
}

export interface SingleFileSource {
  file: string;
  /** A1111's model_name (the file name without extension). */
  modelName: string;
  /** The file's full sha256, once hashed. */
  sha256?: string;
  /** Not imported yet: `path` is the file itself, and the first generation imports it. */
  pending: boolean;
}

type Json = Record<string, unknown>;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

// Configs are a few KB; tokenizer.json, the largest JSON a model folder holds, a few MB.
const MAX_JSON_BYTES = 64 << 20;

async function readJson(path: string, rel: string, problems: string[]): Promise<Json | undefined> {
  let text: string;
  try {
    // A regular file of bounded size only: a FIFO named config.json would hang the listing.
    text = new TextDecoder().decode(await readRegularFile(path, MAX_JSON_BYTES, rel));
  } catch (e) {
    if (e instanceof InputError) problems.push(e.message);
    return undefined;
  }
  try {
    const v = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Json;
    problems.push(`${rel} is not a JSON object`);
  } catch (e) {
    problems.push(`${rel} is not valid JSON (${(e as Error).message})`);
  }
  return undefined;
}

const int = (
  v: unknown,
): number | undefined => (typeof v === "number" && Number.isInteger(v) ? v : undefined);

/** The last dimension of a named graph value, when static. */
function lastDim(summary: OnnxSummary | undefined, names: string[], outputs = true): number | undefined {
  const list = outputs ? summary?.outputs : summary?.inputs;
  const v = list?.find((o) => names.includes(o.name));
  const d = v?.dims[v.dims.length - 1];
  return typeof d === "number" ? d : undefined;
}

/** Scans an ONNX part; a missing file, missing external data or an unreadable graph become problems. */
async function scanPart(dir: string, rel: string, problems: string[]): Promise<OnnxSummary | undefined> {
  const path = join(dir, rel);
  if (!await exists(path)) {
    problems.push(`${rel} is missing`);
    return undefined;
  }
  let summary: OnnxSummary;
  try {
    summary = await scanOnnx(path);
  } catch (e) {
    problems.push(`${rel} cannot be read: ${(e as Error).message.replace(path, rel)}`);
    return undefined;
  }
  const relDir = rel.slice(0, rel.length - basename(rel).length);
  for (const file of summary.externalFiles) {
    const needed = summary.initializers
      .filter((t) => t.external?.path === file)
      .reduce((m, t) => Math.max(m, t.external!.offset + (t.external!.length ?? 0)), 0);
    const name = `${relDir}${basename(file)}`;
    let size: number;
    try {
      size = (await Deno.stat(file)).size;
    } catch {
      problems.push(`${name} is missing (${rel} keeps its weights there)`);
      continue;
    }
    if (size < needed) problems.push(`${name} is truncated: ${size} bytes, ${rel} needs ${needed}`);
  }
  return summary;
}

/** Reports when the config and the graph disagree; returns the value to use (config first). */
function agree(
  fromConfig: number | undefined,
  fromGraph: number | undefined,
  what: string,
  configRel: string,
  graphRel: string,
  problems: string[],
): number | undefined {
  if (fromConfig !== undefined && fromGraph !== undefined && fromConfig !== fromGraph) {
    problems.push(`${configRel} says ${what} ${fromConfig} but ${graphRel} has ${fromGraph}`);
  }
  return fromConfig ?? fromGraph;
}

/** sha256 of the token embedding table's first 4 KiB, its type and shape: equal only for equal weights. */
async function tokenEmbeddingFingerprint(
  modelPath: string,
  summary: OnnxSummary | undefined,
  hidden: number | undefined,
  vocab: number | undefined,
): Promise<string | undefined> {
  if (!summary) return undefined;
  const candidates = summary.initializers.filter((t) =>
    t.dims.length === 2 && (hidden === undefined || t.dims[1] === hidden) &&
    (vocab === undefined || t.dims[0] === vocab)
  );
  const table: InitializerInfo | undefined = candidates.find((t) => t.name.includes("token_embedding")) ??
    candidates.sort((a, b) => b.dims[0] - a.dims[0])[0];
  if (!table) return undefined;
  try {
    const head = await readInitializerPrefix(modelPath, table, 4096);
    if (!head || head.length === 0) return undefined;
    return createHash("sha256").update(`${table.dataType}:${table.dims.join("x")}:`).update(head)
      .digest("hex").slice(0, 16);
  } catch {
    return undefined;
  }
}

async function checkTokenizer(dir: string, rel: string, problems: string[]) {
  const hasBpe = await exists(join(dir, rel, "vocab.json")) && await exists(join(dir, rel, "merges.txt"));
  if (!hasBpe && !await exists(join(dir, rel, "tokenizer.json"))) {
    const where = rel ? `${rel}/` : "";
    problems.push(`${where}vocab.json and ${where}merges.txt (or ${where}tokenizer.json) are missing`);
  }
}

interface TextEncoderInfo {
  hidden?: number;
  projection?: number;
  act?: string;
  fingerprint?: string;
}

async function inspectTextEncoder(
  dir: string,
  part: string,
  problems: string[],
  withProjection: boolean,
): Promise<TextEncoderInfo> {
  const config = await readJson(join(dir, part, "config.json"), `${part}/config.json`, problems);
  const rel = `${part}/model.onnx`;
  const graph = await scanPart(dir, rel, problems);
  const hidden = agree(
    int(config?.hidden_size),
    lastDim(graph, ["last_hidden_state"]),
    "hidden size",
    `${part}/config.json`,
    rel,
    problems,
  );
  if (graph && !graph.outputs.some((o) => o.name === "last_hidden_state")) {
    problems.push(`${rel} has no last_hidden_state output`);
  }
  const projection = withProjection ? int(config?.projection_dim) : undefined;
  if (withProjection && graph && !graph.outputs.some((o) => o.name === "text_embeds")) {
    problems.push(`${rel} has no text_embeds output (export it with its projection)`);
  }
  const fingerprint = await tokenEmbeddingFingerprint(join(dir, rel), graph, hidden, int(config?.vocab_size));
  return {
    hidden,
    projection,
    act: typeof config?.hidden_act === "string" ? config.hidden_act : undefined,
    fingerprint,
  };
}

async function defaultSize(dir: string, unetConfig: Json | undefined): Promise<number | undefined> {
  const vae = await readJson(join(dir, "vae_decoder", "config.json"), "vae_decoder/config.json", []);
  const blocks = Array.isArray(vae?.block_out_channels) ? vae.block_out_channels.length : 4;
  const sample = int(unetConfig?.sample_size);
  return sample && sample > 0 ? sample * 2 ** (blocks - 1) : undefined;
}

/** model_index.json's entry of a part the pipeline does not have: [null, null] (or absent). */
function isNullPart(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.every((x) => x === null));
}

async function inspectPipeline(dir: string, index: Json, problems: string[]): Promise<ModelEntry> {
  const warnings: string[] = [];
  const cls = typeof index._class_name === "string" ? index._class_name : "";
  const xl = /XL/.test(cls) || "text_encoder_2" in index;
  if (!/StableDiffusion/.test(cls)) {
    problems.push(
      `model_index.json names ${cls ? `"${cls}"` : "no pipeline class"}, not a Stable Diffusion pipeline`,
    );
  }
  const refiner = xl && isNullPart(index.text_encoder) && isNullPart(index.tokenizer);
  const te: TextEncoderInfo = refiner ? {} : await inspectTextEncoder(dir, "text_encoder", problems, false);
  const te2 = xl ? await inspectTextEncoder(dir, "text_encoder_2", problems, true) : undefined;
  if (!refiner) await checkTokenizer(dir, "tokenizer", problems);
  if (xl) await checkTokenizer(dir, "tokenizer_2", problems);

  const unetConfig = await readJson(join(dir, "unet", "config.json"), "unet/config.json", problems);
  const unet = await scanPart(dir, "unet/model.onnx", problems);
  const crossAttention = agree(
    int(unetConfig?.cross_attention_dim),
    lastDim(unet, ["encoder_hidden_states"], false),
    "cross-attention dim",
    "unet/config.json",
    "unet/model.onnx",
    problems,
  );
  await scanPart(dir, "vae_decoder/model.onnx", problems);
  const encoderProblems: string[] = [];
  await scanPart(dir, "vae_encoder/model.onnx", encoderProblems);
  warnings.push(...encoderProblems.map((p) => `${p} (img2img needs it)`));
  if (!await exists(join(dir, "scheduler", "scheduler_config.json"))) {
    problems.push("scheduler/scheduler_config.json is missing");
  }
  if (!unet && await exists(join(dir, "unet", "diffusion_pytorch_model.safetensors"))) {
    problems.push(
      "this folder holds PyTorch weights: export it to ONNX with " +
        "`optimum-cli export onnx --model <folder> --task text-to-image <out>`",
    );
  }

  if (refiner) {
    if (te2?.hidden !== undefined && crossAttention !== undefined && te2.hidden !== crossAttention) {
      problems.push(
        `text_encoder_2's hidden size ${te2.hidden} does not match the refiner UNet's cross-attention dim ` +
          `${crossAttention}`,
      );
    }
  } else if (xl) {
    if (te.hidden !== undefined && te2?.hidden !== undefined && crossAttention !== undefined) {
      if (te.hidden + te2.hidden !== crossAttention) {
        problems.push(
          `the text encoders' hidden sizes ${te.hidden} + ${te2.hidden} do not add up to the UNet's ` +
            `cross-attention dim ${crossAttention}`,
        );
      }
    }
  } else if (te.hidden !== undefined && crossAttention !== undefined && te.hidden !== crossAttention) {
    problems.push(
      `the text encoder's hidden size ${te.hidden} does not match the UNet's cross-attention dim ${crossAttention}`,
    );
  }

  // SD 2.x conditions on OpenCLIP ViT-H (GELU, 1024 wide); SD 1.x on OpenAI CLIP ViT-L (QuickGELU, 768).
  const kind: ModelKind = xl ? "sdxl" : te.act === "gelu" || te.hidden === 1024 ? "sd2" : "sd1";
  const unetPath = join(dir, "unet", "model.onnx");
  const dims: ModelDims = { textHidden: te.hidden, crossAttention };
  if (xl) {
    dims.textHidden2 = te2?.hidden;
    dims.projection = te2?.projection;
  }
  return {
    name: basename(dir),
    path: dir,
    kind,
    dims: prune(dims),
    problems,
    warnings,
    unetFiles: unet ? [unetPath, ...[...unet.externalFiles].sort()] : undefined,
    textFingerprint: te.fingerprint,
    pipelineClass: cls || undefined,
    ...(refiner ? { refiner } : {}),
    defaultSize: await defaultSize(dir, unetConfig),
  };
}

async function inspectClip(dir: string, config: Json | undefined, problems: string[]): Promise<ModelEntry> {
  if (!config) problems.push("config.json is missing");
  else if (config.model_type !== undefined && config.model_type !== "clip") {
    problems.push(`config.json describes a "${config.model_type}" model, not a CLIP pair`);
  }
  const textConfig = (config?.text_config ?? {}) as Json;
  const text = await scanPart(dir, "onnx/text_model.onnx", problems);
  const vision = await scanPart(dir, "onnx/vision_model.onnx", problems);
  const textHidden = agree(
    int(textConfig.hidden_size),
    lastDim(text, ["last_hidden_state"]),
    "text hidden size",
    "config.json",
    "onnx/text_model.onnx",
    problems,
  );
  if (text && !text.outputs.some((o) => o.name === "text_embeds")) {
    problems.push("onnx/text_model.onnx has no text_embeds output");
  }
  if (vision && !vision.outputs.some((o) => o.name === "image_embeds")) {
    problems.push("onnx/vision_model.onnx has no image_embeds output");
  }
  const projection = agree(
    int(config?.projection_dim),
    lastDim(text, ["text_embeds"]),
    "projection dim",
    "config.json",
    "onnx/text_model.onnx",
    problems,
  );
  const imageProjection = lastDim(vision, ["image_embeds"]);
  if (projection !== undefined && imageProjection !== undefined && projection !== imageProjection) {
    problems.push(
      `onnx/vision_model.onnx's image_embeds are ${imageProjection}-d but the text side projects to ${projection}`,
    );
  }
  if (!text && await exists(join(dir, "model.safetensors"))) {
    problems.push(
      "this folder holds PyTorch weights: convert it with transformers.js's scripts/convert.py " +
        "(--split_modalities gives text_model.onnx and vision_model.onnx)",
    );
  }
  await checkTokenizer(dir, "", problems);
  if (!await exists(join(dir, "preprocessor_config.json"))) {
    problems.push("preprocessor_config.json is missing");
  }
  const fingerprint = await tokenEmbeddingFingerprint(
    join(dir, "onnx", "text_model.onnx"),
    text,
    textHidden,
    int(textConfig.vocab_size),
  );
  return {
    name: basename(dir),
    path: dir,
    kind: "clip",
    dims: prune({ textHidden, projection }),
    problems,
    warnings: [],
    textFingerprint: fingerprint,
  };
}

function prune(d: ModelDims): ModelDims {
  return Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)) as ModelDims;
}

/**
 * Inspects a folder: a pipeline when it has model_index.json, a CLIP pair when it has a CLIP config.json or
 * onnx/text_model.onnx, otherwise undefined (not a model folder).
 */
export async function inspectModelDir(dir: string): Promise<ModelEntry | undefined> {
  const problems: string[] = [];
  if (await exists(join(dir, "model_index.json"))) {
    const index = await readJson(join(dir, "model_index.json"), "model_index.json", problems);
    return inspectPipeline(dir, index ?? {}, problems);
  }
  const config = await readJson(join(dir, "config.json"), "config.json", problems);
  if (config?.model_type === "clip" || await exists(join(dir, "onnx", "text_model.onnx"))) {
    return inspectClip(dir, config, problems);
  }
  return undefined;
}

// A Stable Diffusion 1.x/2.x/XL pipeline folder in the diffusers ONNX layout (optimum's export:
// model_index.json, text_encoder/, unet/, vae_encoder/, vae_decoder/, tokenizer/, scheduler/; SDXL adds
// text_encoder_2/ and tokenizer_2/) opened for generation: its sessions, tokenizers, scheduler config and the
// numbers the pipeline needs (VAE scale factor, scaling factor, latent channels, default size, the UNet's input
// names and timestep type). Completeness is checked by the models registry's
// inspector, so a missing part is the same plain sentence everywhere ("unet/model.onnx is missing").
import { join } from "node:path";
import { ClipTokenizer } from "../clip/tokenizer.ts";
import { ClipTextEncoder } from "../clip/text_encoder.ts";
import { openSession, type Session, type SessionOptions } from "../onnx/session.ts";
import { inspectModelDir } from "../models/inspect.ts";
import { openUnet } from "./unet_resize.ts";
import { type VaeTiling, vaeTiling } from "./vae_tiling.ts";
import type { ConfigInput, PredictionType } from "./schedulers/index.ts";

export type SdVersion = "sd1" | "sd2" | "sdxl";

/** How the UNet export takes the timestep: optimum exports a float32 scalar; older exports an int64 [batch]. */
export interface TimestepInput {
  name: string;
  type: "float32" | "int64";
  /** A 0-d tensor, or one value per batch row. */
  perBatch: boolean;
}

export interface UnetIO {
  sample: string;
  timestep: TimestepInput;
  encoderHiddenStates: string;
  output: string;
  /**
   * SDXL's added conditions: the pooled text embedding and the time ids: six size/crop numbers, or five for a
   * refiner (original size, crop, aesthetic score).
   */
  added?: { textEmbeds: string; timeIds: string; pooledWidth: number; timeIdCount: 5 | 6 };
}

/** SDXL's second text encoder and what its conditioning needs. */
export interface SdxlParts {
  tokenizer2: ClipTokenizer;
  /** text_encoder_2: its penultimate hidden states go beside the first's; its text_embeds are the pooled vector. */
  textEncoder2: ClipTextEncoder;
  /** model_index.json's force_zeros_for_empty_prompt: an empty negative prompt conditions with zeros. */
  zeroEmptyNegative: boolean;
}

type Json = Record<string, unknown>;

async function readJson(dir: string, rel: string): Promise<Json> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, rel));
  } catch {
    throw new Error(`${dir}: ${rel} is missing`);
  }
  try {
    return JSON.parse(text) as Json;
  } catch (e) {
    throw new Error(`${dir}: ${rel} is not valid JSON (${(e as Error).message})`);
  }
}

function positiveNumber(v: unknown, what: string): number {
  if (typeof v !== "number" || !(v > 0)) throw new Error(`${what} must be a positive number, got ${v}`);
  return v;
}

async function openSdxlParts(dir: string, session: SessionOptions): Promise<SdxlParts> {
  const index = await readJson(dir, "model_index.json");
  const [tokenizer2, textEncoder2] = await Promise.all([
    ClipTokenizer.load(join(dir, "tokenizer_2")),
    ClipTextEncoder.open(join(dir, "text_encoder_2", "model.onnx"), session),
  ]);
  return { tokenizer2, textEncoder2, zeroEmptyNegative: index.force_zeros_for_empty_prompt !== false };
}

/** SDXL reads both encoders' penultimate layers and the second's projection: the export must give them. */
async function checkSdxlEncoders(
  dir: string,
  first: ClipTextEncoder,
  second: ClipTextEncoder,
  pooledWidth: number,
): Promise<void> {
  for (const [enc, rel] of [[first, "text_encoder"], [second, "text_encoder_2"]] as const) {
    if (enc.layers === undefined) {
      throw new Error(
        `${dir}: ${rel}/model.onnx has no hidden_states.N outputs (SDXL reads the penultimate layer)`,
      );
    }
  }
  const pooled = (await second.encode(new Int32Array([0, 0]))).pooled?.length ?? 0;
  if (pooled !== pooledWidth) {
    throw new Error(
      `${dir}: text_encoder_2's text_embeds has ${pooled} values but the UNet's text_embeds takes ${pooledWidth}`,
    );
  }
}

/** Finds the UNet's inputs by their diffusers names, failing in words when the export differs. */
export function unetIO(session: Session, where: string): UnetIO {
  const input = (name: string) => {
    const m = session.inputMetadata.find((x) => x.name === name);
    if (!m || !m.isTensor) {
      throw new Error(`${where} has no "${name}" input (inputs: ${session.inputNames.join(", ")})`);
    }
    return m;
  };
  input("sample");
  input("encoder_hidden_states");
  const t = input("timestep");
  if (!t.isTensor) throw new Error(`${where}: timestep is not a tensor`);
  let type: "float32" | "int64";
  if (t.type === "float32" || t.type === "int64") type = t.type;
  else throw new Error(`${where}: timestep is ${t.type}; float32 and int64 are supported`);
  const extra = session.inputNames.filter((n) =>
    !["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"].includes(n)
  );
  if (extra.length > 0) {
    throw new Error(`${where} also needs ${extra.join(", ")} (a UNet this pipeline does not run)`);
  }
  const io: UnetIO = {
    sample: "sample",
    timestep: { name: "timestep", type, perBatch: t.shape.length > 0 },
    encoderHiddenStates: "encoder_hidden_states",
    output: session.outputNames.includes("out_sample") ? "out_sample" : session.outputNames[0],
  };
  const xl = ["text_embeds", "time_ids"].filter((n) => session.inputNames.includes(n));
  if (xl.length === 1) {
    throw new Error(`${where} has ${xl[0]} but not ${xl[0] === "time_ids" ? "text_embeds" : "time_ids"}`);
  }
  if (xl.length === 2) {
    const pooled = input("text_embeds").shape.at(-1);
    const ids = input("time_ids").shape.at(-1);
    if (typeof pooled !== "number") throw new Error(`${where}: text_embeds has no fixed width`);
    if (typeof ids === "number" && ids !== 5 && ids !== 6) {
      throw new Error(`${where}: time_ids has ${ids} values per image, expected SDXL's 6 (a refiner's 5)`);
    }
    // A width the export leaves open is the base model's six.
    const timeIdCount = ids === 5 ? 5 : 6;
    io.added = { textEmbeds: "text_embeds", timeIds: "time_ids", pooledWidth: pooled, timeIdCount };
  }
  return io;
}

export interface OpenOptions {
  session?: SessionOptions;
}

export class SdModel {
  #vaeEncoder: Promise<Session> | undefined;
  #clipSkipEncoder: Promise<ClipTextEncoder> | undefined;

  private constructor(
    readonly dir: string,
    readonly version: SdVersion,
    readonly tokenizer: ClipTokenizer,
    /** The text encoder's last_hidden_state conditions the UNet (SD 2.x ships its encoder a layer short). */
    readonly textEncoder: ClipTextEncoder,
    readonly unet: Session,
    readonly unetIO: UnetIO,
    readonly vaeDecoder: Session,
    /** scheduler/scheduler_config.json as written. */
    readonly schedulerConfig: ConfigInput,
    /** Pixels per latent cell: 2^(len(block_out_channels) - 1) of the VAE. */
    readonly vaeScaleFactor: number,
    /** Latents are divided by this before decoding and multiplied after encoding (0.18215 for SD 1.x/2.x). */
    readonly scalingFactor: number,
    readonly latentChannels: number,
    /** Width of each conditioning token (768 for SD 1.x, 1024 for SD 2.x, 768 + 1280 for SDXL). */
    readonly hiddenSize: number,
    /** Whether vae_encoder/model.onnx exists (img2img). */
    readonly hasVaeEncoder: boolean,
    /**
     * Image sides must be multiples of this: the VAE factor (8), once the UNet's up-sampling is sized by its
     * skip connections (unet_resize.ts); for an export that rewrite cannot read, also times the UNet's
     * downsampling (2 per down block after the first), since traced exports fix the upsampling factor.
     */
    readonly sizeMultiple: number,
    /** The side the UNet was trained at: its config's sample_size × the VAE factor (512, 768, 1024 for SDXL). */
    readonly defaultSize: number,
    /** The VAE's tile sizes for tiled decoding and encoding (vae_tiling.ts). */
    readonly vaeTiling: VaeTiling,
    private readonly sessionOptions: SessionOptions,
    /** SDXL's second encoder; absent for SD 1.x/2.x. */
    readonly xl?: SdxlParts,
  ) {}

  /** Opens every part but the VAE encoder, which img2img opens on first use. */
  static async open(dir: string, opts: OpenOptions = {}): Promise<SdModel> {
    const entry = await inspectModelDir(dir);
    if (!entry) throw new Error(`${dir} is not a Stable Diffusion pipeline folder (no model_index.json)`);
    if (entry.kind === "clip") throw new Error(`${dir} is a CLIP pair, not a Stable Diffusion pipeline`);
    if (entry.problems.length > 0) throw new Error(`${dir}: ${entry.problems.join("; ")}`);
    if (entry.refiner) {
      throw new Error(
        `${dir} is an SDXL refiner: it runs after a base model (refiner_checkpoint), not alone`,
      );
    }
    const session = opts.session ?? {};
    const vaeConfig = await readJson(dir, join("vae_decoder", "config.json"));
    const blocks = vaeConfig.block_out_channels;
    if (!Array.isArray(blocks) || blocks.length === 0) {
      throw new Error(`${dir}: vae_decoder/config.json has no block_out_channels`);
    }
    const scalingFactor = positiveNumber(vaeConfig.scaling_factor ?? 0.18215, "the VAE's scaling_factor");
    const latentChannels = positiveNumber(vaeConfig.latent_channels ?? 4, "the VAE's latent_channels");
    const unetConfig = await readJson(dir, join("unet", "config.json"));
    const unetBlocks = Array.isArray(unetConfig.block_out_channels)
      ? unetConfig.block_out_channels.length
      : 1;
    const schedulerConfig = await readJson(dir, join("scheduler", "scheduler_config.json"));
    const tokenizer = await ClipTokenizer.load(dir);
    const unetPath = join(dir, "unet", "model.onnx");
    const [textEncoder, { session: unet, anySize }, vaeDecoder, xl] = await Promise.all([
      ClipTextEncoder.open(join(dir, "text_encoder", "model.onnx"), session),
      openUnet(unetPath, session),
      openSession(join(dir, "vae_decoder", "model.onnx"), session),
      entry.kind === "sdxl" ? openSdxlParts(dir, session) : undefined,
    ]);
    const io = unetIO(unet, "unet/model.onnx");
    if (io.added?.timeIdCount === 5) {
      throw new Error(`${dir}: a refiner's UNet (5 time ids) needs a base model`);
    }
    if (xl && !io.added) throw new Error(`${dir}: an SDXL UNet needs text_embeds and time_ids inputs`);
    if (!xl && io.added) {
      throw new Error(`${dir}: the UNet takes text_embeds and time_ids but this is no SDXL`);
    }
    if (xl) await checkSdxlEncoders(dir, textEncoder, xl.textEncoder2, io.added!.pooledWidth);
    const hiddenSize = textEncoder.hiddenSize + (xl?.textEncoder2.hiddenSize ?? 0);
    const ehs = unet.inputMetadata.find((m) => m.name === io.encoderHiddenStates);
    const width = ehs?.isTensor ? ehs.shape.at(-1) : undefined;
    if (typeof width === "number" && width !== hiddenSize) {
      throw new Error(
        `${dir}: the text encoder${xl ? "s'" : "'s"} hidden size ${hiddenSize} does not match the UNet's ` +
          `cross-attention dim ${width}`,
      );
    }
    const sampleSize = typeof unetConfig.sample_size === "number" ? unetConfig.sample_size : 64;
    return new SdModel(
      dir,
      entry.kind,
      tokenizer,
      textEncoder,
      unet,
      io,
      vaeDecoder,
      schedulerConfig,
      2 ** (blocks.length - 1),
      scalingFactor,
      latentChannels,
      hiddenSize,
      !entry.warnings.some((w) => w.startsWith("vae_encoder/")),
      2 ** (blocks.length - 1) * (anySize ? 1 : 2 ** (unetBlocks - 1)),
      sampleSize * 2 ** (blocks.length - 1),
      vaeTiling({ sample_size: vaeConfig.sample_size, block_out_channels: blocks }),
      session,
      xl,
    );
  }

  /** epsilon (SD 1.x, SD 2.x base) or v_prediction (SD 2.x 768-v), from the scheduler config. */
  get prediction(): PredictionType {
    return (this.schedulerConfig.prediction_type as PredictionType | undefined) ?? "epsilon";
  }

  /** The VAE encoder, opened once; a model without one cannot do img2img. */
  vaeEncoder(): Promise<Session> {
    if (!this.hasVaeEncoder) {
      return Promise.reject(new Error(`${this.dir}: vae_encoder/model.onnx is missing, so no img2img`));
    }
    this.#vaeEncoder ??= openSession(join(this.dir, "vae_encoder", "model.onnx"), this.sessionOptions);
    return this.#vaeEncoder;
  }

  /** The text encoder with A1111's CLIP skip 2 output (penultimate layer through the final norm), opened once. */
  clipSkipEncoder(): Promise<ClipTextEncoder> {
    this.#clipSkipEncoder ??= ClipTextEncoder.open(
      join(this.dir, "text_encoder", "model.onnx"),
      this.sessionOptions,
      { clipSkip: true },
    );
    return this.#clipSkipEncoder;
  }

  async release(): Promise<void> {
    const vae = this.#vaeEncoder;
    const skip = this.#clipSkipEncoder;
    this.#vaeEncoder = undefined;
    this.#clipSkipEncoder = undefined;
    await Promise.all([
      this.textEncoder.release(),
      this.xl?.textEncoder2.release(),
      this.unet.release(),
      this.vaeDecoder.release(),
      vae?.then((s) => s.release(), () => {}),
      skip?.then((s) => s.release(), () => {}),
    ]);
  }
}

// A Stable Diffusion 1.x/2.x pipeline folder in the diffusers ONNX layout (optimum's export: model_index.json,
// text_encoder/, unet/, vae_encoder/, vae_decoder/, tokenizer/, scheduler/) opened for generation: its
// sessions, tokenizer, scheduler config and the numbers the pipeline needs (VAE scale factor, scaling factor,
// latent channels, the UNet's input names and timestep type). Completeness is checked by the models registry's
// inspector, so a missing part is the same plain sentence everywhere ("unet/model.onnx is missing").
import { join } from "node:path";
import { ClipTokenizer } from "../clip/tokenizer.ts";
import { ClipTextEncoder } from "../clip/text_encoder.ts";
import { openSession, type Session, type SessionOptions } from "../onnx/session.ts";
import { inspectModelDir } from "../models/inspect.ts";
import { SDXL_UNSUPPORTED } from "../models/registry.ts";
import { openUnet } from "./unet_resize.ts";
import type { ConfigInput, PredictionType } from "./schedulers/index.ts";

export type SdVersion = "sd1" | "sd2";

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
    !["sample", "timestep", "encoder_hidden_states"].includes(n)
  );
  if (extra.length > 0) {
    throw new Error(
      `${where} also needs ${extra.join(", ")} (an SDXL or other UNet this pipeline does not run)`,
    );
  }
  return {
    sample: "sample",
    timestep: { name: "timestep", type, perBatch: t.shape.length > 0 },
    encoderHiddenStates: "encoder_hidden_states",
    output: session.outputNames.includes("out_sample") ? "out_sample" : session.outputNames[0],
  };
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
    /** Width of each conditioning token (768 for SD 1.x, 1024 for SD 2.x). */
    readonly hiddenSize: number,
    /** Whether vae_encoder/model.onnx exists (img2img). */
    readonly hasVaeEncoder: boolean,
    /**
     * Image sides must be multiples of this: the VAE factor (8), once the UNet's up-sampling is sized by its
     * skip connections (unet_resize.ts); for an export that rewrite cannot read, also times the UNet's
     * downsampling (2 per down block after the first), since traced exports fix the upsampling factor.
     */
    readonly sizeMultiple: number,
    private readonly sessionOptions: SessionOptions,
  ) {}

  /** Opens every part but the VAE encoder, which img2img opens on first use. */
  static async open(dir: string, opts: OpenOptions = {}): Promise<SdModel> {
    const entry = await inspectModelDir(dir);
    if (!entry) throw new Error(`${dir} is not a Stable Diffusion pipeline folder (no model_index.json)`);
    if (entry.kind === "clip") throw new Error(`${dir} is a CLIP pair, not a Stable Diffusion pipeline`);
    if (entry.problems.length > 0) throw new Error(`${dir}: ${entry.problems.join("; ")}`);
    if (entry.kind === "sdxl") {
      throw new Error(`${dir} is an SDXL pipeline: ${SDXL_UNSUPPORTED}`);
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
    const [textEncoder, { session: unet, anySize }, vaeDecoder] = await Promise.all([
      ClipTextEncoder.open(join(dir, "text_encoder", "model.onnx"), session),
      openUnet(unetPath, session),
      openSession(join(dir, "vae_decoder", "model.onnx"), session),
    ]);
    const io = unetIO(unet, "unet/model.onnx");
    const ehs = unet.inputMetadata.find((m) => m.name === io.encoderHiddenStates);
    const width = ehs?.isTensor ? ehs.shape.at(-1) : undefined;
    if (typeof width === "number" && width !== textEncoder.hiddenSize) {
      throw new Error(
        `${dir}: the text encoder's hidden size ${textEncoder.hiddenSize} does not match the UNet's ` +
          `cross-attention dim ${width}`,
      );
    }
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
      textEncoder.hiddenSize,
      !entry.warnings.some((w) => w.startsWith("vae_encoder/")),
      2 ** (blocks.length - 1) * (anySize ? 1 : 2 ** (unetBlocks - 1)),
      session,
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
      this.unet.release(),
      this.vaeDecoder.release(),
      vae?.then((s) => s.release(), () => {}),
      skip?.then((s) => s.release(), () => {}),
    ]);
  }
}

// An SDXL refiner (stabilityai's stable-diffusion-xl-refiner layout, optimum's ONNX export: text_encoder_2,
// tokenizer_2, a UNet that cross-attends to text_encoder_2 alone and takes five time ids ending with an
// aesthetic score) and when it takes over from the base model, as A1111 1.6+ and diffusers' ensemble of experts
// switch: the base runs the first part of the schedule, the refiner continues on the same latents.
//
// When the switch happens depends on the path, each as its reference does:
//  - A1111's samplers (apply_refiner): at the first model call whose noise level's nearest training timestep t
//    (a timestep sampler's t itself, truncated) has (999 − t) / 1000 ≥ refiner_switch_at, in float32;
//  - diffusers' schedulers (denoising_end / denoising_start): the base runs the timesteps t ≥
//    round(num_train_timesteps · (1 − switch_at)), the refiner the rest.
import { join } from "node:path";
import { ClipTextEncoder } from "../clip/text_encoder.ts";
import { ClipTokenizer } from "../clip/tokenizer.ts";
import { inspectModelDir } from "../models/inspect.ts";
import type { Session, SessionOptions } from "../onnx/session.ts";
import { encodeRefinerPair, type PromptPair, type RefinerText } from "./conditioning.ts";
import { type UnetIO, unetIO } from "./sd_model.ts";
import { openUnet } from "./unet_resize.ts";
import type { UnetModel } from "./unet.ts";

const f = Math.fround;

/** A1111's sdxl_refiner_high_aesthetic_score / _low_ (diffusers' aesthetic_score / negative_aesthetic_score). */
export const AESTHETIC_SCORES = { positive: 6.0, negative: 2.5 } as const;

export class SdxlRefiner implements UnetModel, RefinerText {
  readonly aestheticScores = AESTHETIC_SCORES;

  private constructor(
    readonly dir: string,
    readonly tokenizer2: ClipTokenizer,
    readonly textEncoder2: ClipTextEncoder,
    readonly unet: Session,
    readonly unetIO: UnetIO,
    readonly vaeScaleFactor: number,
    readonly hiddenSize: number,
    /** model_index.json's force_zeros_for_empty_prompt (false in stabilityai's refiner). */
    readonly zeroEmptyNegative: boolean,
  ) {}

  static async open(dir: string, session: SessionOptions = {}): Promise<SdxlRefiner> {
    const entry = await inspectModelDir(dir);
    if (!entry || entry.kind === "clip") throw new Error(`${dir} is not a Stable Diffusion pipeline folder`);
    if (entry.problems.length > 0) throw new Error(`${dir}: ${entry.problems.join("; ")}`);
    if (!entry.refiner) {
      throw new Error(`${dir} is not an SDXL refiner (its model_index.json has a text_encoder)`);
    }
    const read = async (rel: string) => JSON.parse(await Deno.readTextFile(join(dir, rel)));
    const [index, vae] = await Promise.all([read("model_index.json"), read("vae_decoder/config.json")]);
    const [tokenizer2, textEncoder2, { session: unet }] = await Promise.all([
      ClipTokenizer.load(join(dir, "tokenizer_2")),
      ClipTextEncoder.open(join(dir, "text_encoder_2", "model.onnx"), session),
      openUnet(join(dir, "unet", "model.onnx"), session),
    ]);
    const io = unetIO(unet, "unet/model.onnx");
    if (io.added?.timeIdCount !== 5) {
      throw new Error(
        `${dir}: a refiner's UNet takes text_embeds and 5 time ids (size, crop, aesthetic score)`,
      );
    }
    const blocks = Array.isArray(vae.block_out_channels) ? vae.block_out_channels.length : 4;
    return new SdxlRefiner(
      dir,
      tokenizer2,
      textEncoder2,
      unet,
      io,
      2 ** (blocks - 1),
      textEncoder2.hiddenSize,
      index.force_zeros_for_empty_prompt !== false,
    );
  }

  /** Both prompts as the refiner's UNet takes them. */
  encode(prompt: string, negativePrompt: string): Promise<PromptPair> {
    return encodeRefinerPair(this, prompt, negativePrompt);
  }

  async release(): Promise<void> {
    await Promise.all([this.textEncoder2.release(), this.unet.release()]);
  }
}

/** The second encoder's columns (`width` wide, after the first encoder's `offset`) of tokens × hidden rows. */
export function secondEncoderColumns(z: Float32Array, offset: number, width: number): Float32Array {
  const hidden = offset + width;
  const tokens = z.length / hidden;
  const out = new Float32Array(tokens * width);
  for (let t = 0; t < tokens; t++) out.set(z.subarray(t * hidden + offset, (t + 1) * hidden), t * width);
  return out;
}

/** Two encodings of the same text from the same weights: within float rounding of their largest value. */
export function sameEncoder(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0, max = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    max = Math.max(max, Math.abs(b[i]));
  }
  return diff <= 1e-4 * max;
}

/**
 * The refiner's prompts from the base's hooked (personalized) pair, for a refiner whose text_encoder_2 is the
 * base's: the prompt's second-encoder columns and pooled vector as the hooks left them (so a bigG embedding
 * personalizes the refiner as it does the base), and the negative's too where the base encoded it; where the
 * base zeroed an empty negative (force_zeros_for_empty_prompt), the refiner's own encoding of "", as its
 * config asks.
 */
export function refinerPrompts(
  base: PromptPair,
  own: PromptPair,
  firstWidth: number,
  baseNegativeEncoded: boolean,
): PromptPair {
  if (base.tokens !== own.tokens) {
    throw new Error(`the base's prompts have ${base.tokens} tokens but the refiner's ${own.tokens}`);
  }
  return {
    ...own,
    cond: secondEncoderColumns(base.cond, firstWidth, own.hidden),
    pooledCond: base.pooledCond,
    ...(baseNegativeEncoded
      ? { uncond: secondEncoderColumns(base.uncond, firstWidth, own.hidden), pooledUncond: base.pooledUncond }
      : {}),
  };
}

/** A1111's completed ratio at training timestep t, (999 − t) / 1000 in float32, against the switch point. */
export function a1111Switches(timestep: number, switchAt: number): boolean {
  return !(f(f(999 - timestep) / 1000) < f(switchAt));
}

/** The training timestep whose sigma is nearest `sigma` (A1111's argmin over the model's sigmas). */
export function nearestTimestep(sigmas: Float32Array, sigma: number): number {
  let best = 0;
  for (let i = 1; i < sigmas.length; i++) {
    if (Math.abs(f(sigmas[i] - sigma)) < Math.abs(f(sigmas[best] - sigma))) best = i;
  }
  return best;
}

/** diffusers' denoising_end cut: the base runs timesteps ≥ this (Python's round, half to even). */
export function diffusersCutoff(switchAt: number, trainTimesteps: number): number {
  const x = trainTimesteps - switchAt * trainTimesteps;
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

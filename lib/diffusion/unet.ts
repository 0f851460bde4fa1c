// One denoising call for a batch: the UNet runs on [uncond × B, cond × B] (negative prompt first, as diffusers
// concatenates them) and the two halves are combined with the guidance scale. The conditioning tensor and the
// sample buffer are built once per batch, so a step allocates only the per-image outputs. SDXL's UNet also takes
// each row's pooled text embedding and its time ids (original size, crop corner, target size: here the image
// size, (0, 0) and the image size, as diffusers and A1111 pass them for txt2img and img2img).
import { Tensor } from "../onnx/session.ts";
import type { PromptPair } from "./conditioning.ts";
import { guide } from "./latents.ts";
import type { SdModel } from "./sd_model.ts";

/**
 * What a UNet batch needs of a model: its session and inputs, the VAE factor (the time ids' image size) and,
 * for an SDXL refiner, the aesthetic scores its time ids end with for the prompt's and the negative's rows.
 */
export type UnetModel = Pick<SdModel, "unet" | "unetIO" | "vaeScaleFactor"> & {
  aestheticScores?: { positive: number; negative: number };
};

export class UnetBatch {
  #sample: Float32Array;
  /** Inpainting checkpoints: each image's extra input channels (mask, masked-image latents). */
  #concat?: { perImage: readonly Float32Array[]; channels: number };
  readonly #hidden: Tensor;
  readonly #added: Record<string, Tensor> = {};
  readonly #rows: number;
  readonly #perImage: number;

  /**
   * `latentShape` is one image's C × h × w. `guide` runs classifier-free guidance; by default when guidance > 1,
   * as diffusers does (A1111 guides at any scale).
   */
  constructor(
    private readonly model: UnetModel,
    private readonly batch: number,
    private readonly latentShape: readonly [number, number, number],
    prompts: PromptPair,
    private readonly guidance: number,
    guide = guidance > 1,
  ) {
    const cfg = guide;
    this.#rows = cfg ? 2 * batch : batch;
    this.#perImage = latentShape[0] * latentShape[1] * latentShape[2];
    this.#sample = new Float32Array(this.#rows * this.#perImage);
    const per = prompts.tokens * prompts.hidden;
    const hidden = new Float32Array(this.#rows * per);
    for (let b = 0; b < batch; b++) {
      if (cfg) {
        hidden.set(prompts.uncond, b * per);
        hidden.set(prompts.cond, (batch + b) * per);
      } else {
        hidden.set(prompts.cond, b * per);
      }
    }
    this.#hidden = new Tensor("float32", hidden, [this.#rows, prompts.tokens, prompts.hidden]);
    const added = model.unetIO.added;
    if (added) {
      const { pooledCond, pooledUncond } = prompts;
      if (!pooledCond || !pooledUncond) throw new Error("an SDXL UNet needs the prompts' pooled vectors");
      const p = added.pooledWidth;
      const pooled = new Float32Array(this.#rows * p);
      for (let b = 0; b < batch; b++) {
        if (cfg) {
          pooled.set(pooledUncond, b * p);
          pooled.set(pooledCond, (batch + b) * p);
        } else pooled.set(pooledCond, b * p);
      }
      const [, h, w] = latentShape.map((v) => v * model.vaeScaleFactor);
      const k = added.timeIdCount;
      const ids = new Float32Array(this.#rows * k);
      // A refiner's rows end with the aesthetic score (negative prompt's rows first, as the batch is laid out).
      const scores = model.aestheticScores;
      if (k === 5 && !scores) throw new Error("a refiner UNet's time ids need its aesthetic scores");
      for (let r = 0; r < this.#rows; r++) {
        const negativeRow = cfg && r < batch;
        ids.set(
          k === 6 ? [h, w, 0, 0, h, w] : [h, w, 0, 0, negativeRow ? scores!.negative : scores!.positive],
          r * k,
        );
      }
      this.#added[added.textEmbeds] = new Tensor("float32", pooled, [this.#rows, p]);
      this.#added[added.timeIds] = new Tensor("float32", ids, [this.#rows, k]);
    }
  }

  /**
   * For an inpainting checkpoint: each image's conditioning (`channels` × h × w), fed after its latents on
   * every call to both halves of the batch, as diffusers and A1111 concatenate it.
   */
  withImageConditioning(perImage: readonly Float32Array[], channels: number): this {
    const plane = this.latentShape[1] * this.latentShape[2];
    if (perImage.length !== this.batch || perImage.some((c) => c.length !== channels * plane)) {
      throw new Error(`image conditioning: expected ${this.batch} × ${channels} × ${plane} values`);
    }
    this.#concat = { perImage, channels };
    this.#sample = new Float32Array(this.#rows * (this.#perImage + channels * plane));
    return this;
  }

  /** The guided model output for each image, given each image's scaled model input at timestep t. */
  async predict(inputs: readonly Float32Array[], t: number): Promise<Float32Array[]> {
    return (await this.predictGuided(inputs, t)).guided;
  }

  /** As predict, with the negative prompt's own outputs too when guiding (DDIM CFG++ steps along them). */
  async predictGuided(
    inputs: readonly Float32Array[],
    t: number,
  ): Promise<{ guided: Float32Array[]; uncond?: Float32Array[] }> {
    const n = this.#perImage;
    const cfg = this.#rows === 2 * this.batch;
    const extra = this.#concat ? this.#concat.perImage[0].length : 0;
    const row = n + extra;
    inputs.forEach((x, b) => {
      if (x.length !== n) throw new Error(`UNet input ${b} has ${x.length} values, expected ${n}`);
      for (const r of cfg ? [b, this.batch + b] : [b]) {
        this.#sample.set(x, r * row);
        if (this.#concat) this.#sample.set(this.#concat.perImage[b], r * row + n);
      }
    });
    const [c, h, w] = this.latentShape;
    const io = this.model.unetIO;
    const timestep = io.timestep.type === "float32"
      ? new Float32Array(io.timestep.perBatch ? this.#rows : 1).fill(t)
      : new BigInt64Array(io.timestep.perBatch ? this.#rows : 1).fill(BigInt(Math.trunc(t)));
    const feeds = {
      [io.sample]: new Tensor("float32", this.#sample, [this.#rows, c + (this.#concat?.channels ?? 0), h, w]),
      [io.timestep.name]: new Tensor(io.timestep.type, timestep, io.timestep.perBatch ? [this.#rows] : []),
      [io.encoderHiddenStates]: this.#hidden,
      ...this.#added,
    };
    const result = await this.model.unet.run(feeds);
    const out = result[io.output];
    if (out.type !== "float32" || out.data.length !== this.#rows * n) {
      throw new Error(
        `the UNet returned ${out.type} × ${out.data.length}, expected float32 × ${this.#rows * n}`,
      );
    }
    const data = out.data as Float32Array;
    if (!cfg) return { guided: inputs.map((_, b) => data.slice(b * n, (b + 1) * n)) };
    const guided = inputs.map((_, b) => {
      const guided = new Float32Array(n);
      guide(
        data.subarray(b * n, (b + 1) * n),
        data.subarray((this.batch + b) * n, (this.batch + b + 1) * n),
        this.guidance,
        guided,
      );
      return guided;
    });
    return { guided, uncond: inputs.map((_, b) => data.slice(b * n, (b + 1) * n)) };
  }
}

// Aesthetic gradients as the A1111 extension applies them to a prompt's conditioning: each 77-token chunk is
// personalized on the CLIP pair's text model and mixed into the checkpoint's conditioning (linearly or by slerp)
// with the aesthetic weight. Results are cached, and one run serves every step count of a sweep.
import { join } from "node:path";
import { PENULTIMATE, withPenultimateOutput } from "../clip/clip_skip.ts";
import type { ClipTokenizer } from "../clip/tokenizer.ts";
import { openSession, type Session, type SessionOptions, Tensor } from "../onnx/session.ts";
import { TextPersonalizer } from "./engine.ts";
import { defaultGraphCacheDir } from "./graph_cache.ts";
import { aestheticTarget, linearMix, slerpA1111 } from "./mix.ts";
import { type PersonalizationSource, withPairProjection } from "./sources.ts";
import { decodeModel, type ModelProto } from "../onnx/proto.ts";

export interface AestheticSettings {
  weight: number;
  steps: number;
  lr: number;
  slerp: boolean;
  /** Optional text whose CLIP features steer the target (the extension's "aesthetic text"). */
  text: string;
  slerpAngle: number;
  textNegative: boolean;
}

/** The A1111 extension's defaults. */
export const AESTHETIC_DEFAULTS: AestheticSettings = {
  weight: 0.9,
  steps: 5,
  lr: 0.0001,
  slerp: false,
  text: "",
  slerpAngle: 0.1,
  textNegative: false,
};

/** As in the A1111 extension: zero steps, learning rate or weight leave the conditioning as it is. */
export function aestheticIsOff(s: Pick<AestheticSettings, "steps" | "lr" | "weight">): boolean {
  return s.steps === 0 || s.lr === 0 || s.weight === 0;
}

export interface AestheticResult {
  /** The mixed conditioning, tokens × hidden, for each requested step count. */
  conditioning: Map<number, Float32Array>;
  /** Per chunk, cos(text_embeds, target) before each step and after the last. */
  similarity: number[][];
  /** ‖personalized − original‖₂ of the conditioning at the largest step count, before mixing. */
  deltaL2: number;
  /**
   * SDXL's second encoder: the pooled vector (text_embeds of the first chunk) of the personalized model, mixed
   * into the given one as the conditioning is, for each requested step count.
   */
  pooled?: Map<number, Float32Array>;
}

export type Layer = "last" | "penultimate";

interface CachedRun {
  similarity: number[];
  conditioning: Map<number, Float32Array>;
  pooled?: Map<number, Float32Array>;
}

const CACHE_SIZE = 64;

export class AestheticPersonalizer {
  readonly #cache = new Map<string, CachedRun>();
  #plain?: Promise<Session>;

  private constructor(
    readonly engine: TextPersonalizer,
    /** The text model as it is, for aesthetic text only: opened the first time a job has one. */
    private readonly plainPath: string,
    private readonly session: SessionOptions,
    private readonly tokenizer: ClipTokenizer,
    /** Which output the conditioning is read from (part of the cache key). */
    readonly layer: string,
  ) {}

  /**
   * A text model file that has its own projection (text_embeds), such as SDXL's text_encoder_2, with the
   * conditioning read from the named output (SDXL: the penultimate `hidden_states.N`, without the final norm).
   */
  static async fromTextModel(
    path: string,
    tokenizer: ClipTokenizer,
    opts: { conditioningOutput?: string; pooledOutput?: string; threads?: number; session?: SessionOptions } =
      {},
  ): Promise<AestheticPersonalizer> {
    const output = opts.conditioningOutput ?? "last_hidden_state";
    const session = opts.session ?? { threads: opts.threads };
    const engine = await TextPersonalizer.load(path, {
      conditioningOutput: output,
      pooledOutput: opts.pooledOutput,
      session,
      modelName: path,
      cache: { dir: defaultGraphCacheDir(), key: "" },
    });
    return new AestheticPersonalizer(engine, path, session, tokenizer, output);
  }

  /** Opens a CLIP pair in the transformers.js layout (`onnx/text_model.onnx` with text_embeds). */
  static async load(
    clipDir: string,
    tokenizer: ClipTokenizer,
    opts: {
      layer?: Layer;
      threads?: number;
      session?: SessionOptions;
      source?: PersonalizationSource;
      checkpointDir?: string;
      /**
       * Read the conditioning from this output of the checkpoint's encoder as it is (SDXL: the penultimate
       * `hidden_states.N`, no final norm) instead of `layer`; with source "checkpoint".
       */
      conditioningOutput?: string;
    } = {},
  ): Promise<AestheticPersonalizer> {
    const layer = opts.layer ?? "last";
    const session = opts.session ?? { threads: opts.threads };
    const pairPath = join(clipDir, "onnx", "text_model.onnx");
    let path = pairPath;
    let name = clipDir;
    let project = (m: ModelProto) => m;
    let rewrite = ""; // names `project` for the graph cache
    if (opts.source === "checkpoint") {
      if (!opts.checkpointDir) {
        throw new Error("personalizing the checkpoint's text encoder needs its folder");
      }
      path = join(opts.checkpointDir, "text_encoder", "model.onnx");
      name = `${opts.checkpointDir} (projection from ${clipDir})`;
      const pair = decodeModel(Deno.readFileSync(pairPath));
      project = (m) => withPairProjection(m, pair);
      const info = await Deno.stat(pairPath);
      rewrite = `projection of ${await Deno.realPath(pairPath)} ${info.size} ${info.mtime?.getTime()}`;
    }
    if (opts.conditioningOutput && opts.source !== "checkpoint") {
      throw new Error(
        "a named conditioning output is read from the checkpoint's encoder (source checkpoint)",
      );
    }
    const readFrom = opts.conditioningOutput ?? layer;
    const cache = { dir: defaultGraphCacheDir(), key: `${rewrite}|${readFrom}` };
    const engine = await TextPersonalizer.load(
      path,
      opts.conditioningOutput
        ? { transform: project, conditioningOutput: opts.conditioningOutput, session, modelName: name, cache }
        : layer === "penultimate"
        ? {
          transform: (m) => withPenultimateOutput(project(m)),
          conditioningOutput: PENULTIMATE,
          session,
          modelName: name,
          cache,
        }
        : { transform: project, session, modelName: name, cache },
    );
    return new AestheticPersonalizer(engine, pairPath, session, tokenizer, readFrom);
  }

  /** CLIP text features of a short text, tokenized without padding as the extension does. */
  async textFeatures(text: string): Promise<Float32Array> {
    const ids = this.tokenizer.encode(text).slice(0, 77);
    const t = new Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
    this.#plain ??= openSession(this.plainPath, this.session);
    const plain = await this.#plain;
    const out = await plain.run({ [plain.inputNames[0]]: t });
    return out.text_embeds.data as Float32Array;
  }

  /**
   * Personalizes each chunk of `chunkIds` toward `embedding` and mixes the result into `z` (the checkpoint's
   * conditioning of the same chunks). `sweep` lists extra step counts to return from the same run. `pooled`
   * (SDXL's second encoder, opened with a pooledOutput) is mixed likewise with the first chunk's.
   */
  async apply(
    z: Float32Array,
    chunkIds: Int32Array[],
    embedding: Float32Array,
    settings: AestheticSettings,
    sweep: number[] = [],
    pooled?: Float32Array,
    shouldStop?: () => boolean,
  ): Promise<AestheticResult> {
    const hidden = this.engine.info.hiddenSize;
    if (z.length !== chunkIds.length * 77 * hidden) {
      throw new Error(
        `the conditioning has ${z.length} values but ${chunkIds.length} chunk(s) of 77 × ${hidden} were expected ` +
          `(does the CLIP pair's hidden size match the checkpoint's?)`,
      );
    }
    const steps = [...new Set([settings.steps, ...sweep])].sort((a, b) => a - b);
    const maxSteps = steps.at(-1)!;
    const text = settings.text ? await this.textFeatures(settings.text) : undefined;
    const target = aestheticTarget(embedding, text, settings.slerpAngle, settings.textNegative);
    if (aestheticIsOff({ ...settings, steps: maxSteps })) {
      // Nothing moves, but how close each chunk already is (one forward run) is still worth reporting.
      const similarity: number[][] = [];
      for (const ids of chunkIds) {
        similarity.push((await this.#personalize(ids, target, 0, 0, [])).similarity);
      }
      const same = (x: Float32Array) => new Map(steps.map((s) => [s, x.slice()]));
      return { conditioning: same(z), similarity, deltaL2: 0, ...pooled ? { pooled: same(pooled) } : {} };
    }
    const runs: CachedRun[] = [];
    for (const ids of chunkIds) {
      runs.push(await this.#personalize(ids, target, settings.lr, maxSteps, steps, shouldStop));
    }

    const size = 77 * hidden;
    const conditioning = new Map<number, Float32Array>();
    let deltaL2 = 0;
    for (const s of steps) {
      const out = new Float32Array(z.length);
      runs.forEach((run, c) => {
        const zc = z.subarray(c * size, (c + 1) * size);
        const zn = run.conditioning.get(s)!;
        out.set(
          settings.slerp
            ? slerpA1111(zc, zn, settings.weight, 77, hidden)
            : linearMix(zc, zn, settings.weight),
          c * size,
        );
      });
      conditioning.set(s, out);
    }
    for (const run of runs) {
      const first = run.conditioning.get(0)!; // every run keeps step 0
      const last = run.conditioning.get(maxSteps)!;
      for (let i = 0; i < last.length; i++) deltaL2 += (last[i] - first[i]) ** 2;
    }
    const result: AestheticResult = {
      conditioning,
      similarity: runs.map((r) => r.similarity),
      deltaL2: Math.sqrt(deltaL2),
    };
    const personalizedPooled = runs[0].pooled;
    if (pooled && personalizedPooled) {
      const mix = (p: Float32Array) =>
        settings.slerp
          ? slerpA1111(pooled, p, settings.weight, 1, p.length)
          : linearMix(pooled, p, settings.weight);
      result.pooled = new Map(steps.map((s) => [s, mix(personalizedPooled.get(s)!)]));
    }
    return result;
  }

  async #personalize(
    ids: Int32Array,
    target: Float32Array,
    lr: number,
    steps: number,
    keep: number[],
    shouldStop?: () => boolean,
  ): Promise<CachedRun> {
    const keepAll = [...new Set([0, ...keep])];
    const key = JSON.stringify([
      this.engine.modelName,
      this.layer,
      Array.from(ids),
      Array.from(target),
      lr,
      steps,
      keepAll,
    ]);
    const hit = this.#cache.get(key);
    if (hit) {
      // Refresh its place in the LRU order.
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit;
    }
    // The extension does not renormalize the target after a text slerp; neither do we.
    const run = await this.engine.personalize(ids, target, {
      steps,
      lr,
      keep: keepAll,
      normalize: false,
      shouldStop,
    });
    this.#cache.set(key, run);
    if (this.#cache.size > CACHE_SIZE) this.#cache.delete(this.#cache.keys().next().value!);
    return run;
  }

  get cacheSize(): number {
    return this.#cache.size;
  }

  async release(): Promise<void> {
    await Promise.all([this.engine.release(), this.#plain?.then((p) => p.release())]);
  }
}

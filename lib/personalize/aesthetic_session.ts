// The one seam between the front ends (txt2img/img2img/personalize CLIs, the WebUI's aesthetic extension) and
// the aesthetic engine. A session opens the tokenizer, picks the pair's layer that matches the checkpoint's
// conditioning, and holds the personalizer with its cache; hook() turns an embedding and the extension's
// settings into a conditioning hook and its infotext fields, and owns the checks and the off-switch.
import { join } from "node:path";
import { ClipTokenizer } from "../clip/tokenizer.ts";
import type { ConditioningHook } from "../clip/conditioning_hook.ts";
import { type Embedding, validateEmbedding } from "../io/embedding.ts";
import { aestheticParams } from "../io/infotext.ts";
import { InputError } from "../io/input_error.ts";
import type { SessionOptions } from "../onnx/session.ts";
import {
  aestheticIsOff,
  AestheticPersonalizer,
  type AestheticResult,
  type AestheticSettings,
  type Layer,
} from "./aesthetic.ts";
import { pairLayer, type PersonalizationSource, textLayers } from "./sources.ts";

/** The off-switch, for front ends that skip work (reading the embedding) when it is off. */
export { aestheticIsOff };

export interface AestheticSessionOptions {
  /** The checkpoint (diffusers layout): its tokenizer, and its text encoder's depth. */
  modelDir: string;
  /** The CLIP pair (transformers.js layout) whose text model is personalized. */
  clipDir: string;
  /** A1111's "Clip skip", 1 or 2; default 1. */
  clipSkip?: number;
  /** Which text model is personalized; default the pair's ("clip"). */
  source?: PersonalizationSource;
  session?: SessionOptions;
}

/** An aesthetic embedding as the user named it (the infotext's "Aesthetic embedding"). */
export interface NamedEmbedding {
  name: string;
  embedding: Embedding;
}

export interface HookOptions {
  /** Other step counts (an X/Y sweep) to get from the same optimization run, so later values hit the cache. */
  sweep?: number[];
  /** The positive prompt's similarity per chunk, before each step and after the last. */
  onSimilarity?: (similarity: number[][]) => void;
  /** A line for a progress display while the optimization runs; null when it is done. */
  onStatus?: (text: string | null) => void;
  /** Polled between Adam steps: true stops the optimization (PersonalizationStopped). */
  shouldStop?: () => boolean;
}

export interface AestheticHook {
  hook: ConditioningHook;
  /** The extension's infotext fields, in its order. */
  params: [string, string][];
}

/** What each front end calls the settings' fields in its messages (CLI flags, form labels). */
export type SettingNames = Partial<Record<"steps" | "lr" | "weight", string>>;

/** Checks the settings a user gives, naming the field as the front end calls it. */
export function checkAestheticSettings(s: AestheticSettings, names: SettingNames = {}): void {
  const name = (k: keyof SettingNames) => names[k] ?? k;
  if (!Number.isInteger(s.steps) || s.steps < 0) {
    throw new InputError(`${name("steps")} must be a whole number ≥ 0, got ${s.steps}`, name("steps"));
  }
  if (!Number.isFinite(s.lr) || s.lr < 0) {
    throw new InputError(`${name("lr")} must be a number ≥ 0, got ${s.lr}`, name("lr"));
  }
  if (!Number.isFinite(s.weight)) {
    throw new InputError(`${name("weight")} must be a number, got ${s.weight}`, name("weight"));
  }
}

/** The pair's layer that matches the checkpoint's conditioning (see pairLayer). */
function layerFor(opts: AestheticSessionOptions): Layer {
  return pairLayer(
    textLayers(join(opts.modelDir, "text_encoder", "config.json")),
    textLayers(join(opts.clipDir, "config.json")),
    opts.clipSkip ?? 1,
    opts.source ?? "clip",
  );
}

export class AestheticSession {
  private constructor(
    readonly personalizer: AestheticPersonalizer,
    readonly tokenizer: ClipTokenizer,
    readonly clipDir: string,
    /** What the session was opened for: (model, pair, layer, source, threads). */
    readonly key: string,
  ) {}

  static key(opts: AestheticSessionOptions): string {
    return JSON.stringify([opts.modelDir, opts.clipDir, layerFor(opts), opts.source ?? "clip", opts.session]);
  }

  static async open(opts: AestheticSessionOptions): Promise<AestheticSession> {
    const layer = layerFor(opts);
    const tokenizer = await ClipTokenizer.load(opts.modelDir);
    const personalizer = await AestheticPersonalizer.load(opts.clipDir, tokenizer, {
      layer,
      session: opts.session ?? {},
      source: opts.source,
      checkpointDir: opts.modelDir,
    });
    return new AestheticSession(personalizer, tokenizer, opts.clipDir, AestheticSession.key(opts));
  }

  /** The CLIP projection's width: the size an embedding must have. */
  get embedDim(): number {
    return this.personalizer.engine.info.embedDim;
  }

  get hiddenSize(): number {
    return this.personalizer.engine.info.hiddenSize;
  }

  /** Throws an InputError naming both sizes when the embedding cannot be used with this pair. */
  checkEmbedding(embedding: Embedding, loc: string | string[] = "embedding"): void {
    try {
      validateEmbedding(embedding, this.embedDim, `the CLIP pair ${this.clipDir}`);
    } catch (e) {
      throw new InputError((e as Error).message, loc);
    }
  }

  /**
   * The conditioning hook that personalizes every prompt (the negative too, as the paper's encoder and the
   * extension do) toward the embedding; undefined when the settings switch it off.
   */
  hook(e: NamedEmbedding, settings: AestheticSettings, opts: HookOptions = {}): AestheticHook | undefined {
    checkAestheticSettings(settings);
    if (aestheticIsOff(settings)) return undefined;
    this.checkEmbedding(e.embedding);
    const hook: ConditioningHook = async ({ z, chunkIds, negative }) => {
      opts.onStatus?.(
        `Aesthetic optimization (${settings.steps} steps)${negative ? ", negative prompt" : ""}`,
      );
      let result;
      try {
        result = await this.personalizer.apply(
          z,
          chunkIds,
          e.embedding.data,
          settings,
          opts.sweep,
          opts.shouldStop,
        );
      } finally {
        opts.onStatus?.(null);
      }
      if (!negative) opts.onSimilarity?.(result.similarity.map((s) => s.slice(0, settings.steps + 1)));
      return result.conditioning.get(settings.steps)!;
    };
    return { hook, params: aestheticParams({ ...settings, embedding: e.name }) };
  }

  /** Personalizes one prompt's conditioning and reports the whole result (the personalize CLI's report). */
  apply(
    z: Float32Array,
    chunkIds: Int32Array[],
    embedding: Embedding,
    settings: AestheticSettings,
  ): Promise<AestheticResult> {
    checkAestheticSettings(settings);
    this.checkEmbedding(embedding);
    return this.personalizer.apply(z, chunkIds, embedding.data, settings);
  }

  release(): Promise<void> {
    return this.personalizer.release();
  }
}

/** One open session, kept while consecutive jobs ask for the same (model, pair, layer), reopened otherwise. */
export class AestheticSessionCache {
  #open: Promise<AestheticSession> | undefined;

  async get(opts: AestheticSessionOptions): Promise<AestheticSession> {
    const key = AestheticSession.key(opts);
    const current = await this.#open?.catch(() => undefined);
    if (current?.key === key) return current;
    await current?.release();
    this.#open = AestheticSession.open(opts);
    return this.#open;
  }

  async release(): Promise<void> {
    await (await this.#open?.catch(() => undefined))?.release();
    this.#open = undefined;
  }
}

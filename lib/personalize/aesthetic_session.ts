// The one seam between the front ends (txt2img/img2img/personalize CLIs, the WebUI's aesthetic extension) and
// the aesthetic engine. A session opens the tokenizer, picks the pair's layer that matches the checkpoint's
// conditioning, and holds the personalizer with its cache; hook() turns an embedding and the extension's
// settings into a conditioning hook and its infotext fields, and owns the checks and the off-switch.
//
// SDXL (a checkpoint with text_encoder_2/): each of its two encoders is personalized in the checkpoint, toward an
// embedding of its own width, and mixed into its own columns (multi_encoder.ts). The first encoder (CLIP
// ViT-L/14's text model, no projection) borrows the projection of the ViT-L/14 pair (`clipDir`), so it takes the
// published 768-d embeddings; the second (OpenCLIP bigG's text model) carries its own projection and takes 1280-d
// embeddings made with the bigG pair. Given both, both are personalized; the pooled vector follows the second.
// Each is opened on first use (bigG's gradient graph is large).
import { existsSync } from "node:fs";
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
import { applyToEncoders, type EncoderPart } from "./multi_encoder.ts";
import { pairLayer, type PersonalizationSource, textLayers } from "./sources.ts";

/** The off-switch, for front ends that skip work (reading the embedding) when it is off. */
export { aestheticIsOff };

export interface AestheticSessionOptions {
  /** The checkpoint (diffusers layout): its tokenizer, and its text encoder's depth. */
  modelDir: string;
  /**
   * The CLIP pair (transformers.js layout) whose text model is personalized. SDXL: the ViT-L/14 pair whose
   * projection its first encoder is personalized with; needed only for an embedding of that width.
   */
  clipDir?: string;
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
    textLayers(join(needClip(opts.clipDir, opts.modelDir), "config.json")),
    opts.clipSkip ?? 1,
    opts.source ?? "clip",
  );
}

function needClip(clipDir: string | undefined, modelDir: string): string {
  if (clipDir === undefined) {
    throw new InputError(
      `no CLIP pair matches ${modelDir}: personalizing it needs one (see the README's "Models")`,
      "clip",
    );
  }
  return clipDir;
}

function isSdxl(modelDir: string): boolean {
  return existsSync(join(modelDir, "text_encoder_2", "config.json"));
}

/** projection_dim of a diffusers text encoder's or a CLIP pair's config.json. */
function projectionDim(configPath: string): number {
  const config = JSON.parse(Deno.readTextFileSync(configPath));
  const dim = config.projection_dim ?? config.text_config?.projection_dim;
  if (typeof dim !== "number") throw new Error(`${configPath} does not give the projection's width`);
  return dim;
}

/** One of SDXL's text encoders as a personalization target, opened on first use. */
class XlEncoder {
  #open: Promise<AestheticPersonalizer> | undefined;

  constructor(
    /** How messages name it. */
    readonly label: string,
    /** The width of the embeddings it takes; undefined for the first encoder without a pair. */
    readonly embedDim: number | undefined,
    private readonly load: () => Promise<AestheticPersonalizer>,
  ) {}

  personalizer(): Promise<AestheticPersonalizer> {
    this.#open ??= this.load();
    return this.#open;
  }

  async release(): Promise<void> {
    await (await this.#open?.catch(() => undefined))?.release();
  }
}

function xlEncoders(opts: AestheticSessionOptions, tokenizer: ClipTokenizer, tokenizer2: ClipTokenizer) {
  const session = opts.session ?? {};
  const penultimate = (rel: string) =>
    `hidden_states.${textLayers(join(opts.modelDir, rel, "config.json")) - 1}`;
  const clipDir = opts.clipDir;
  return [
    new XlEncoder(
      `SDXL's first text encoder (CLIP ViT-L/14${clipDir ? `, projection from ${clipDir}` : ""})`,
      clipDir ? projectionDim(join(clipDir, "config.json")) : undefined,
      () =>
        AestheticPersonalizer.load(needClip(clipDir, opts.modelDir), tokenizer, {
          source: "checkpoint",
          checkpointDir: opts.modelDir,
          conditioningOutput: penultimate("text_encoder"),
          session,
        }),
    ),
    new XlEncoder(
      "SDXL's second text encoder (OpenCLIP bigG)",
      projectionDim(join(opts.modelDir, "text_encoder_2", "config.json")),
      () =>
        AestheticPersonalizer.fromTextModel(join(opts.modelDir, "text_encoder_2", "model.onnx"), tokenizer2, {
          conditioningOutput: penultimate("text_encoder_2"),
          pooledOutput: "text_embeds",
          session,
        }),
    ),
  ];
}

export class AestheticSession {
  private constructor(
    /** SD 1.x/2.x: the one personalizer; undefined for SDXL, whose encoders open on first use. */
    readonly personalizer: AestheticPersonalizer | undefined,
    readonly tokenizer: ClipTokenizer,
    readonly clipDir: string | undefined,
    /** What the session was opened for: (model, pair, layer, source, threads). */
    readonly key: string,
    private readonly xl?: XlEncoder[],
  ) {}

  static key(opts: AestheticSessionOptions): string {
    const layer = isSdxl(opts.modelDir) ? "sdxl" : layerFor(opts);
    return JSON.stringify([opts.modelDir, opts.clipDir, layer, opts.source ?? "clip", opts.session]);
  }

  static async open(opts: AestheticSessionOptions): Promise<AestheticSession> {
    const tokenizer = await ClipTokenizer.load(opts.modelDir);
    if (isSdxl(opts.modelDir)) {
      const tokenizer2 = await ClipTokenizer.load(join(opts.modelDir, "tokenizer_2"));
      const encoders = xlEncoders(opts, tokenizer, tokenizer2);
      return new AestheticSession(undefined, tokenizer, opts.clipDir, AestheticSession.key(opts), encoders);
    }
    const layer = layerFor(opts);
    const clipDir = needClip(opts.clipDir, opts.modelDir);
    const personalizer = await AestheticPersonalizer.load(clipDir, tokenizer, {
      layer,
      session: opts.session ?? {},
      source: opts.source,
      checkpointDir: opts.modelDir,
    });
    return new AestheticSession(personalizer, tokenizer, clipDir, AestheticSession.key(opts));
  }

  /** The CLIP projection's width: the size an embedding must have (SDXL: the first encoder's, if known). */
  get embedDim(): number {
    return this.personalizer?.engine.info.embedDim ?? this.xl?.find((x) => x.embedDim)?.embedDim ?? 0;
  }

  get hiddenSize(): number {
    if (!this.personalizer) throw new Error("an SDXL session has one hidden size per encoder");
    return this.personalizer.engine.info.hiddenSize;
  }

  /** The pair's CLIP text embedding of a short text (unpadded, as the extension's aesthetic text is). */
  textFeatures(text: string): Promise<Float32Array> {
    if (!this.personalizer) throw new Error("text features come from an SD 1.x/2.x session's CLIP pair");
    return this.personalizer.textFeatures(text);
  }

  /** Throws an InputError naming both sizes when the embedding cannot be used with this pair. */
  checkEmbedding(embedding: Embedding, loc: string | string[] = "embedding"): void {
    try {
      if (this.xl) this.#xlTarget(embedding);
      else validateEmbedding(embedding, this.embedDim, `the CLIP pair ${this.clipDir}`);
    } catch (e) {
      throw e instanceof InputError ? e : new InputError((e as Error).message, loc);
    }
  }

  /** SDXL: the encoder an embedding personalizes, by its width. */
  #xlTarget(embedding: Embedding): number {
    const n = embedding.data.length;
    const fits = this.xl!.flatMap((x, i) => x.embedDim === n ? [i] : []);
    if (fits.length === 1) {
      validateEmbedding(embedding, n, this.xl![fits[0]].label);
      return fits[0];
    }
    const [first, second] = this.xl!;
    if (fits.length === 2) {
      throw new Error(
        `this embedding is ${n}-d, the width of both SDXL encoders' projections; it is ambiguous`,
      );
    }
    const firstText = first.embedDim === undefined
      ? "the first, with a CLIP ViT-L/14 pair (none given)"
      : `${first.embedDim}-d for the first (CLIP ViT-L/14)`;
    throw new Error(
      `this embedding is ${n}-d but SDXL takes ${firstText} or ${second.embedDim}-d for the second (bigG)`,
    );
  }

  /**
   * The conditioning hook that personalizes the prompt toward the embedding; undefined when the settings
   * switch it off. SDXL takes one embedding per encoder (matched by width). The negative prompt keeps the
   * frozen encoder, as in the paper (its encoder never personalizes the unconditional ""): personalizing both
   * sides of classifier-free guidance moves them together and cancels most of the effect (the A1111
   * extension does, A1111 issue #3398).
   */
  hook(
    embeddings: NamedEmbedding | NamedEmbedding[],
    settings: AestheticSettings,
    opts: HookOptions = {},
  ): AestheticHook | undefined {
    checkAestheticSettings(settings);
    if (aestheticIsOff(settings)) return undefined;
    const list = Array.isArray(embeddings) ? embeddings : [embeddings];
    if (list.length === 0) throw new InputError("no aesthetic embedding given", "embedding");
    const params = aestheticParams({ ...settings, embedding: list[0].name });
    // SDXL's second embedding, as the extension's last control names it.
    if (list.length > 1) {
      params.splice(params.findIndex(([k]) => k === "Aesthetic embedding") + 1, 0, [
        "Aesthetic embedding 2",
        list[1].name,
      ]);
    }
    if (this.xl) return { hook: this.#xlHook(list, settings, opts), params };
    if (list.length > 1) {
      throw new InputError(
        "SD 1.x and 2.x take one aesthetic embedding (SDXL one per text encoder)",
        "embedding",
      );
    }
    const e = list[0];
    this.checkEmbedding(e.embedding);
    const personalizer = this.personalizer!;
    const hook: ConditioningHook = async ({ z, chunkIds, negative }) => {
      if (negative) return z;
      opts.onStatus?.(`Aesthetic optimization (${settings.steps} steps)`);
      let result;
      try {
        result = await personalizer.apply(
          z,
          chunkIds,
          e.embedding.data,
          settings,
          opts.sweep,
          undefined,
          opts.shouldStop,
        );
      } finally {
        opts.onStatus?.(null);
      }
      opts.onSimilarity?.(result.similarity.map((s) => s.slice(0, settings.steps + 1)));
      return result.conditioning.get(settings.steps)!;
    };
    return { hook, params };
  }

  #xlHook(list: NamedEmbedding[], settings: AestheticSettings, opts: HookOptions): ConditioningHook {
    const chosen: (NamedEmbedding | undefined)[] = this.xl!.map(() => undefined);
    for (const e of list) {
      let i: number;
      try {
        i = this.#xlTarget(e.embedding);
      } catch (err) {
        throw new InputError(`${e.name}: ${(err as Error).message}`, "embedding");
      }
      if (chosen[i]) {
        throw new InputError(
          `${chosen[i]!.name} and ${e.name} both personalize ${this.xl![i].label}`,
          "embedding",
        );
      }
      chosen[i] = e;
    }
    return async ({ z, negative, encoders, pooled }) => {
      if (negative) return { z, pooled };
      if (!encoders || encoders.length !== this.xl!.length) {
        throw new Error("an SDXL aesthetic hook needs both text encoders' conditioning");
      }
      opts.onStatus?.(`Aesthetic optimization (${settings.steps} steps)`);
      const parts: EncoderPart[] = [];
      for (const [i, block] of encoders.entries()) {
        const e = chosen[i];
        parts.push({
          ...block,
          ...e ? { personalizer: await this.xl![i].personalizer(), embedding: e.embedding.data } : {},
        });
      }
      let r;
      try {
        r = await applyToEncoders(z, parts, settings, opts.sweep, pooled, opts.shouldStop);
      } finally {
        opts.onStatus?.(null);
      }
      const per = r.similarity.flatMap((s) => s ?? []);
      opts.onSimilarity?.(per.map((s) => s.slice(0, settings.steps + 1)));
      return { z: r.conditioning.get(settings.steps)!, pooled: r.pooled?.get(settings.steps) };
    };
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
    if (!this.personalizer) throw new Error("an SDXL session personalizes through hook()");
    return this.personalizer.apply(z, chunkIds, embedding.data, settings);
  }

  async release(): Promise<void> {
    await Promise.all([this.personalizer?.release(), ...(this.xl ?? []).map((x) => x.release())]);
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

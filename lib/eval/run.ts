// The paper's evaluation protocol on any model (issue 11, `deno task eval`): for every prompt × seed × steps
// value, generate with the same seed, personalize toward the aesthetic embedding with that many steps (one
// optimization per prompt serves every steps value), and measure the image: CLIP cosine to the aesthetic and to
// the prompt, optionally an aesthetic predictor's score and the demo world's CLIP-free checker.
import { join, relative } from "node:path";
import { generate, type GenerationRequest, RequestError } from "../diffusion/pipeline.ts";
import { resolveRequest } from "../diffusion/request.ts";
import type { ConditioningHook } from "../diffusion/conditioning.ts";
import { SdModel } from "../diffusion/sd_model.ts";
import { encodePng, type RgbImage } from "../io/image.ts";
import { readEmbedding } from "../io/embedding.ts";
import { writeFileAtomic } from "../io/png.ts";
import { clipDirFor } from "../models/registry.ts";
import type { SessionOptions } from "../onnx/session.ts";
import { AESTHETIC_DEFAULTS } from "../personalize/aesthetic.ts";
import { AestheticSession } from "../personalize/aesthetic_session.ts";
import { colorMatches, measureDemo, styleScore } from "../demo/checker.ts";
import { ClipMeasure, cosine } from "./clip_measure.ts";
import type { AestheticPredictor } from "./predictor.ts";
import { chartSvg, contactSheet, svgToPng } from "./sheet.ts";
import { summarize, type Summary } from "./stats.ts";

export interface EvalOptions {
  modelDir: string;
  /** The CLIP pair; default: the one the models registry matches with the model. */
  clipDir?: string;
  embeddingPath: string;
  prompts: string[];
  seeds: number[];
  steps: number[];
  lr: number;
  weight: number;
  sampler: string;
  samplingSteps: number;
  cfgScale: number;
  /** Image side; default the model's native size (UNet sample_size × VAE factor). */
  size?: number;
  predictor?: AestheticPredictor;
  checker?: "demo";
  outDir: string;
  session: SessionOptions;
  onProgress?(done: number, total: number): void;
}

/** The demo checker's measures of one image (lib/demo/checker.ts). */
export interface DemoRow {
  object_color: string | null;
  color_right: boolean | null;
  mean_saturation: number;
  mean_value: number;
  background_value: number;
  object_saturation: number;
  hue_spread: number;
  ramp_distance: number;
  style_score: { pastel: number; neon: number; sepia: number };
  /** Whether each style's score is above the same prompt and seed at 0 steps (absent for 0 steps). */
  toward?: { pastel: boolean; neon: boolean; sepia: boolean };
}

export interface EvalRow {
  prompt: string;
  seed: number;
  steps: number;
  /** Relative to the report's folder. */
  image: string;
  aesthetic_similarity: number;
  prompt_similarity: number;
  /** cos(text_embeds, aesthetic) of the personalized prompt after `steps` steps (the optimization's own view). */
  text_similarity: number;
  predictor?: number;
  demo?: DemoRow;
}

export interface EvalReport {
  model: string;
  clip: string;
  embedding: string;
  settings: {
    prompts: string[];
    seeds: number[];
    steps: number[];
    lr: number;
    weight: number;
    sampler: string;
    sampling_steps: number;
    cfg_scale: number;
    size: number;
  };
  rows: EvalRow[];
  /** Per steps value, each numeric measure's mean and 95 % interval (booleans as rates). */
  summary: { steps: number; measures: Record<string, Summary> }[];
  files: { report: string; contact_sheet: string; chart: string };
}

async function nativeSize(model: SdModel): Promise<number> {
  const config = JSON.parse(await Deno.readTextFile(join(model.dir, "unet", "config.json")));
  const sample = Array.isArray(config.sample_size) ? config.sample_size[0] : config.sample_size;
  if (typeof sample !== "number") throw new Error(`${model.dir}/unet/config.json has no sample_size`);
  return sample * model.vaeScaleFactor;
}

export async function runEval(o: EvalOptions): Promise<EvalReport> {
  if (o.prompts.length === 0 || o.seeds.length === 0 || o.steps.length === 0) {
    throw new Error("eval needs at least one prompt, one seed and one steps value");
  }
  const steps = [...new Set(o.steps)].sort((a, b) => a - b);
  const model = await SdModel.open(o.modelDir, { session: o.session });
  const opened: { release(): Promise<void> }[] = [model];
  try {
    const clipDir = o.clipDir ?? await clipDirFor(o.modelDir);
    const embedding = await readEmbedding(o.embeddingPath);
    // The same seam as every front end: layer choice, checks and the optimization cache (one run per prompt).
    const session = await AestheticSession.open({ modelDir: o.modelDir, clipDir, session: o.session });
    opened.push(session);
    session.checkEmbedding(embedding);
    if (o.predictor && o.predictor.inputDim !== embedding.data.length) {
      throw new Error(
        `the predictor takes ${o.predictor.inputDim}-d CLIP embeddings but the pair's are ${embedding.data.length}-d`,
      );
    }
    const clip = await ClipMeasure.open(clipDir, o.session);
    opened.push(clip);
    const size = o.size ?? await nativeSize(model);
    const settings = { ...AESTHETIC_DEFAULTS, steps: steps.at(-1)!, lr: o.lr, weight: o.weight };
    const request = (prompt: string, seed: number): GenerationRequest => ({
      prompt,
      sampler: o.sampler,
      steps: o.samplingSteps,
      cfgScale: o.cfgScale,
      width: size,
      height: size,
      seed,
    });
    // Bad settings fail here, before anything is written.
    resolveRequest(request(o.prompts[0], o.seeds[0]));
    if (size % model.sizeMultiple !== 0) {
      throw new RequestError(
        `width ${size} does not fit this model: use a multiple of ${model.sizeMultiple}`,
        "size",
      );
    }
    const imagesDir = join(o.outDir, "images");
    await Deno.mkdir(imagesDir, { recursive: true });

    const rows: EvalRow[] = [];
    const sheetRows: { label: string; images: RgbImage[] }[] = [];
    const total = o.prompts.length * o.seeds.length * steps.length;
    o.onProgress?.(0, total);
    for (const [pi, prompt] of o.prompts.entries()) {
      const promptEmbeds = await session.textFeatures(prompt);
      let textSimilarity: number[] = [];
      // One optimization (to the largest steps value) per prompt; apply() caches it across seeds and steps values.
      const named = { name: "eval", embedding };
      const hookFor = (s: number): ConditioningHook =>
        session.hook(named, { ...settings, steps: s }, {
          sweep: steps,
          onSimilarity: (similarity) => (textSimilarity = similarity[0]),
        })!.hook;
      for (const seed of o.seeds) {
        const images: RgbImage[] = [];
        let base: DemoRow | undefined;
        for (const s of steps) {
          const personalize = s > 0 && o.lr > 0 && o.weight !== 0;
          const result = await generate(model, request(prompt, seed), {
            conditioning: personalize ? [hookFor(s)] : [],
          });
          const image = result.images[0].image;
          images.push(image);
          const file = join(imagesDir, `p${pi}-seed${seed}-steps${s}.png`);
          await writeFileAtomic(file, await encodePng(image));
          const imageEmbeds = await clip.embed(image);
          const row: EvalRow = {
            prompt,
            seed,
            steps: s,
            image: relative(o.outDir, file),
            aesthetic_similarity: cosine(imageEmbeds, embedding.data),
            prompt_similarity: cosine(imageEmbeds, promptEmbeds),
            text_similarity: personalize ? textSimilarity[s] : cosine(promptEmbeds, embedding.data),
          };
          if (o.predictor) row.predictor = o.predictor.score(imageEmbeds);
          if (o.checker === "demo") {
            row.demo = demoRow(image, prompt, base);
            if (s === steps[0]) base = row.demo;
          }
          rows.push(row);
          o.onProgress?.(rows.length, total);
        }
        sheetRows.push({ label: `${prompt} (seed ${seed})`, images });
      }
    }

    const files = { report: "report.json", contact_sheet: "contact_sheet.png", chart: "chart.png" };
    const summary = steps.map((s) => ({
      steps: s,
      measures: summarizeRows(rows.filter((r) => r.steps === s)),
    }));
    const sheet = await contactSheet(steps.map((s) => `${s} steps`), sheetRows);
    await writeFileAtomic(join(o.outDir, files.contact_sheet), sheet);
    const chart = chartSvg(
      "CLIP similarity of the image to the aesthetic",
      steps,
      summary.map((x) => x.measures.aesthetic_similarity),
    );
    await writeFileAtomic(join(o.outDir, "chart.svg"), new TextEncoder().encode(chart));
    await writeFileAtomic(join(o.outDir, files.chart), await svgToPng(chart));
    const report: EvalReport = {
      model: o.modelDir,
      clip: clipDir,
      embedding: o.embeddingPath,
      settings: {
        prompts: o.prompts,
        seeds: o.seeds,
        steps,
        lr: o.lr,
        weight: o.weight,
        sampler: o.sampler,
        sampling_steps: o.samplingSteps,
        cfg_scale: o.cfgScale,
        size,
      },
      rows,
      summary,
      files,
    };
    await writeFileAtomic(
      join(o.outDir, files.report),
      new TextEncoder().encode(JSON.stringify(report, null, 1)),
    );
    return report;
  } finally {
    for (const r of opened.reverse()) await r.release();
  }
}

function demoRow(image: RgbImage, prompt: string, base: DemoRow | undefined): DemoRow {
  const m = measureDemo(image);
  const score = {
    pastel: styleScore("pastel", m),
    neon: styleScore("neon", m),
    sepia: styleScore("sepia", m),
  };
  return {
    object_color: m.objectColor,
    color_right: colorMatches(m, prompt) ?? null,
    mean_saturation: m.meanSaturation,
    mean_value: m.meanValue,
    background_value: m.backgroundValue,
    object_saturation: m.objectSaturation,
    hue_spread: m.hueSpread,
    ramp_distance: m.rampDistance,
    style_score: score,
    ...(base && {
      toward: {
        pastel: score.pastel > base.style_score.pastel,
        neon: score.neon > base.style_score.neon,
        sepia: score.sepia > base.style_score.sepia,
      },
    }),
  };
}

/** Every number (and boolean, as 0/1) in the rows, flattened to dotted names, summarized. */
export function summarizeRows(rows: EvalRow[]): Record<string, Summary> {
  const values = new Map<string, number[]>();
  const visit = (prefix: string, v: unknown) => {
    if (typeof v === "number" || typeof v === "boolean") {
      const list = values.get(prefix) ?? [];
      list.push(Number(v));
      values.set(prefix, list);
    } else if (v && typeof v === "object" && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) visit(prefix ? `${prefix}.${k}` : k, x);
    }
  };
  for (const { prompt: _p, seed: _s, steps: _k, image: _i, ...measures } of rows) visit("", measures);
  return Object.fromEntries([...values].map(([k, v]) => [k, summarize(v)]));
}

// The txt2img and img2img command lines: the paper's txt2img.py flags (--prompt --seed --plms --ddim
// --ddim_steps --scale --H --W --n_samples --n_iter --outdir --aesthetic_steps --aesthetic_lr
// --aesthetic_embedding) plus --model --clip --sampler --negative --aesthetic_weight --json (img2img: --init-img
// --strength). Every input is checked before a model runs; images are written only when the whole job
// succeeded, each as a PNG with A1111's infotext, through a temporary file and a rename.
import { basename, extname, isAbsolute, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { encodePng, loadImage, type RgbImage } from "../io/image.ts";
import { readEmbedding } from "../io/embedding.ts";
import { formatInfotext, type ParamValue } from "../io/infotext.ts";
import { withPngTexts, writeFileAtomic } from "../io/png.ts";
import { DEFAULT_EMBEDDING, DEFAULT_MODEL_DIR, MODELS_DIR } from "../models/defaults.ts";
import { DEVICE_ARG_OPTIONS, deviceFromArgs, sessionOptions } from "../models/device.ts";
import { inspectModelDir } from "../models/inspect.ts";
import { modelSha256, shortHash } from "../models/model_hash.ts";
import { SdxlRefiner } from "./refiner.ts";
import { readRecord } from "../models/single_file/record.ts";
import { clipDirFor } from "../models/registry.ts";
import { AESTHETIC_DEFAULTS, type AestheticSettings } from "../personalize/aesthetic.ts";
import {
  type AestheticHook,
  aestheticIsOff,
  AestheticSession,
  checkAestheticSettings,
} from "../personalize/aesthetic_session.ts";
import { A1111_DEFAULT_RNG, isRngSource, RNG_SOURCES, type RngSource } from "./noise_source.ts";
import { generate, type GenerationRequest, type GenerationResult } from "./pipeline.ts";
import { featureParams, generationParams, resolveRequest } from "./request.ts";
import { SdModel } from "./sd_model.ts";

export type Mode = "txt2img" | "img2img";

const OPTIONS = {
  prompt: { type: "string" },
  negative: { type: "string", default: "" },
  seed: { type: "string", default: "42" },
  plms: { type: "boolean", default: false },
  ddim: { type: "boolean", default: false },
  sampler: { type: "string" },
  scheduler: { type: "string" },
  ddim_steps: { type: "string", default: "50" },
  ddim_eta: { type: "string" },
  rng: { type: "string", default: A1111_DEFAULT_RNG },
  ensd: { type: "string", default: "0" },
  refiner: { type: "string" },
  refiner_switch_at: { type: "string", default: "0.8" },
  subseed: { type: "string", default: "0" },
  subseed_strength: { type: "string", default: "0" },
  seed_resize_from_w: { type: "string", default: "0" },
  seed_resize_from_h: { type: "string", default: "0" },
  scale: { type: "string", default: "7.5" },
  H: { type: "string" },
  W: { type: "string" },
  n_samples: { type: "string", default: "3" },
  n_iter: { type: "string", default: "2" },
  outdir: { type: "string" },
  model: { type: "string" },
  clip: { type: "string" },
  aesthetic_steps: { type: "string", default: "0" },
  aesthetic_lr: { type: "string", default: String(AESTHETIC_DEFAULTS.lr) },
  aesthetic_embedding: { type: "string", multiple: true },
  aesthetic_weight: { type: "string", default: "1" },
  "init-img": { type: "string" },
  strength: { type: "string", default: "0.75" },
  "tiled-vae": { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
  ...DEVICE_ARG_OPTIONS,
} as const;

export function usage(mode: Mode): string {
  const i2i = mode === "img2img" ? " --init-img FILE [--strength S (0.75)]" : "";
  return `usage: deno task ${mode} --prompt P${i2i} [--negative P] [--seed N (42)]
       [--plms | --ddim | --sampler NAME (default DDIM)] [--scheduler TYPE (e.g. Karras)] [--ddim_steps N (50)]
       [--ddim_eta E (DDIM: 0; A1111's ancestral samplers: 1)] [--scale S (7.5)] [--rng GPU|NV|CPU (GPU)]
       [--subseed N --subseed_strength S] [--seed_resize_from_w PX --seed_resize_from_h PX] [--ensd N (0)]
       [--refiner DIR [--refiner_switch_at S (0.8)]]
       [--H PX] [--W PX] [--n_samples N (3, per batch)] [--n_iter N (2, batches)] [--outdir DIR]
       [--model DIR] [--clip DIR] [--aesthetic_steps N (0 = off)] [--aesthetic_lr LR (0.0001)]
       [--aesthetic_embedding FILE] [--aesthetic_weight W (1)] [--device cpu|cuda|coreml|dml] [--threads N] [--json]
       [--tiled-vae]
--model defaults to the embedded demo; --clip to the CLIP pair that matches the model; --aesthetic_embedding to
the demo embedding (SDXL: give it twice, a 768-d and a 1280-d embedding, to personalize both text encoders).
--H/--W default to the model's own size (512 for SD 1.5, 1024 for SDXL). --rng GPU (the paper's and A1111's
default) draws the noise as torch.randn does on a CUDA GPU, on any device; CPU as torch's CPU generator.
--tiled-vae runs the VAE in tiles of its sample_size (diffusers' enable_tiling), so large images decode in the
memory of one tile.
--ensd N (an infotext's "ENSD: N") seeds the noise the sampler draws after the starting noise with seed + N.
--refiner DIR: an SDXL refiner folder that takes over from the SDXL model after that fraction of the schedule.
Images are written as <outdir>/NNNNN-<seed>.png with the A1111 infotext.`;
}

function num(values: Record<string, unknown>, flag: string): number {
  const raw = values[flag] as string;
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v)) throw new Error(`--${flag} must be a number, got "${raw}"`);
  return v;
}

function rngSource(flag: string): RngSource {
  const v = flag.toUpperCase();
  if (!isRngSource(v)) throw new Error(`--rng must be one of ${RNG_SOURCES.join(", ")}, got "${flag}"`);
  return v;
}

function samplerName(values: { plms: boolean; ddim: boolean; sampler?: string }): string {
  if (values.plms && values.ddim) throw new Error("--plms and --ddim cannot both be given");
  if (values.sampler !== undefined && (values.plms || values.ddim)) {
    throw new Error("give either --sampler or --plms/--ddim, not both");
  }
  return values.sampler ?? (values.plms ? "PLMS" : "DDIM");
}

/** The personalization of a run: its hook and infotext fields, and the similarity the hook saw. */
interface Personalization {
  aesthetic: AestheticHook;
  /** Per prompt chunk, cos(text, embedding) before each step and after the last (the positive prompt's). */
  similarity: number[][];
  session: AestheticSession;
}

/**
 * The aesthetic hook for the run, or undefined when the settings switch personalization off. SDXL's second
 * encoder needs no CLIP pair, so there a missing pair is only an error for an embedding of the first's width.
 */
async function personalization(
  model: SdModel,
  clip: string | undefined,
  embeddingPaths: string[],
  settings: AestheticSettings,
  session: ReturnType<typeof sessionOptions>,
): Promise<Personalization | undefined> {
  if (aestheticIsOff(settings)) return undefined;
  const embeddings = [];
  for (const path of embeddingPaths) {
    embeddings.push({ name: basename(path, extname(path)), embedding: await readEmbedding(path) });
  }
  const modelDir = model.dir;
  const clipDir = clip ?? await clipDirFor(modelDir).catch((e) => {
    if (model.version === "sdxl") return undefined;
    throw e;
  });
  const s = await AestheticSession.open({ modelDir, clipDir, session });
  try {
    const seen: { similarity: number[][] } = { similarity: [] };
    const aesthetic = s.hook(embeddings, settings, {
      onSimilarity: (sim) => (seen.similarity = sim),
    })!;
    return Object.assign(seen, { aesthetic, session: s });
  } catch (e) {
    await s.release();
    throw e;
  }
}

/** The next free A1111-style number in a folder: one more than the largest NNNNN- prefix there. */
async function nextNumber(dir: string): Promise<number> {
  let next = 0;
  for await (const e of Deno.readDir(dir)) {
    const m = /^(\d{5,})-/.exec(e.name);
    if (m) next = Math.max(next, Number(m[1]) + 1);
  }
  return next;
}

async function modelHash(dir: string): Promise<string | undefined> {
  const entry = await inspectModelDir(dir);
  if (!entry?.unetFiles) return undefined;
  // A folder imported from an A1111 single file goes by that file's hash, as the registry lists it.
  const imported = await readRecord(dir);
  if (imported) return imported.shortHash;
  // The registry's cache lives in the models folder; other folders are hashed each time (no stray files).
  const rel = relative(resolve(MODELS_DIR), resolve(dir));
  const inside = rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
  return shortHash(
    await modelSha256(entry.unetFiles, inside ? { cacheFile: join(MODELS_DIR, ".hashes.json") } : {}),
  );
}

export interface WrittenImage {
  path: string;
  seed: number;
  infotext: string;
  /** The positive prompt's first chunk's similarity per step, and every chunk's; null without personalization. */
  aesthetic: { similarity: number[]; similarity_per_chunk: number[][] } | null;
}

/** Parses the flags, generates, writes the images; returns the process exit code. */
export async function runCli(mode: Mode, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: OPTIONS, strict: true });
  if (values.help) {
    console.log(usage(mode));
    return 0;
  }
  if (values.prompt === undefined) throw new Error(`--prompt is required\n${usage(mode)}`);
  if (mode === "txt2img" && values["init-img"] !== undefined) {
    throw new Error("--init-img is for img2img (deno task img2img)");
  }
  if (mode === "img2img" && values["init-img"] === undefined) throw new Error("--init-img FILE is required");

  const settings: AestheticSettings = {
    ...AESTHETIC_DEFAULTS,
    steps: num(values, "aesthetic_steps"),
    lr: num(values, "aesthetic_lr"),
    weight: num(values, "aesthetic_weight"),
  };
  checkAestheticSettings(settings, {
    steps: "--aesthetic_steps",
    lr: "--aesthetic_lr",
    weight: "--aesthetic_weight",
  });
  const embeddingPaths = values.aesthetic_embedding ?? [DEFAULT_EMBEDDING];
  const modelDir = values.model ?? DEFAULT_MODEL_DIR;
  // The model's own size unless asked otherwise (SDXL: 1024); an unreadable folder fails when it is opened.
  const size = String((await inspectModelDir(modelDir).catch(() => undefined))?.defaultSize ?? 512);

  let initImage: RgbImage | undefined;
  if (mode === "img2img") {
    const decoded = await loadImage(values["init-img"]!);
    if (!decoded.ok) throw new Error(`--init-img ${values["init-img"]}: ${decoded.skip.message}`);
    initImage = decoded.image;
  }
  const request: GenerationRequest = {
    prompt: values.prompt,
    negativePrompt: values.negative,
    sampler: samplerName(values),
    steps: num(values, "ddim_steps"),
    cfgScale: num(values, "scale"),
    width: num({ ...values, W: values.W ?? size }, "W"),
    height: num({ ...values, H: values.H ?? size }, "H"),
    seed: num(values, "seed"),
    batchSize: num(values, "n_samples"),
    batchCount: num(values, "n_iter"),
    scheduler: values.scheduler,
    eta: values.ddim_eta === undefined ? undefined : num(values, "ddim_eta"),
    rngSource: rngSource(values.rng),
    etaNoiseSeedDelta: num(values, "ensd"),
    subseed: num(values, "subseed"),
    subseedStrength: num(values, "subseed_strength"),
    seedResizeFromW: num(values, "seed_resize_from_w"),
    seedResizeFromH: num(values, "seed_resize_from_h"),
    initImage,
    denoisingStrength: mode === "img2img" ? num(values, "strength") : undefined,
    tiledVae: values["tiled-vae"],
  };
  if (values.refiner) {
    const dir = values.refiner;
    const hash = await modelHash(dir);
    request.refinerCheckpoint = hash ? `${basename(resolve(dir))} [${hash}]` : basename(resolve(dir));
    request.refinerSwitchAt = num(values, "refiner_switch_at");
  }
  resolveRequest(request); // fails fast, before any model is opened

  const session = sessionOptions(deviceFromArgs(values));
  const model = await SdModel.open(modelDir, { session });
  const refiner = values.refiner ? await SdxlRefiner.open(values.refiner, session) : undefined;
  let p: Personalization | undefined;
  let result: GenerationResult;
  const control = { interrupted: false, skipped: false };
  const onSigint = () => {
    if (control.interrupted) Deno.exit(130);
    control.interrupted = true;
    console.error(`${mode}: interrupted; finished images are kept (Ctrl-C again to quit now)`);
  };
  Deno.addSignalListener("SIGINT", onSigint);
  try {
    p = await personalization(model, values.clip, embeddingPaths, settings, session);
    const progress = !values.json && Deno.stderr.isTerminal();
    result = await generate(model, request, {
      conditioning: p ? [p.aesthetic.hook] : [],
      refiner,
      control,
      onStep: progress
        ? (s) => {
          const line = `batch ${s.batch + 1}/${s.batches} step ${s.step}/${s.steps}`;
          Deno.stderr.writeSync(new TextEncoder().encode(`\r${line}${s.step === s.steps ? "\n" : ""}`));
        }
        : undefined,
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onSigint);
    await p?.session.release();
    await refiner?.release();
    await model.release();
  }

  const outdir = values.outdir ?? join("outputs", `${mode}-samples`);
  await Deno.mkdir(outdir, { recursive: true });
  const hash = await modelHash(modelDir);
  let n = await nextNumber(outdir);
  const written: WrittenImage[] = [];
  const r = resolveRequest(request);
  for (const img of result.images.filter((i) => i.complete)) {
    const params: [string, ParamValue][] = [
      ...generationParams(r, img, { name: basename(resolve(modelDir)), hash }),
      ...(p?.aesthetic.params ?? []),
      ...featureParams(r, img.refined),
    ];
    const infotext = formatInfotext({ prompt: r.prompt, negativePrompt: r.negativePrompt, params });
    const path = join(outdir, `${String(n++).padStart(5, "0")}-${img.seed}.png`);
    await writeFileAtomic(path, withPngTexts(await encodePng(img.image), [["parameters", infotext]]));
    written.push({
      path,
      seed: img.seed,
      infotext,
      aesthetic: p ? { similarity: p.similarity[0] ?? [], similarity_per_chunk: p.similarity } : null,
    });
  }
  if (values.json) console.log(JSON.stringify({ images: written }));
  else for (const w of written) console.log(w.path);
  return result.interrupted ? 130 : 0;
}

/** The entry point both CLIs share: errors are one line on stderr and exit code 2. */
export async function main(mode: Mode): Promise<void> {
  try {
    Deno.exit(await runCli(mode, Deno.args));
  } catch (e) {
    console.error(`${mode}: ${(e as Error).message}`);
    Deno.exit(2);
  }
}

// The WebUI's engine room, shared by the pages and /sdapi/v1: lists models, runs generations one at a time
// through the JobQueue with A1111's progress/interrupt/skip state, lets extensions process each job, runs
// X/Y/Z plots (one job per cell), and writes each image's infotext into its PNG.
import { isAbsolute, join, relative, resolve } from "node:path";
import {
  featureParams,
  generationParams,
  RequestError,
  type ResolvedRequest,
  resolveRequest,
} from "../diffusion/request.ts";
import { inpaintSettings } from "../diffusion/inpaint/options.ts";
import { describeSamplers } from "../diffusion/samplers/catalog.ts";
import { formatInfotext, type ParamValue } from "../io/infotext.ts";
import { InputError } from "../io/input_error.ts";
import { withPngTexts, writeFileAtomic } from "../io/png.ts";
import { chooseClip, findModel, listModels } from "../models/registry.ts";
import type { ModelEntry } from "../models/inspect.ts";
import { DroppedCheckpoints, type DroppedSource } from "../models/single_file/dropped.ts";
import { type Extension, type JobAttachments, type Values } from "../extensions/adapter.ts";
import { JobQueue } from "./job_queue.ts";
import type { Chart, ConditioningHook, Job, JobModel, JobRequest, Mode } from "../extensions/job.ts";
import { GenerationState } from "./progress.ts";
import { type Task, TaskRegistry } from "./tasks.ts";
import {
  A1111_DEFAULTS,
  checkOptions,
  loadOptions,
  type OptionValue,
  saveOptions,
  type WebUIOptions,
} from "./options.ts";
import { checkLimits, DEFAULT_LIMITS, type ServerLimits } from "./limits.ts";
import { applyStyles, loadStyles, type PromptStyle } from "./styles.ts";
import {
  attentionLayout,
  defaultMaxMemory,
  estimatePeakBytes,
  isLargeJob,
  jobShape,
  planMemory,
} from "./memory_budget.ts";
import type { Renderer } from "./renderer.ts";
import type { Device } from "../onnx/session.ts";
import sharp from "sharp";
import { annotatedGrid, gridImage } from "./grid.ts";
import {
  applyCell,
  type AxisName,
  type Cell,
  cellCount,
  cellLabel,
  gridInfotext,
  type Plot,
  plotCells,
  type PlotSpec,
  plotSweeps,
  resolvePlot,
  valueLabel,
} from "./xyz_plot.ts";
import { nextSamplePath } from "./sample_path.ts";

export interface ServiceConfig {
  modelsDir: string;
  embeddingsDir: string;
  /** Saved settings; none keeps them in memory only. */
  settingsFile?: string;
  outputsDir: string;
  defaultModel?: string;
  threads?: number;
  /** The execution provider jobs render on (a queue worker's --device); default the CPU. */
  device?: Device;
  /** Runs the pipeline (lib/server/render.ts over lib/diffusion). */
  render: Renderer;
  /** Resource limits (server options); DEFAULT_LIMITS when absent. */
  limits?: Partial<ServerLimits>;
  /** A1111's styles.csv; none: no styles. */
  stylesFile?: string;
  /** Save folders may be anywhere (--allow-any-output-dir); otherwise they stay inside outputsDir. */
  allowAnyOutputDir?: boolean;
  /** The memory budget of one job in bytes (--max-memory); default three quarters of the machine's. */
  maxMemoryBytes?: number;
  /** Runs generations on other machines (serve --queue: lib/queue's BullMQ jobs); default: here, in turn. */
  remote?: RemoteRunner;
  /**
   * Where A1111 single files are listed from and imported on first use (into `<modelsDir>/.imported`);
   * default the models folder itself (serve --a1111-dir adds an A1111 installation's folders).
   */
  singleFileSources?: DroppedSource[];
  /** The server log (imports and hashing); default the console. */
  log?: (line: string) => void;
}

/** A generation checked and ready to run elsewhere: the model by its entry, the request's defaults filled. */
export interface RemoteGeneration {
  input: GenerationInput;
  model: ModelEntry;
  /** What each extension's values name that another machine cannot read (lib/extensions/adapter.ts). */
  attachments: Record<string, JobAttachments>;
}

/** Where jobs run when not in this process; it drives the task's progress and answers its interrupt/skip. */
export interface RemoteRunner {
  run(job: RemoteGeneration, task: Task): Promise<Omit<GenerationOutput, "model" | "queueId">>;
  close(): Promise<void>;
}

export interface GenerationInput {
  mode: Mode;
  request: JobRequest;
  /** Each always-on extension with its validated values. */
  scripts: [Extension, Values][];
  /** An X/Y/Z plot (checked by plotFor): one run per cell; the grid(s) come first. */
  plot?: Plot;
  save?: boolean;
  /** Put a grid of a batch's images first (A1111's return_grid), as the page shows batches. */
  grid?: boolean;
  /** The client's task id (A1111's force_task_id), to follow this job's progress and stop it alone. */
  taskId?: string;
  /** Where saved images go (a request's outdir_samples override); default the outdir_samples option. */
  saveDir?: string;
  /** Each extension's attachments, by extension id, when the job came from another machine (lib/queue). */
  attachments?: Record<string, JobAttachments>;
}

export interface GenerationOutput {
  /** PNGs with the infotext in their "parameters" text. */
  images: Uint8Array[];
  infotexts: string[];
  seeds: number[];
  /** The variation seed of each image. */
  subseeds: number[];
  /** Plot labels ("Steps: 5, Aesthetic steps: 2"), one per image, when a plot ran. */
  labels: string[];
  charts: Chart[];
  extraParams: Record<string, ParamValue>;
  model: ModelEntry;
  /** Steps were cut short by interrupt. */
  interrupted: boolean;
  /** Sampling steps run for the last image (fewer than asked when interrupted). */
  stepsDone: number;
  /** The job's place in the queue's order. */
  queueId: number;
  /** images[0] is a grid (of a batch or a plot). */
  hasGrid: boolean;
  /** How many grids lead the images (a plot's main grid and its sub-grids); 1 when hasGrid alone is set. */
  grids?: number;
  jobTimestamp: string;
}

/**
 * The infotext fields A1111's k-diffusion samplers add when their options differ from the defaults: Eta (for
 * the samplers that take one; DDIM's is the standard "Eta DDIM"), Sigma churn/tmin/tmax/noise.
 */
export function samplerOptionParams(r: Pick<ResolvedRequest, "sampling">): [string, ParamValue][] {
  if (!r.sampling) return [];
  const { sampler } = r.sampling.choice;
  const s = r.sampling.settings;
  const takes = (o: string) => (sampler.options as readonly string[]).includes(o);
  const out: [string, ParamValue][] = [];
  if (sampler.kind !== "timesteps" && takes("eta") && s.eta !== undefined && s.eta !== sampler.etaDefault) {
    out.push(["Eta", s.eta]);
  }
  if (takes("s_churn") && s.sChurn) out.push(["Sigma churn", s.sChurn]);
  if (takes("s_tmin") && s.sTmin) out.push(["Sigma tmin", s.sTmin]);
  if (takes("s_tmax") && s.sTmax !== undefined && Number.isFinite(s.sTmax)) out.push(["Sigma tmax", s.sTmax]);
  if (takes("s_noise") && s.sNoise !== undefined && s.sNoise !== 1) out.push(["Sigma noise", s.sNoise]);
  return out;
}

/** The request's seeds with -1 (random) drawn. */
export function chosenSeeds(r: Pick<JobRequest, "seed" | "subseed">): { seed: number; subseed: number } {
  const random = () => Math.floor(Math.random() * 2 ** 32);
  return {
    seed: r.seed === -1 ? random() : r.seed,
    subseed: r.subseed === undefined || r.subseed === -1 ? random() : r.subseed,
  };
}

/** A generation's output before its first image (all of it, for a job stopped before it started). */
export function emptyOutput(model: ModelEntry, queueId: number, jobTimestamp: string): GenerationOutput {
  return {
    images: [],
    infotexts: [],
    seeds: [],
    subseeds: [],
    labels: [],
    charts: [],
    extraParams: {},
    model,
    interrupted: false,
    stepsDone: 0,
    queueId,
    hasGrid: false,
    jobTimestamp,
  };
}

/** Runs an extension; an input problem it finds is placed in its alwayson_scripts args. */
async function processScript(ext: Extension, job: Job, values: Values): Promise<void> {
  try {
    await ext.process(job, values);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError(`${ext.title}: ${e.message}`, ["alwayson_scripts", ext.title, "args"]);
  }
}

/** A1111's limit on a plot's grid (its img_max_size_mp option's default), in megapixels. */
export const MAX_GRID_MEGAPIXELS = 200;

export class WebUIService {
  readonly queue = new JobQueue();
  /** Every job's own progress, by task id. */
  readonly tasks = new TaskRegistry();
  readonly #idle = new GenerationState();
  extensions: Extension[] = [];
  #models: ModelEntry[] = [];
  /** A1111 single files listed as checkpoints and imported on first use. */
  readonly dropped: DroppedCheckpoints;
  /** Hashing and imports running in the background (awaited by close). */
  #background = new Set<Promise<void>>();

  readonly limits: ServerLimits;
  styles: PromptStyle[] = [];

  private constructor(readonly config: ServiceConfig, public options: WebUIOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...config.limits };
    this.dropped = new DroppedCheckpoints({
      sources: config.singleFileSources ?? [{ dir: config.modelsDir }],
      cacheDir: join(config.modelsDir, ".imported"),
      log: config.log ?? ((line) => console.log(`models: ${line}`)),
    });
  }

  static async create(config: ServiceConfig): Promise<WebUIService> {
    const svc = new WebUIService(config, {
      ...A1111_DEFAULTS,
      sd_model_checkpoint: "",
      outdir_samples: config.outputsDir,
    } as WebUIOptions);
    // Single files are listed at once and hashed in the background: A1111's title carries the hash, and a
    // folder of large checkpoints takes a while to read.
    await svc.refreshModels({ hash: false });
    await svc.refreshStyles();
    // A refiner runs only after a base model, so it is never the default checkpoint.
    const first = svc.checkpoints().find((m) => !m.refiner);
    if (!first) throw new Error(`no usable Stable Diffusion model in ${config.modelsDir}`);
    const defaults = { ...svc.options, sd_model_checkpoint: config.defaultModel ?? first.name };
    svc.options = await loadOptions(config.settingsFile, defaults);
    const chosen = svc.checkpoint(svc.options.sd_model_checkpoint);
    svc.options.sd_model_checkpoint = chosen && !chosen.refiner ? chosen.name : first.name;
    svc.#inBackground(async () => {
      await svc.dropped.hashAll();
      await svc.#listDropped();
      // As A1111 loads the selected checkpoint at start-up, a selected single file is imported now.
      svc.#prefetch(svc.options.sd_model_checkpoint);
    });
    return svc;
  }

  /** Runs work the server does not wait for; its failure is logged, and close() waits for it. */
  #inBackground(work: () => Promise<void>): void {
    const log = this.config.log ?? console.error;
    const p: Promise<void> = work().catch((e) => log(`models: ${(e as Error).message}`))
      .finally(() => this.#background.delete(p));
    this.#background.add(p);
  }

  /** Starts importing a selected single file, so the first generation need not wait for all of it. */
  #prefetch(ref: string): void {
    const m = this.checkpoint(ref);
    const file = m?.singleFile?.pending ? this.dropped.get(m.name) : undefined;
    if (!file || file.problem) return;
    this.#inBackground(async () => {
      try {
        await this.dropped.ensureImported(file);
      } finally {
        await this.#listDropped();
      }
    });
  }

  async refreshStyles(): Promise<void> {
    this.styles = this.config.stylesFile ? await loadStyles(this.config.stylesFile) : [];
  }

  /** The prompts with the named styles applied, as A1111's apply_styles_to_prompt. */
  styledPrompts(prompt: string, negative: string, names: string[]): [string, string] {
    return applyStyles(this.styles, prompt, negative, names);
  }

  /** A1111's title of a checkpoint: "name [hash]". */
  title(m: ModelEntry): string {
    return m.hash ? `${m.name} [${m.hash}]` : m.name;
  }

  /** The options as A1111 answers them: the checkpoint by its title. */
  optionsView(): Record<string, unknown> {
    const m = this.checkpoint(this.options.sd_model_checkpoint);
    return {
      ...this.options,
      sd_model_checkpoint: m ? this.title(m) : this.options.sd_model_checkpoint,
      sd_checkpoint_hash: m?.hash ?? "",
    };
  }

  #folders: ModelEntry[] = [];

  /**
   * Rescans the models folder and the single files (A1111's refresh-checkpoints); `hash: false` lists new
   * single files before their hashes are known.
   */
  async refreshModels(opts: { hash?: boolean } = {}): Promise<void> {
    this.#folders = (await listModels([this.config.modelsDir])).models;
    await this.dropped.scan();
    if (opts.hash !== false) await this.dropped.hashAll();
    await this.#listDropped();
  }

  /** The folders plus the single files (a file `models import` already made a folder of is that folder). */
  async #listDropped(): Promise<void> {
    const folderHashes = new Set(this.#folders.map((m) => m.hash).filter((h) => h));
    const files = (await this.dropped.entries()).filter((m) => !m.hash || !folderHashes.has(m.hash));
    this.#models = [...this.#folders, ...files];
  }

  /** A1111 single files that cannot be used, with why (listed in the WebUI's selector with the reason). */
  unusableFiles(): ModelEntry[] {
    return this.#models.filter((m) => m.singleFile && m.problems.length > 0);
  }

  /** Usable pipelines, by name. */
  checkpoints(): ModelEntry[] {
    return this.#models.filter((m) => m.kind !== "clip" && m.problems.length === 0);
  }

  /** A checkpoint by its title, name or hash (A1111's get_closet_checkpoint_match). */
  checkpoint(ref: string): ModelEntry | undefined {
    const m = findModel(this.#models, ref) ?? this.#models.find((m) => this.title(m) === ref) ??
      findModel(this.#models, ref.replace(/ \[[0-9a-f]+\]$/, "")) ??
      this.#models.find((m) => m.singleFile?.modelName === ref);
    return m && m.kind !== "clip" && m.problems.length === 0 ? m : undefined;
  }

  /** Why a model cannot be a checkpoint: not listed, a CLIP pair, or its problems (SDXL among them). */
  #unusable(name: string, loc: (string | number)[]): InputError {
    const m = findModel(this.#models, name);
    const known = this.checkpoints().map((c) => c.name).join(", ");
    if (!m) return new InputError(`unknown model ${JSON.stringify(name)} (known: ${known})`, loc);
    const why = m.kind === "clip" ? ["it is a CLIP pair, not a Stable Diffusion pipeline"] : m.problems;
    return new InputError(`${m.name} cannot be used: ${why.join("; ")}`, loc);
  }

  /** The SDXL refiner a request names (a title, name or hash), or undefined for none. */
  #refiner(ref: string | undefined): ModelEntry | undefined {
    if (ref === undefined || ref === "" || ref === "None") return undefined;
    const m = this.checkpoint(ref);
    if (!m) throw this.#unusable(ref, ["refinerCheckpoint"]);
    if (!m.refiner) {
      throw new InputError(`${m.name} is not an SDXL refiner (a refiner folder has no text_encoder)`, [
        "refinerCheckpoint",
      ]);
    }
    return m;
  }

  /** The running job's state (A1111's shared.state, for /sdapi/v1/progress, interrupt and skip). */
  get state(): GenerationState {
    return this.tasks.running()?.state ?? this.#idle;
  }

  /** A1111's sampler names (aliases are accepted too; see /sdapi/v1/samplers). */
  samplers(): readonly string[] {
    return describeSamplers().map((s) => s.name);
  }

  /** The CLIP pair used for personalization and new embeddings with the current checkpoint. */
  clipFor(model: ModelEntry): ModelEntry {
    const clip = chooseClip(model, this.#models);
    if (!clip) throw new InputError(`no CLIP pair in ${this.config.modelsDir} matches ${model.name}`);
    return clip;
  }

  currentClipDir(): string {
    const m = this.checkpoint(this.options.sd_model_checkpoint) ?? this.checkpoints()[0];
    return this.clipFor(m).path;
  }

  /**
   * Options checked as A1111 types them, the checkpoint (a title, name or hash) resolved to its name and the
   * save folder confined; `loc` places errors (["override_settings"] for a request's overrides).
   */
  checkedOptions(
    update: Record<string, unknown>,
    loc: (string | number)[] = [],
  ): Record<string, OptionValue> {
    const out = checkOptions(update, loc);
    const ckpt = out.sd_model_checkpoint;
    if (typeof ckpt === "string") {
      const m = this.checkpoint(ckpt);
      if (!m) throw this.#unusable(ckpt, [...loc, "sd_model_checkpoint"]);
      if (m.refiner) {
        throw new InputError(
          `${m.name} is an SDXL refiner: it runs after a base model (refiner_checkpoint)`,
          [
            ...loc,
            "sd_model_checkpoint",
          ],
        );
      }
      out.sd_model_checkpoint = m.name;
    } else delete out.sd_model_checkpoint;
    if (typeof out.outdir_samples === "string") {
      out.outdir_samples = this.#confined(out.outdir_samples, [...loc, "outdir_samples"]);
    }
    return out;
  }

  /** A save folder: relative ones are inside the outputs folder; others must be, unless the server allows. */
  #confined(dir: string, loc: (string | number)[]): string {
    const root = resolve(this.config.outputsDir);
    const full = dir === "" ? root : resolve(root, dir);
    const rel = relative(root, full);
    if (!this.config.allowAnyOutputDir && (rel.startsWith("..") || isAbsolute(rel))) {
      throw new InputError(
        "the save folder must be inside the outputs folder (start the server with --allow-any-output-dir " +
          "to allow others)",
        loc,
      );
    }
    return full;
  }

  /** The server's options with a request's overrides, checked. */
  effectiveOptions(overrides: Record<string, unknown>): WebUIOptions {
    return { ...this.options, ...this.checkedOptions(overrides, ["override_settings"]) } as WebUIOptions;
  }

  async setOptions(update: Record<string, unknown>): Promise<void> {
    this.options = { ...this.options, ...this.checkedOptions(update) } as WebUIOptions;
    await saveOptions(this.config.settingsFile, this.options);
    if (typeof update.sd_model_checkpoint === "string") this.#prefetch(this.options.sd_model_checkpoint);
  }

  /**
   * A single file's folder, importing it first (or waiting for the import already running): the task shows
   * A1111's "loading model" state with the import's progress meanwhile. A file that cannot be imported is a
   * 422 with the reason, and stays listed with it.
   */
  async #load(model: ModelEntry, task: Task): Promise<ModelEntry> {
    const file = this.dropped.get(model.name);
    if (!file) throw this.#unusable(model.name, ["model"]);
    const state = task.state;
    task.phase = "running";
    state.begin("load_model", 1, 0);
    const timestamp = state.snapshot().state.job_timestamp;
    // The fraction of the current part as the job's progress, with no sampling steps (none run yet).
    const show = (fraction: number, text: string) =>
      state.follow({
        skipped: false,
        interrupted: false,
        job: "load_model",
        job_count: 1000,
        job_no: Math.round(fraction * 1000),
        job_timestamp: timestamp,
        sampling_step: 0,
        sampling_steps: 0,
      }, text);
    show(0, `Loading model ${file.name}`);
    try {
      await this.dropped.ensureImported(file, (stage, done, total) => {
        const fraction = total > 0 ? Math.min(1, done / total) : 1;
        show(fraction, `Loading model ${file.name}: importing the ${stage} ${Math.floor(fraction * 100)}%`);
      });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      throw new InputError(e.message, ["model"]);
    } finally {
      await this.#listDropped();
      // An interrupt while loading stops the job before it samples (the import itself goes on, shared).
      task.cancelled ||= state.interrupted;
      state.end();
      task.phase = "queued";
    }
    const loaded = this.checkpoint(file.name);
    if (!loaded || loaded.singleFile?.pending) throw this.#unusable(file.name, ["model"]);
    return loaded;
  }

  /**
   * An X/Y/Z plot checked for a request: each axis's type, and each value by its field's or control's rules,
   * the pipeline's checks and the server's limits (steps, memory) on a cell with that value.
   */
  async plotFor(
    input: Pick<GenerationInput, "mode" | "request" | "scripts">,
    spec: PlotSpec,
    loc: (axis: AxisName, part: "type" | "values") => (string | number)[],
  ): Promise<Plot> {
    const model = this.checkpoint(input.request.model || this.options.sd_model_checkpoint);
    const layout = model && await attentionLayout(model.path);
    const maxMemory = this.config.maxMemoryBytes ?? defaultMaxMemory();
    return await resolvePlot(spec, {
      mode: input.mode,
      extensions: input.scripts.map(([e]) => e),
      base: { request: input.request, scripts: input.scripts },
      maxValues: this.limits.maxImages,
      loc,
      checkCell: ({ request: r }) => {
        checkLimits(r, this.limits);
        const resolved = resolveRequest({
          ...r,
          seed: Math.max(r.seed, 0),
          subseed: Math.max(r.subseed ?? 0, 0),
          initImage: undefined,
          mask: undefined,
        });
        if (layout) planMemory(layout, jobShape(resolved, input.mode === "img2img", r.tiledVae), maxMemory);
      },
    });
  }

  /** Queues a generation; resolves when it has run (after every job queued before it). */
  async generate(input: GenerationInput): Promise<GenerationOutput> {
    const name = input.request.model || this.options.sd_model_checkpoint;
    const listed = this.checkpoint(name);
    if (!listed) throw this.#unusable(name, ["model"]);
    this.#refiner(input.request.refinerCheckpoint);
    // A single file imports on first use, as A1111 loads a checkpoint when it is first needed.
    const early = listed.singleFile?.pending ? this.tasks.create(input.taskId) : undefined;
    try {
      const model = early ? await this.#load(listed, early) : listed;
      return await this.#generate(input, model, early);
    } catch (e) {
      if (early) this.tasks.finish(early);
      throw e;
    }
  }

  async #generate(input: GenerationInput, model: ModelEntry, early?: Task): Promise<GenerationOutput> {
    if (input.mode === "img2img" && model.warnings.some((w) => /encoder/i.test(w))) {
      throw new InputError(`${model.name} cannot do img2img: ${model.warnings.join("; ")}`);
    }
    const request = {
      ...input.request,
      clipSkip: input.request.clipSkip ?? this.options.CLIP_stop_at_last_layers,
    };
    checkLimits(request, this.limits, input.plot ? cellCount(input.plot) : 1);
    if (input.plot) {
      const mp = (cellCount(input.plot) * request.width * request.height) / 1e6;
      if (mp > MAX_GRID_MEGAPIXELS) {
        throw new InputError(
          `the X/Y/Z plot's grid would be ${Math.round(mp)} megapixels, over ${MAX_GRID_MEGAPIXELS}`,
          ["script_args"],
        );
      }
    }
    // Every field but the size is checked before the job queues; the worker checks the size against the model.
    const resolved = resolveRequest({
      ...request,
      seed: Math.max(request.seed, 0),
      subseed: Math.max(request.subseed ?? 0, 0),
      initImage: undefined,
      mask: undefined,
    });
    if (request.mask) inpaintSettings(request, (message, field) => new RequestError(message, field));
    // Within the memory budget, with the VAE in tiles if the whole-image VAE would not fit.
    const layout = await attentionLayout(model.path);
    const plan = layout && planMemory(
      layout,
      jobShape(resolved, input.mode === "img2img", request.tiledVae),
      this.config.maxMemoryBytes ?? defaultMaxMemory(),
    );
    const task = early ?? this.tasks.create(input.taskId);
    const job = { ...input, request: { ...request, tiledVae: plan?.tiledVae ?? request.tiledVae } };
    try {
      const out = this.config.remote
        ? { ...await this.config.remote.run(await this.#remote(job, model), task), model, queueId: 0 }
        : await this.execute(job, model, task);
      if (input.save ?? this.options.samples_save) {
        // A grid is never saved (A1111's grids go to their own folder, off by default here).
        for (let i = out.grids ?? (out.hasGrid ? 1 : 0); i < out.images.length; i++) {
          await this.#save(
            input.saveDir ?? this.options.outdir_samples,
            input.mode,
            out.images[i],
            out.seeds[i],
          );
        }
      }
      return out;
    } finally {
      this.tasks.finish(task);
    }
  }

  /** Runs a checked generation here, after every job queued before it (a queue worker calls this too). */
  execute(input: GenerationInput, model: ModelEntry, task: Task): Promise<GenerationOutput> {
    return this.queue.enqueue((id) => this.#run(input, model, id, task)).result;
  }

  async #remote(input: GenerationInput, model: ModelEntry): Promise<RemoteGeneration> {
    const attachments: Record<string, JobAttachments> = {};
    for (const [ext, values] of input.scripts) {
      if (ext.attach) attachments[ext.id] = await ext.attach(values);
    }
    return { input, model, attachments };
  }

  async #run(
    input: GenerationInput,
    model: ModelEntry,
    queueId: number,
    task: Task,
  ): Promise<GenerationOutput> {
    const { request, plot } = input;
    const cells: (Cell | undefined)[] = plot ? plotCells(plot) : [undefined];
    const state = task.state;
    task.phase = "running";
    // A1111's job names: the API runs every generation through its scripts runner.
    state.begin(`scripts_${input.mode}`, cells.length * request.batchCount, request.steps);
    if (task.cancelled) state.interrupt();
    // Only personalization needs the pair (and says so when it is missing).
    const jobModel: JobModel = {
      name: model.name,
      dir: model.path,
      clipDir: chooseClip(model, this.#models)?.path,
    };
    // Seeds drawn once serve every cell (A1111's fix_seed), unless the plot keeps -1 for seeds.
    const fixed = chosenSeeds(request);
    const base = { request, scripts: input.scripts };
    const extensions = input.scripts.map(([e]) => e);
    const sweeps = plot ? plotSweeps(plot) : undefined;
    /** Each cell's first image and infotext, for the plot's grid. */
    const cellFirst: ({ png: Uint8Array; infotext: string; seed: number } | undefined)[] = [];
    // After a job much larger than usual, onnxruntime's arenas (which keep their peak) are given back.
    const layout = await attentionLayout(model.path);
    const releaseMemory = layout !== undefined && isLargeJob(
      layout,
      estimatePeakBytes(
        layout,
        jobShape(
          resolveRequest({ ...request, ...fixed, initImage: undefined, mask: undefined }),
          input.mode === "img2img",
          request.tiledVae,
        ),
      ),
      model.defaultSize ?? 512,
    );
    const refiner = this.#refiner(request.refinerCheckpoint);
    const out = emptyOutput(model, queueId, state.snapshot().state.job_timestamp);
    try {
      for (const cell of cells) {
        if (state.interrupted) {
          out.interrupted = true;
          break;
        }
        const { request: r, scripts } = plot && cell
          ? applyCell(plot, cell, { mode: input.mode, extensions, base })
          : base;
        const drawn = chosenSeeds(r);
        const keep = plot?.noFixedSeeds;
        const seed = r.seed === -1 && !keep ? fixed.seed : drawn.seed;
        const subseed = (r.subseed ?? -1) === -1 && !keep ? fixed.subseed : drawn.subseed;
        // The defaults as the pipeline fills them in, for the infotext.
        const resolved = {
          ...resolveRequest({
            ...r,
            seed,
            subseed,
            initImage: undefined,
            mask: undefined,
            refinerCheckpoint: refiner && this.title(refiner),
          }),
          initImage: r.initImage,
        };
        const charts: Chart[] = [];
        const extraParams: [string, ParamValue][] = [];
        const hooks: ConditioningHook[] = [];
        const job: Job = {
          mode: input.mode,
          request: r,
          model: jobModel,
          conditioningHooks: hooks,
          extraParams,
          charts,
          sweeps,
          attachments: input.attachments,
          status: (t) => state.setText(t),
          stopRequested: () => state.interrupted || state.skipped,
        };
        for (const [ext, values] of scripts) await processScript(ext, job, values);
        const label = plot && cell ? cellLabel(plot, cell) : undefined;
        let rendered;
        try {
          rendered = await this.config.render({
            mode: input.mode,
            request: { ...r, seed, subseed, refinerCheckpoint: refiner && this.title(refiner) },
            model,
            refiner,
            conditioningHooks: hooks,
            state,
            threads: this.config.threads,
            releaseMemory,
            device: this.config.device,
          });
        } catch (e) {
          // A stop asked for while an extension's hook ran (the aesthetic optimization polls it between Adam
          // steps) ends this run: interrupt ends the job, skip moves on to the next cell.
          if (!state.interrupted && !state.skipped) throw e;
          out.interrupted ||= state.interrupted;
          cellFirst.push(undefined);
          continue;
        }
        const first = out.images.length;
        for (const img of rendered.images) {
          const params: [string, ParamValue][] = [
            // A1111 names a single-file checkpoint by its model_name (no extension) in the infotext.
            ...generationParams(resolved, img, { ...model, name: model.singleFile?.modelName ?? model.name }),
            ...samplerOptionParams(resolved),
            ...extraParams,
            ...(r.mask ? inpaintSettings(r, (m, f) => new RequestError(m, f)).params : []),
            ...featureParams(resolved, img.refined),
          ];
          const infotext = formatInfotext({ prompt: r.prompt, negativePrompt: r.negativePrompt, params });
          const png = withPngTexts(img.png, [["parameters", infotext]]);
          out.images.push(png);
          out.infotexts.push(infotext);
          out.seeds.push(img.seed);
          out.subseeds.push(img.subseed);
          if (label !== undefined) out.labels.push(label);
        }
        cellFirst.push(
          out.images.length > first
            ? { png: out.images[first], infotext: out.infotexts[first], seed: out.seeds[first] }
            : undefined,
        );
        for (const [k, v] of [...samplerOptionParams(resolved), ...extraParams]) {
          if (v !== undefined && v !== null) out.extraParams[k] = v;
        }
        out.charts.push(...charts.map((c) => (label ? { ...c, title: `${c.title}, ${label}` } : c)));
        if (rendered.interrupted) out.interrupted = true;
        out.stepsDone = rendered.stepsDone;
      }
      if (plot) await this.#plotGrids(plot, cellFirst, out);
      else if (out.images.length > 1 && input.grid) {
        // A1111 puts a batch's grid first, with the first image's infotext, about as many rows as columns
        // (its image_grid with n_rows -1).
        const columns = Math.ceil(out.images.length / Math.round(Math.sqrt(out.images.length)));
        const grid = await gridImage(out.images, columns);
        out.images.unshift(withPngTexts(grid, [["parameters", out.infotexts[0]]]));
        out.hasGrid = true;
        out.infotexts.unshift(out.infotexts[0]);
        out.seeds.unshift(out.seeds[0]);
        out.subseeds.unshift(out.subseeds[0]);
      }
      return out;
    } finally {
      state.end();
      this.tasks.finish(task);
    }
  }

  /**
   * A plot's grids as A1111's draw_xyz_grid: one per Z value (X labels above, Y labels at the left), and with
   * several Z values those side by side under the Z labels as the main grid. The main grid comes first, then
   * the sub-grids when asked for, then the cells' images when asked for; every cell's infotext is kept.
   */
  async #plotGrids(
    plot: Plot,
    cellFirst: ({ png: Uint8Array; infotext: string; seed: number } | undefined)[],
    out: GenerationOutput,
  ): Promise<void> {
    const done = cellFirst.find((c) => c !== undefined);
    if (!done) return;
    // A cell that did not run (skipped) is a blank image of the others' size, as in A1111.
    const { width, height } = await sharp(done.png).metadata();
    const blank = new Uint8Array(
      await sharp({ create: { width: width!, height: height!, channels: 3, background: "#000" } }).png()
        .toBuffer(),
    );
    const nx = plot.x.values.length;
    const per = nx * plot.y.values.length;
    const labels = (n: AxisName) => plot[n].values.map((v) => valueLabel(plot[n], v));
    const subs: { png: Uint8Array; infotext: string; seed: number }[] = [];
    for (let z = 0; z < plot.z.values.length; z++) {
      const slice = Array.from({ length: per }, (_, i) => cellFirst[z * per + i]);
      const pngs = slice.map((c) => c?.png ?? blank);
      const png = plot.drawLegend
        ? await annotatedGrid(pngs, nx, { top: labels("x"), left: labels("y") })
        : await gridImage(pngs, nx);
      const first = slice.find((c) => c !== undefined) ?? done;
      subs.push({ png, infotext: gridInfotext(first.infotext, plot, false), seed: first.seed });
    }
    const many = subs.length > 1;
    const mainPng = !many
      ? subs[0].png
      : plot.drawLegend
      ? await annotatedGrid(subs.map((s) => s.png), subs.length, { top: labels("z"), left: [] })
      : await gridImage(subs.map((s) => s.png), subs.length);
    const mainInfo = gridInfotext(done.infotext, plot, true);
    const grids = [
      { png: mainPng, infotext: mainInfo, seed: done.seed, label: this.#plotSummary(plot) },
      ...(many && plot.includeSubGrids
        ? subs.map((s, z) => ({ ...s, label: valueLabel(plot.z, plot.z.values[z]) }))
        : []),
    ];
    if (!plot.includeLoneImages) out.images = [];
    out.images.unshift(...grids.map((g) => withPngTexts(g.png, [["parameters", g.infotext]])));
    out.infotexts.unshift(...grids.map((g) => g.infotext));
    out.seeds.unshift(...grids.map((g) => g.seed));
    out.subseeds.unshift(...grids.map(() => out.subseeds[0] ?? 0));
    out.labels.unshift(...grids.map((g) => g.label));
    out.hasGrid = true;
    out.grids = grids.length;
  }

  /** The main grid's label: each axis with its values ("Steps: 1, 2; Seed: 5, 6"). */
  #plotSummary(plot: Plot): string {
    return (["x", "y", "z"] as const).map((n) => plot[n])
      .filter((a) => a.label !== "Nothing")
      .map((a) => `${a.label}: ${a.values.join(", ")}`)
      .join("; ");
  }

  /** "Always save": A1111's outputs layout (sample_path.ts); a folder that cannot be made is the caller's. */
  async #save(root: string, mode: Mode, png: Uint8Array, seed: number): Promise<void> {
    let path: string;
    try {
      path = await nextSamplePath(root, mode, seed);
    } catch (e) {
      throw new InputError(`the save folder cannot be created (${(e as Error).name})`, ["outdir_samples"]);
    }
    await writeFileAtomic(path, png);
  }

  async close(): Promise<void> {
    while (this.#background.size) await Promise.all(this.#background);
    this.queue.close();
    await this.queue.idle();
    await this.config.remote?.close();
    for (const ext of this.extensions) await ext.close?.();
  }
}

// The WebUI's engine room, shared by the pages and /sdapi/v1: lists models, runs generations one at a time
// through the JobQueue with A1111's progress/interrupt/skip state, lets extensions process each job, runs X/Y
// sweeps, and writes each image's infotext into its PNG.
import { isAbsolute, relative, resolve } from "node:path";
import {
  featureParams,
  generationParams,
  RequestError,
  type ResolvedRequest,
  resolveRequest,
} from "../diffusion/request.ts";
import { inpaintSettings } from "../diffusion/inpaint/options.ts";
import { describeSamplers } from "../diffusion/samplers/catalog.ts";
import { formatInfotext, type ParamValue, parseInfotext } from "../io/infotext.ts";
import { InputError } from "../io/input_error.ts";
import { withPngTexts, writeFileAtomic } from "../io/png.ts";
import { chooseClip, findModel, listModels } from "../models/registry.ts";
import type { ModelEntry } from "../models/inspect.ts";
import {
  checkControlValue,
  type Extension,
  type JobAttachments,
  type Values,
} from "../extensions/adapter.ts";
import { JobQueue } from "./job_queue.ts";
import type { Chart, ConditioningHook, Job, JobModel, JobRequest, Mode, Sweep } from "../extensions/job.ts";
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
import { attentionLayout, checkMemoryBudget, defaultMaxMemory } from "./memory_budget.ts";
import type { Renderer } from "./renderer.ts";
import type { Device } from "../onnx/session.ts";
import { gridImage } from "./grid.ts";
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
  /** Run once per value of an extension's axis; the images come after a grid of them. */
  sweep?: Sweep;
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
  /** Grid labels ("Aesthetic steps: 5"), one per image, when a grid ran. */
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
  /** images[0] is an X/Y grid of the others. */
  hasGrid: boolean;
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

/** An X/Y grid's infotext: the first image's, plus the plot's fields as A1111's X/Y/Z plot script adds them. */
export function sweepInfotext(first: string, sweep: Sweep): string {
  const info = parseInfotext(first);
  return formatInfotext({
    prompt: info.prompt,
    negativePrompt: info.negativePrompt,
    params: [
      ...info.params,
      ["Script", "X/Y/Z plot"],
      ["X Type", sweep.axis],
      ["X Values", sweep.values.join(", ")],
    ],
  });
}

export class WebUIService {
  readonly queue = new JobQueue();
  /** Every job's own progress, by task id. */
  readonly tasks = new TaskRegistry();
  readonly #idle = new GenerationState();
  extensions: Extension[] = [];
  #models: ModelEntry[] = [];

  readonly limits: ServerLimits;
  styles: PromptStyle[] = [];

  private constructor(readonly config: ServiceConfig, public options: WebUIOptions) {
    this.limits = { ...DEFAULT_LIMITS, ...config.limits };
  }

  static async create(config: ServiceConfig): Promise<WebUIService> {
    const svc = new WebUIService(config, {
      ...A1111_DEFAULTS,
      sd_model_checkpoint: "",
      outdir_samples: config.outputsDir,
    } as WebUIOptions);
    await svc.refreshModels();
    await svc.refreshStyles();
    const first = svc.checkpoints()[0];
    if (!first) throw new Error(`no usable Stable Diffusion model in ${config.modelsDir}`);
    const defaults = { ...svc.options, sd_model_checkpoint: config.defaultModel ?? first.name };
    svc.options = await loadOptions(config.settingsFile, defaults);
    const chosen = svc.checkpoint(svc.options.sd_model_checkpoint);
    svc.options.sd_model_checkpoint = chosen?.name ?? first.name;
    return svc;
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

  async refreshModels(): Promise<void> {
    this.#models = (await listModels([this.config.modelsDir])).models;
  }

  /** Usable pipelines, by name. */
  checkpoints(): ModelEntry[] {
    return this.#models.filter((m) => m.kind !== "clip" && m.problems.length === 0);
  }

  /** A checkpoint by its title, name or hash (A1111's get_closet_checkpoint_match). */
  checkpoint(ref: string): ModelEntry | undefined {
    const m = findModel(this.#models, ref) ?? this.#models.find((m) => this.title(m) === ref) ??
      findModel(this.#models, ref.replace(/ \[[0-9a-f]+\]$/, ""));
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
  }

  /** Queues a generation; resolves when it has run (after every job queued before it). */
  async generate(input: GenerationInput): Promise<GenerationOutput> {
    const name = input.request.model || this.options.sd_model_checkpoint;
    const model = this.checkpoint(name);
    if (!model) throw this.#unusable(name, ["model"]);
    if (input.mode === "img2img" && model.warnings.some((w) => /encoder/i.test(w))) {
      throw new InputError(`${model.name} cannot do img2img: ${model.warnings.join("; ")}`);
    }
    if (input.sweep) {
      const axis = input.scripts.flatMap(([e]) => (e.axes ?? []).map((a) => [e, a] as const))
        .find(([, a]) => a.label === input.sweep!.axis);
      if (!axis) {
        throw new InputError(`unknown X/Y axis ${JSON.stringify(input.sweep.axis)}`, ["xy_grid", "axis"]);
      }
      if (input.sweep.values.length === 0) {
        throw new InputError("the X/Y grid has no values", ["xy_grid", "values"]);
      }
      // Each value is one the control itself accepts: the axis is no way around its limits.
      const [ext, ax] = axis;
      input.sweep.values.forEach((v, i) => {
        try {
          checkControlValue(ext, ax.control, v, `X/Y value ${i + 1}`);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          throw new InputError(e.message, ["xy_grid", "values", i]);
        }
      });
    }
    const request = {
      ...input.request,
      clipSkip: input.request.clipSkip ?? this.options.CLIP_stop_at_last_layers,
    };
    checkLimits(request, this.limits, input.sweep?.values.length ?? 1);
    const layout = await attentionLayout(model.path);
    if (layout) checkMemoryBudget(layout, request, this.config.maxMemoryBytes ?? defaultMaxMemory());
    // Every field but the size is checked before the job queues; the worker checks the size against the model.
    resolveRequest({
      ...request,
      seed: Math.max(request.seed, 0),
      subseed: Math.max(request.subseed ?? 0, 0),
      initImage: undefined,
      mask: undefined,
    });
    if (request.mask) inpaintSettings(request, (message, field) => new RequestError(message, field));
    const task = this.tasks.create(input.taskId);
    const job = { ...input, request };
    try {
      const out = this.config.remote
        ? { ...await this.config.remote.run(await this.#remote(job, model), task), model, queueId: 0 }
        : await this.execute(job, model, task);
      if (input.save ?? this.options.samples_save) {
        // A grid is never saved (A1111's grids go to their own folder, off by default here).
        for (let i = out.hasGrid ? 1 : 0; i < out.images.length; i++) {
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
    const { request } = input;
    const runs = input.sweep?.values.length ?? 1;
    const state = task.state;
    task.phase = "running";
    // A1111's job names: the API runs every generation through its scripts runner.
    state.begin(`scripts_${input.mode}`, runs * request.batchCount, request.steps);
    if (task.cancelled) state.interrupt();
    // Only personalization needs the pair (and says so when it is missing).
    const jobModel: JobModel = {
      name: model.name,
      dir: model.path,
      clipDir: chooseClip(model, this.#models)?.path,
    };
    const { seed, subseed } = chosenSeeds(request);
    // The defaults as the pipeline fills them in, for the infotext.
    const resolved = {
      ...resolveRequest({ ...request, seed, subseed, initImage: undefined, mask: undefined }),
      initImage: request.initImage,
    };
    const out = emptyOutput(model, queueId, state.snapshot().state.job_timestamp);
    try {
      for (let g = 0; g < runs; g++) {
        if (state.interrupted) {
          out.interrupted = true;
          break;
        }
        const charts: Chart[] = [];
        const extraParams: [string, ParamValue][] = [];
        const hooks: ConditioningHook[] = [];
        const job: Job = {
          mode: input.mode,
          request,
          model: jobModel,
          conditioningHooks: hooks,
          extraParams,
          charts,
          sweep: input.sweep,
          attachments: input.attachments,
          status: (t) => state.setText(t),
          stopRequested: () => state.interrupted || state.skipped,
        };
        for (const [ext, values] of input.scripts) {
          const v = { ...values };
          const axis = ext.axes?.find((a) => a.label === input.sweep?.axis);
          if (axis) v[axis.control] = input.sweep!.values[g];
          await processScript(ext, job, v);
        }
        const label = input.sweep ? `${input.sweep.axis}: ${input.sweep.values[g]}` : undefined;
        let rendered;
        try {
          rendered = await this.config.render({
            mode: input.mode,
            request: { ...request, seed, subseed },
            model,
            conditioningHooks: hooks,
            state,
            threads: this.config.threads,
            device: this.config.device,
          });
        } catch (e) {
          // A stop asked for while an extension's hook ran (the aesthetic optimization polls it between Adam
          // steps) ends this run: interrupt ends the job, skip moves on to the next X/Y value.
          if (!state.interrupted && !state.skipped) throw e;
          out.interrupted ||= state.interrupted;
          continue;
        }
        for (const img of rendered.images) {
          const params: [string, ParamValue][] = [
            ...generationParams(resolved, img, model),
            ...samplerOptionParams(resolved),
            ...extraParams,
            ...(request.mask ? inpaintSettings(request, (m, f) => new RequestError(m, f)).params : []),
            ...featureParams(resolved),
          ];
          const infotext = formatInfotext({
            prompt: request.prompt,
            negativePrompt: request.negativePrompt,
            params,
          });
          const png = withPngTexts(img.png, [["parameters", infotext]]);
          out.images.push(png);
          out.infotexts.push(infotext);
          out.seeds.push(img.seed);
          out.subseeds.push(img.subseed);
          if (label) out.labels.push(label);
        }
        for (const [k, v] of [...samplerOptionParams(resolved), ...extraParams]) {
          if (v !== undefined && v !== null) out.extraParams[k] = v;
        }
        out.charts.push(...charts.map((c) => (label ? { ...c, title: `${c.title}, ${label}` } : c)));
        if (rendered.interrupted) out.interrupted = true;
        out.stepsDone = rendered.stepsDone;
      }
      if (out.images.length > 1 && (input.sweep || input.grid)) {
        // A1111 puts the grid first, with the first image's infotext: an X/Y grid under a header naming the
        // axis, or a batch's images about as many rows as columns (its image_grid with n_rows -1).
        const columns = input.sweep
          ? out.images.length
          : Math.ceil(out.images.length / Math.round(Math.sqrt(out.images.length)));
        const labels = input.sweep && { axis: input.sweep.axis, columns: input.sweep.values.map(String) };
        const grid = await gridImage(out.images, columns, labels || undefined);
        const infotext = input.sweep ? sweepInfotext(out.infotexts[0], input.sweep) : out.infotexts[0];
        out.images.unshift(withPngTexts(grid, [["parameters", infotext]]));
        out.hasGrid = true;
        out.infotexts.unshift(infotext);
        out.seeds.unshift(out.seeds[0]);
        out.subseeds.unshift(out.subseeds[0]);
        if (input.sweep) out.labels.unshift(`${input.sweep.axis}: ${input.sweep.values.join(", ")}`);
      }
      return out;
    } finally {
      state.end();
      this.tasks.finish(task);
    }
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
    this.queue.close();
    await this.queue.idle();
    await this.config.remote?.close();
    for (const ext of this.extensions) await ext.close?.();
  }
}

// The AUTOMATIC1111-compatible API under /sdapi/v1, thin over WebUIService: validation (zod → 422), the
// alwayson_scripts → extension values mapping, and A1111's response shapes.
import { type Context, Hono } from "hono";
import { readPngTextMap } from "../lib/io/png.ts";
import { parseGenerationParameters } from "../lib/io/infotext.ts";
import {
  checkChoices,
  controlView,
  defaultValues,
  type Extension,
  ExtensionInputError,
  type Values,
  valuesFromArgs,
} from "../lib/extensions/adapter.ts";
import type { JobRequest, Mode } from "../lib/extensions/job.ts";
import { InputError } from "../lib/io/input_error.ts";
import {
  describeSamplers,
  describeSchedules,
  resolveSampling,
  type SamplingChoice,
} from "../lib/diffusion/samplers/catalog.ts";
import type { RngSource } from "../lib/diffusion/noise_source.ts";
import type { GenerationOutput, WebUIService } from "../lib/server/service.ts";
import {
  type ApiRequest,
  Img2ImgRequest,
  JOB_FIELDS,
  OptionsUpdate,
  PngInfoRequest,
  Txt2ImgRequest,
} from "./schemas.ts";
import { validBody } from "./validation.ts";
import {
  isXyzScript,
  plotSpecFromArgs,
  plotSpecFromXyGrid,
  scriptArgsLoc,
  xyGridLoc,
  XYZ_SCRIPT,
  xyzScriptInfo,
} from "./xyz_script.ts";

/** base64 (or a data: URL) → bytes; undefined when it is not base64. */
export function decodeBase64Image(s: string): Uint8Array | undefined {
  const body = s.startsWith("data:") ? s.slice(s.indexOf(",") + 1) : s;
  const clean = body.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1) return undefined;
  try {
    return Uint8Array.from(atob(clean), (ch) => ch.charCodeAt(0));
  } catch {
    return undefined;
  }
}

export function encodeBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Extension values from alwayson_scripts (titles compared case-insensitively, as A1111 does). */
export async function scriptValues(
  extensions: Extension[],
  alwayson: Record<string, { args: unknown[] }>,
): Promise<[Extension, Values][]> {
  const byTitle = new Map(extensions.map((e) => [e.title.toLowerCase(), e]));
  for (const title of Object.keys(alwayson)) {
    if (!byTitle.has(title.toLowerCase())) {
      throw new InputError(
        `always-on script ${JSON.stringify(title)} not found (known: ${
          extensions.map((e) => e.title).join(", ")
        })`,
        ["alwayson_scripts", title],
      );
    }
  }
  const out: [Extension, Values][] = [];
  for (const ext of extensions) {
    const key = Object.keys(alwayson).find((k) => k.toLowerCase() === ext.title.toLowerCase());
    try {
      const values = key ? valuesFromArgs(ext, alwayson[key].args) : defaultValues(ext);
      await checkChoices(ext, values);
      out.push([ext, values]);
    } catch (e) {
      if (!(e instanceof ExtensionInputError)) throw e;
      throw new InputError(e.message, ["alwayson_scripts", key ?? ext.title, "args"]);
    }
  }
  return out;
}

/** The job an API request asks for: JOB_FIELDS copied as they are, then the fields that need a decision. */
export function jobRequest(svc: WebUIService, mode: Mode, r: ApiRequest): JobRequest {
  const copied = Object.fromEntries(
    Object.entries(JOB_FIELDS).map(([api, field]) => [field, r[api as keyof ApiRequest] ?? undefined]),
  ) as { [K in keyof typeof JOB_FIELDS as (typeof JOB_FIELDS)[K]]: JobRequest[(typeof JOB_FIELDS)[K]] };
  const opts = svc.effectiveOptions(r.override_settings);
  const sampler = r.sampler_name ?? r.sampler_index;
  // The API always runs A1111's samplers ("Automatic" is each sampler's own schedule), as A1111 does.
  const scheduler = r.scheduler ?? "Automatic";
  let choice: SamplingChoice;
  try {
    choice = resolveSampling(sampler, scheduler);
  } catch (e) {
    const unknownSchedule = /schedule type/.test((e as Error).message);
    const field = unknownSchedule ? "scheduler" : r.sampler_name ? "sampler_name" : "sampler_index";
    throw new InputError((e as Error).message, [field]);
  }
  if (r.script_name && !isXyzScript(r.script_name)) {
    throw new InputError(
      `script ${JSON.stringify(r.script_name)} is not available; the scripts are: ${XYZ_SCRIPT}`,
      ["script_name"],
    );
  }
  let initImage: Uint8Array | undefined;
  let mask: Uint8Array | undefined;
  if (mode === "img2img") {
    initImage = decodeBase64Image((r as Img2ImgRequest).init_images[0]);
    if (!initImage) throw new InputError("not a base64 image", ["init_images", 0]);
    const maskText = (r as Img2ImgRequest).mask;
    if (maskText) {
      mask = decodeBase64Image(maskText);
      if (!mask) throw new InputError("not a base64 image", ["mask"]);
    }
  }
  const [prompt, negativePrompt] = svc.styledPrompts(r.prompt, r.negative_prompt, r.styles);
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  return {
    ...copied,
    prompt,
    negativePrompt,
    sampler,
    scheduler,
    eta: r.eta ?? num(choice.sampler.kind === "timesteps" ? opts.eta_ddim : opts.eta_ancestral),
    sChurn: r.s_churn ?? num(opts.s_churn),
    sTmin: r.s_tmin ?? num(opts.s_tmin),
    sTmax: r.s_tmax ?? num(opts.s_tmax),
    sNoise: r.s_noise ?? num(opts.s_noise),
    rngSource: opts.randn_source as RngSource,
    tiledVae: opts.tiled_vae === "Always" ? true : opts.tiled_vae === "Never" ? false : undefined,
    etaNoiseSeedDelta: num(opts.eta_noise_seed_delta),
    initImage,
    mask,
    model: opts.sd_model_checkpoint,
    clipSkip: opts.CLIP_stop_at_last_layers,
  };
}

/** Longest string the parameters echo returns as it is (a 25 MB prompt is not sent back). */
export const ECHO_MAX_CHARS = 65536;

function bounded(v: unknown): unknown {
  if (typeof v === "string" && v.length > ECHO_MAX_CHARS) {
    return `${v.slice(0, ECHO_MAX_CHARS)}… (${v.length - ECHO_MAX_CHARS} more characters)`;
  }
  if (Array.isArray(v)) return v.map(bounded);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bounded(x)]));
  }
  return v;
}

/** A1111's `parameters`: the whole request as validated; init images only with include_init_images. */
export function parametersEcho(mode: Mode, r: ApiRequest): Record<string, unknown> {
  if (mode === "txt2img") return bounded(r) as Record<string, unknown>;
  const { init_images, ...rest } = r as Img2ImgRequest;
  const echo = bounded(rest) as Record<string, unknown>;
  const include = (r as Img2ImgRequest).include_init_images;
  return { ...echo, init_images: include ? init_images : null, mask: include ? echo.mask : null };
}

/** A1111's Processed.js(): the `info` string. */
export function infoJson(r: ApiRequest, job: JobRequest, out: GenerationOutput): string {
  return JSON.stringify({
    prompt: job.prompt,
    all_prompts: out.seeds.map(() => job.prompt),
    negative_prompt: job.negativePrompt,
    all_negative_prompts: out.seeds.map(() => job.negativePrompt),
    seed: out.seeds[0] ?? job.seed,
    all_seeds: out.seeds,
    subseed: out.subseeds[0] ?? job.subseed,
    all_subseeds: out.subseeds,
    subseed_strength: job.subseedStrength ?? 0,
    width: job.width,
    height: job.height,
    sampler_name: job.sampler,
    cfg_scale: job.cfgScale,
    steps: job.steps,
    batch_size: job.batchSize,
    restore_faces: false,
    face_restoration_model: null,
    sd_model_name: out.model.name,
    sd_model_hash: out.model.hash ?? null,
    sd_vae_name: null,
    sd_vae_hash: null,
    seed_resize_from_w: job.seedResizeFromW ?? -1,
    seed_resize_from_h: job.seedResizeFromH ?? -1,
    denoising_strength: job.initImage ? job.denoisingStrength : null,
    extra_generation_params: out.extraParams,
    index_of_first_image: out.grids ?? (out.hasGrid ? 1 : 0),
    infotexts: out.infotexts,
    styles: r.styles,
    job_timestamp: out.jobTimestamp,
    clip_skip: job.clipSkip ?? 1,
    is_using_inpainting_conditioning: false,
    version: "aesthetic-gradients",
    interrupted: out.interrupted,
    steps_done: out.stepsDone,
    queue_id: out.queueId,
    labels: out.labels,
    charts: out.charts,
  });
}

/** A1111's ScriptInfo of an extension: its args from its controls, in alwayson_scripts order. */
async function scriptInfo(ext: Extension, isImg2img: boolean) {
  const views = await Promise.all(ext.controls.map(controlView));
  const args = ext.args.map((id) => {
    const v = views.find((c) => c.id === id)!;
    return {
      label: v.label,
      value: v.value,
      minimum: v.min ?? null,
      maximum: v.max ?? null,
      step: v.step ?? null,
      choices: v.choices ?? null,
    };
  });
  return { name: ext.title.toLowerCase(), is_alwayson: true, is_img2img: isImg2img, args };
}

/** The command-line flags under A1111's names (GET /cmd-flags); the credentials are never shown. */
export type CmdFlags = Record<string, string | number | boolean | null | string[]>;

export function sdapiRoutes(svc: WebUIService, cmdFlags: CmdFlags = {}): Hono {
  const app = new Hono();

  const generate = (mode: Mode) => async (c: Context) => {
    const r: ApiRequest = await validBody(c, mode === "txt2img" ? Txt2ImgRequest : Img2ImgRequest);
    const job = jobRequest(svc, mode, r);
    const scripts = await scriptValues(svc.extensions, r.alwayson_scripts);
    const plot = isXyzScript(r.script_name)
      ? await svc.plotFor({ mode, request: job, scripts }, plotSpecFromArgs(r.script_args), scriptArgsLoc)
      : r.xy_grid
      ? await svc.plotFor({ mode, request: job, scripts }, plotSpecFromXyGrid(r.xy_grid), xyGridLoc)
      : undefined;
    const opts = svc.effectiveOptions(r.override_settings);
    // A1111 keeps the overrides as the server's options when asked not to restore them.
    if (!r.override_settings_restore_afterwards) await svc.setOptions(r.override_settings);
    const out = await svc.generate({
      mode,
      request: job,
      scripts,
      plot,
      save: r.save_images && !r.do_not_save_samples,
      saveDir: opts.outdir_samples,
      taskId: r.force_task_id,
      grid: r.override_settings.return_grid === true,
    });
    return c.json({
      images: r.send_images ? out.images.map(encodeBase64) : [],
      parameters: parametersEcho(mode, r),
      info: infoJson(r, job, out),
    });
  };
  app.post("/txt2img", generate("txt2img"));
  app.post("/img2img", generate("img2img"));

  app.get("/progress", (c) => {
    // Ours: `id_task` follows one job (its place in the queue while it waits), whichever job runs.
    const id = c.req.query("id_task");
    const snap = id === undefined ? svc.state.snapshot() : svc.tasks.snapshot(id);
    if (!snap) {
      throw new InputError(`no task ${JSON.stringify(id)} (finished tasks are kept for a while)`, [
        "query",
        "id_task",
      ]);
    }
    if (c.req.query("skip_current_image") === "true") snap.current_image = null;
    return c.json(snap);
  });
  app.post("/interrupt", (c) => {
    svc.state.interrupt();
    return c.json({});
  });
  app.post("/skip", (c) => {
    svc.state.skip();
    return c.json({});
  });
  app.get("/samplers", (c) => c.json(describeSamplers()));
  app.get("/schedulers", (c) => c.json(describeSchedules()));
  app.get("/sd-models", (c) =>
    c.json(
      svc.checkpoints().map((m) => ({
        title: svc.title(m),
        model_name: m.singleFile?.modelName ?? m.name,
        hash: m.hash ?? null,
        sha256: m.singleFile?.sha256 ?? null,
        filename: m.singleFile?.file ?? m.path,
        config: null,
      })),
    ));
  app.post("/refresh-checkpoints", async (c) => {
    // As A1111's: answers once the list (new single files hashed) is current.
    await svc.refreshModels();
    return c.json({});
  });
  // Models load for each job, so there is nothing to unload or reload.
  app.post("/unload-checkpoint", (c) => c.json({}));
  app.post("/reload-checkpoint", (c) => c.json({}));
  app.get("/options", (c) => c.json(svc.optionsView()));
  app.post("/options", async (c) => {
    await svc.setOptions(await validBody(c, OptionsUpdate));
    return c.json({});
  });
  app.get("/cmd-flags", (c) => c.json(cmdFlags));
  app.get("/scripts", (c) => {
    const names = [XYZ_SCRIPT, ...svc.extensions.map((e) => e.title.toLowerCase())];
    return c.json({ txt2img: names, img2img: names });
  });
  app.get("/script-info", async (c) =>
    c.json([
      ...await Promise.all(svc.extensions.map((e) => scriptInfo(e, false))),
      ...await Promise.all(svc.extensions.map((e) => scriptInfo(e, true))),
      xyzScriptInfo("txt2img", svc.extensions),
      xyzScriptInfo("img2img", svc.extensions),
    ]));
  app.get("/prompt-styles", (c) => c.json(svc.styles));
  app.post("/refresh-styles", async (c) => {
    await svc.refreshStyles();
    return c.json({});
  });
  // Textual-inversion embeddings are not offered (aesthetic embeddings are the extension's dropdown).
  app.get("/embeddings", (c) => c.json({ loaded: {}, skipped: {} }));
  app.post("/refresh-embeddings", (c) => c.json({}));
  // Concepts this app does not have: A1111's shapes, empty.
  for (
    const path of [
      "/sd-vae",
      "/sd-modules",
      "/loras",
      "/hypernetworks",
      "/upscalers",
      "/latent-upscale-modes",
      "/face-restorers",
      "/realesrgan-models",
      "/extensions",
    ]
  ) app.get(path, (c) => c.json([]));
  app.post("/refresh-loras", (c) => c.json({}));
  app.post("/refresh-vae", (c) => c.json({}));
  app.get("/memory", (c) => {
    const m = Deno.systemMemoryInfo();
    const used = m.total - m.available;
    return c.json({
      ram: { free: m.available, used, total: m.total },
      cuda: { error: "this server runs on onnxruntime; no CUDA memory statistics" },
    });
  });
  app.post("/png-info", async (c) => {
    const { image } = await validBody(c, PngInfoRequest);
    const bytes = decodeBase64Image(image);
    if (!bytes) throw new InputError("not base64", ["image"]);
    let texts: Map<string, string>;
    try {
      texts = readPngTextMap(bytes);
    } catch (e) {
      throw new InputError((e as Error).message, ["image"]);
    }
    const info = texts.get("parameters") ?? "";
    const items = Object.fromEntries([...texts].filter(([k]) => k !== "parameters"));
    return c.json({ info, items, parameters: info ? parseGenerationParameters(info) : {} });
  });
  return app;
}

// The AUTOMATIC1111-compatible API under /sdapi/v1, thin over WebUIService: validation (zod → 422), the
// alwayson_scripts → extension values mapping, and A1111's response shapes.
import { type Context, Hono } from "hono";
import { readPngTextMap } from "../lib/io/png.ts";
import { parseGenerationParameters } from "../lib/io/infotext.ts";
import {
  checkChoices,
  defaultValues,
  type Extension,
  ExtensionInputError,
  type Values,
  valuesFromArgs,
} from "../lib/extensions/adapter.ts";
import type { JobRequest, Mode } from "../lib/extensions/job.ts";
import { InputError } from "../lib/io/input_error.ts";
import { parseAxisValues } from "../lib/server/axis_values.ts";
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

function sweepValues(v: string | number[]): number[] {
  if (typeof v === "string") return parseAxisValues(v);
  const bad = v.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new InputError(`value ${bad + 1} is not a number`, ["xy_grid", "values"]);
  if (v.length > 16) throw new InputError("at most 16 values", ["xy_grid", "values"]);
  return v;
}

/** The job an API request asks for: JOB_FIELDS copied as they are, then the fields that need a decision. */
export function jobRequest(svc: WebUIService, mode: Mode, r: ApiRequest): JobRequest {
  const copied = Object.fromEntries(
    Object.entries(JOB_FIELDS).map(([api, field]) => [field, r[api as keyof ApiRequest] ?? undefined]),
  ) as { [K in keyof typeof JOB_FIELDS as (typeof JOB_FIELDS)[K]]: JobRequest[(typeof JOB_FIELDS)[K]] };
  const sampler = r.sampler_name ?? r.sampler_index ?? "Euler a";
  if (!svc.samplers().includes(sampler)) {
    throw new InputError(
      `unknown sampler ${JSON.stringify(sampler)} (known: ${svc.samplers().join(", ")})`,
      [r.sampler_name ? "sampler_name" : "sampler_index"],
    );
  }
  const { sd_model_checkpoint: model, CLIP_stop_at_last_layers: clipSkip } = r.override_settings;
  if (model !== undefined && typeof model !== "string") {
    throw new InputError("the model must be a name", ["override_settings", "sd_model_checkpoint"]);
  }
  if (clipSkip !== undefined && typeof clipSkip !== "number") {
    throw new InputError("Clip skip must be 1 or 2", ["override_settings", "CLIP_stop_at_last_layers"]);
  }
  if (r.script_name) {
    throw new InputError(
      `script ${JSON.stringify(r.script_name)} is not available; use xy_grid for X/Y sweeps`,
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
  return { ...copied, sampler, initImage, mask, model: model ?? svc.options.sd_model_checkpoint, clipSkip };
}

/** A1111's Processed.js(): the `info` string. */
export function infoJson(r: ApiRequest, job: JobRequest, out: GenerationOutput, clipSkip: number): string {
  return JSON.stringify({
    prompt: r.prompt,
    all_prompts: out.seeds.map(() => r.prompt),
    negative_prompt: r.negative_prompt,
    all_negative_prompts: out.seeds.map(() => r.negative_prompt),
    seed: out.seeds[0] ?? job.seed,
    all_seeds: out.seeds,
    subseed: -1,
    all_subseeds: out.seeds.map(() => -1),
    subseed_strength: 0,
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
    seed_resize_from_w: -1,
    seed_resize_from_h: -1,
    denoising_strength: job.initImage ? job.denoisingStrength : null,
    extra_generation_params: out.extraParams,
    index_of_first_image: out.hasGrid ? 1 : 0,
    infotexts: out.infotexts,
    styles: r.styles,
    job_timestamp: out.jobTimestamp,
    clip_skip: clipSkip,
    is_using_inpainting_conditioning: false,
    version: "aesthetic-gradients",
    interrupted: out.interrupted,
    steps_done: out.stepsDone,
    queue_id: out.queueId,
    labels: out.labels,
    charts: out.charts,
  });
}

export function sdapiRoutes(svc: WebUIService): Hono {
  const app = new Hono();

  const generate = (mode: Mode) => async (c: Context) => {
    const r: ApiRequest = await validBody(c, mode === "txt2img" ? Txt2ImgRequest : Img2ImgRequest);
    const job = jobRequest(svc, mode, r);
    const scripts = await scriptValues(svc.extensions, r.alwayson_scripts);
    const sweep = r.xy_grid ? { axis: r.xy_grid.axis, values: sweepValues(r.xy_grid.values) } : undefined;
    const out = await svc.generate({
      mode,
      request: job,
      scripts,
      sweep,
      save: r.save_images || undefined,
      taskId: r.force_task_id,
      grid: r.override_settings.return_grid === true,
    });
    const parameters = { ...r, init_images: mode === "img2img" ? null : undefined };
    return c.json({
      images: r.send_images ? out.images.map(encodeBase64) : [],
      parameters,
      info: infoJson(r, job, out, job.clipSkip ?? svc.options.CLIP_stop_at_last_layers),
    });
  };
  app.post("/txt2img", generate("txt2img"));
  app.post("/img2img", generate("img2img"));

  app.get("/progress", (c) => {
    const snap = svc.state.snapshot();
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
  app.get("/samplers", (c) => c.json(svc.samplers().map((name) => ({ name, aliases: [], options: {} }))));
  app.get("/sd-models", (c) =>
    c.json(
      svc.checkpoints().map((m) => ({
        title: m.hash ? `${m.name} [${m.hash}]` : m.name,
        model_name: m.name,
        hash: m.hash ?? null,
        sha256: null,
        filename: m.path,
        config: null,
      })),
    ));
  app.post("/refresh-checkpoints", async (c) => {
    await svc.refreshModels();
    return c.json({});
  });
  app.get("/options", (c) => c.json(svc.options));
  app.post("/options", async (c) => {
    await svc.setOptions(await validBody(c, OptionsUpdate));
    return c.json({});
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

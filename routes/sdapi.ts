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
import { type GenerationOutput, type WebUIService } from "../lib/server/service.ts";
import { Img2ImgRequest, OptionsUpdate, PngInfoRequest, Txt2ImgRequest } from "./schemas.ts";
import { type FieldError, unprocessable, validBody } from "./validation.ts";

type ApiRequest = Txt2ImgRequest | Img2ImgRequest;

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

class FieldsError extends Error {
  constructor(readonly detail: FieldError[]) {
    super(detail.map((d) => d.msg).join("; "));
  }
}

/** Extension values from alwayson_scripts (titles compared case-insensitively, as A1111 does). */
export async function scriptValues(
  extensions: Extension[],
  alwayson: Record<string, { args: unknown[] }>,
): Promise<[Extension, Values][]> {
  const byTitle = new Map(extensions.map((e) => [e.title.toLowerCase(), e]));
  for (const title of Object.keys(alwayson)) {
    if (!byTitle.has(title.toLowerCase())) {
      throw new FieldsError([{
        loc: ["body", "alwayson_scripts", title],
        msg: `always-on script ${JSON.stringify(title)} not found (known: ${
          extensions.map((e) => e.title).join(", ")
        })`,
        type: "value_error",
      }]);
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
      throw new FieldsError([{
        loc: ["body", "alwayson_scripts", key ?? ext.title, "args"],
        msg: e.message,
        type: "value_error",
      }]);
    }
  }
  return out;
}

function gridValues(v: string | number[]): number[] {
  const list = typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean).map(Number) : v;
  const bad = list.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) {
    throw new FieldsError([{
      loc: ["body", "xy_grid", "values"],
      msg: `value ${bad + 1} is not a number`,
      type: "value_error",
    }]);
  }
  if (list.length > 16) {
    throw new FieldsError([{
      loc: ["body", "xy_grid", "values"],
      msg: "at most 16 values",
      type: "value_error",
    }]);
  }
  return list;
}

function jobRequest(svc: WebUIService, mode: Mode, r: ApiRequest): JobRequest {
  const sampler = r.sampler_name ?? r.sampler_index ?? "Euler a";
  if (!svc.samplers().includes(sampler)) {
    throw new FieldsError([{
      loc: ["body", r.sampler_name ? "sampler_name" : "sampler_index"],
      msg: `unknown sampler ${JSON.stringify(sampler)} (known: ${svc.samplers().join(", ")})`,
      type: "value_error",
    }]);
  }
  const model = r.override_settings.sd_model_checkpoint;
  if (model !== undefined && (typeof model !== "string" || !svc.checkpoint(model))) {
    throw new FieldsError([{
      loc: ["body", "override_settings", "sd_model_checkpoint"],
      msg: `unknown model ${JSON.stringify(model)} (known: ${
        svc.checkpoints().map((m) => m.name).join(", ")
      })`,
      type: "value_error",
    }]);
  }
  if (r.script_name) {
    throw new FieldsError([{
      loc: ["body", "script_name"],
      msg: `script ${JSON.stringify(r.script_name)} is not available; use xy_grid for X/Y sweeps`,
      type: "value_error",
    }]);
  }
  let initImage: Uint8Array | undefined;
  if (mode === "img2img") {
    initImage = decodeBase64Image((r as Img2ImgRequest).init_images[0]);
    if (!initImage) {
      throw new FieldsError([{
        loc: ["body", "init_images", 0],
        msg: "not a base64 image",
        type: "value_error",
      }]);
    }
  }
  return {
    prompt: r.prompt,
    negativePrompt: r.negative_prompt,
    sampler,
    steps: r.steps,
    width: r.width,
    height: r.height,
    cfgScale: r.cfg_scale,
    seed: r.seed,
    batchCount: r.n_iter,
    batchSize: r.batch_size,
    denoisingStrength: r.denoising_strength ?? 0.75,
    initImage,
    model: typeof model === "string" ? model : svc.options.sd_model_checkpoint,
  };
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
    const body = await validBody(c, mode === "txt2img" ? Txt2ImgRequest : Img2ImgRequest);
    if (!body.ok) return body.response;
    const r = body.value as ApiRequest;
    let job: JobRequest;
    let out: GenerationOutput;
    try {
      job = jobRequest(svc, mode, r);
      const scripts = await scriptValues(svc.extensions, r.alwayson_scripts);
      const grid = r.xy_grid ? { axis: r.xy_grid.axis, values: gridValues(r.xy_grid.values) } : undefined;
      out = await svc.generate({ mode, request: job, scripts, grid, save: r.save_images || undefined });
    } catch (e) {
      if (e instanceof FieldsError) return unprocessable(c, e.detail);
      if (e instanceof InputError) {
        return unprocessable(c, [{ loc: ["body", ...e.loc], msg: e.message, type: "value_error" }]);
      }
      console.error(e);
      return c.json({ error: "generation failed", detail: (e as Error).message }, 500);
    }
    const parameters = { ...r, init_images: mode === "img2img" ? null : undefined };
    return c.json({
      images: r.send_images ? out.images.map(encodeBase64) : [],
      parameters,
      info: infoJson(r, job, out, svc.options.CLIP_stop_at_last_layers),
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
    const body = await validBody(c, OptionsUpdate);
    if (!body.ok) return body.response;
    try {
      await svc.setOptions(body.value);
    } catch (e) {
      if (e instanceof InputError) {
        return unprocessable(c, [{ loc: ["body", ...e.loc], msg: e.message, type: "value_error" }]);
      }
      throw e;
    }
    return c.json({});
  });
  app.post("/png-info", async (c) => {
    const body = await validBody(c, PngInfoRequest);
    if (!body.ok) return body.response;
    const bytes = decodeBase64Image(body.value.image);
    if (!bytes) return unprocessable(c, [{ loc: ["body", "image"], msg: "not base64", type: "value_error" }]);
    let texts: Map<string, string>;
    try {
      texts = readPngTextMap(bytes);
    } catch (e) {
      return unprocessable(c, [{ loc: ["body", "image"], msg: (e as Error).message, type: "value_error" }]);
    }
    const info = texts.get("parameters") ?? "";
    const items = Object.fromEntries([...texts].filter(([k]) => k !== "parameters"));
    return c.json({ info, items, parameters: info ? parseGenerationParameters(info) : {} });
  });
  return app;
}

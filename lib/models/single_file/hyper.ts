// What a state dict does not say: attention heads, group-norm groups, epsilons, activations, the scheduler.
// Each family's released values (SD 1.x: 8 heads, ViT-L/14 text with 12 heads and QuickGELU; SD 2.x: 64-wide
// heads, OpenCLIP ViT-H with GELU; 32 groups everywhere), or read from a diffusers folder's config files with
// `--config DIR`, as diffusers' `from_single_file(config=…)` does for non-standard models.
import { join } from "node:path";
import type { Detected } from "./detect.ts";

export interface Hyper {
  unetHeads: { count: number } | { width: number };
  unetGroups: number;
  unetEps: number;
  vaeGroups: number;
  scalingFactor: number;
  textHeads: number;
  textEps: number;
  textAct: "quick_gelu" | "gelu";
  /** SDXL's second (OpenCLIP) text encoder. */
  text2Heads: number;
  text2Eps: number;
  text2Act: "quick_gelu" | "gelu";
  scheduler: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const BETAS = {
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  num_train_timesteps: 1000,
};

export function defaultHyper(d: Detected): Hyper {
  const sd2 = d.family === "sd2", xl = d.family === "sdxl";
  return {
    unetHeads: sd2 || xl ? { width: 64 } : { count: 8 },
    unetGroups: 32,
    unetEps: 1e-5,
    vaeGroups: 32,
    scalingFactor: xl ? 0.13025 : 0.18215,
    textHeads: d.text.hidden / 64,
    textEps: 1e-5,
    textAct: sd2 ? "gelu" : "quick_gelu",
    text2Heads: (d.text2?.hidden ?? 0) / 64,
    text2Eps: 1e-5,
    text2Act: "gelu",
    scheduler: xl
      ? {
        _class_name: "EulerDiscreteScheduler",
        ...BETAS,
        interpolation_type: "linear",
        set_alpha_to_one: false,
        skip_prk_steps: true,
        steps_offset: 1,
        timestep_spacing: "leading",
        use_karras_sigmas: false,
        prediction_type: d.prediction,
      }
      : sd2
      ? {
        _class_name: "DDIMScheduler",
        ...BETAS,
        clip_sample: false,
        set_alpha_to_one: false,
        steps_offset: 1,
        timestep_spacing: "leading",
        prediction_type: d.prediction,
      }
      : {
        _class_name: "PNDMScheduler",
        ...BETAS,
        set_alpha_to_one: false,
        skip_prk_steps: true,
        steps_offset: 1,
        timestep_spacing: "leading",
        prediction_type: d.prediction,
      },
  };
}

async function readConfig(dir: string, rel: string): Promise<Json> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, rel))) as Json;
  } catch (e) {
    throw new Error(`--config ${dir}: cannot read ${rel} (${(e as Error).message})`);
  }
}

const num = (v: unknown, fallback: number) => typeof v === "number" ? v : fallback;

/** The family's values overridden by a diffusers folder's unet/, vae/, text_encoder/ and scheduler/ configs. */
export async function hyperFromConfig(d: Detected, dir: string): Promise<Hyper> {
  const h = defaultHyper(d);
  const unet = await readConfig(dir, "unet/config.json");
  const vae = await readConfig(dir, "vae/config.json");
  const text = await readConfig(dir, "text_encoder/config.json");
  const scheduler = await readConfig(dir, "scheduler/scheduler_config.json");
  // diffusers' attention_head_dim is a head count for SD 1.x-style configs, or a per-block list of counts.
  const heads = unet.num_attention_heads ?? unet.attention_head_dim;
  const blocks = unet.block_out_channels as number[] | undefined;
  if (typeof heads === "number") h.unetHeads = { count: heads };
  else if (Array.isArray(heads) && blocks) h.unetHeads = { width: blocks[0] / heads[0] };
  h.unetGroups = num(unet.norm_num_groups, h.unetGroups);
  h.unetEps = num(unet.norm_eps, h.unetEps);
  h.vaeGroups = num(vae.norm_num_groups, h.vaeGroups);
  h.scalingFactor = num(vae.scaling_factor, h.scalingFactor);
  h.textHeads = num(text.num_attention_heads, h.textHeads);
  h.textEps = num(text.layer_norm_eps, h.textEps);
  if (text.hidden_act === "gelu" || text.hidden_act === "quick_gelu") h.textAct = text.hidden_act;
  if (d.text2) {
    const text2 = await readConfig(dir, "text_encoder_2/config.json");
    h.text2Heads = num(text2.num_attention_heads, h.text2Heads);
    h.text2Eps = num(text2.layer_norm_eps, h.text2Eps);
    if (text2.hidden_act === "gelu" || text2.hidden_act === "quick_gelu") h.text2Act = text2.hidden_act;
  }
  h.scheduler = { ...scheduler, prediction_type: d.prediction };
  return h;
}

/** A1111's sidecar LDM config: unet_config's num_heads or num_head_channels (-1 means unset), scale_factor. */
export function hyperFromYaml(h: Hyper, yaml: string): Hyper {
  const value = (key: string) => {
    const m = yaml.match(new RegExp(`^\\s*${key}:\\s*(-?[0-9.e-]+)\\s*$`, "m"));
    return m ? Number(m[1]) : undefined;
  };
  const out = { ...h };
  const heads = value("num_heads"), width = value("num_head_channels"), scale = value("scale_factor");
  if (width !== undefined && width > 0) out.unetHeads = { width };
  else if (heads !== undefined && heads > 0) out.unetHeads = { count: heads };
  if (scale !== undefined && scale > 0) out.scalingFactor = scale;
  return out;
}

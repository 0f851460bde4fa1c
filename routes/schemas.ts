// Request and response schemas of the A1111-compatible API (zod 4). Field names, defaults and shapes follow
// AUTOMATIC1111's /sdapi/v1 models so existing clients work; unknown fields are ignored as A1111 ignores them.
// The OpenAPI document is generated from these (z.toJSONSchema).
import { z } from "zod";
import type { JobRequest } from "../lib/extensions/job.ts";

const scriptArgs = z.object({ args: z.array(z.unknown()).default([]) }).meta({
  description: "An always-on script's positional args, in the order of its ui().",
});

/** A switch for an A1111 feature this app does not offer: accepted when off, refused (422) when on. */
const notOffered = (feature: string) =>
  z.literal(false, { error: `${feature} is not offered by this server` }).default(false);

// A1111's StableDiffusionProcessingAPI fields with its defaults. No bounds beyond A1111's own types: resource
// limits are server options (lib/server/limits.ts), checked with a 422 naming the option.
const common = {
  prompt: z.string().default(""),
  negative_prompt: z.string().default(""),
  styles: z.array(z.string()).default([]).meta({ description: "Prompt styles (styles.csv) to apply" }),
  seed: z.int().min(-1).max(2 ** 32 - 1).default(-1).meta({ description: "-1 for a random seed" }),
  subseed: z.int().min(-1).max(2 ** 32 - 1).default(-1).meta({ description: "Variation seed; -1 random" }),
  subseed_strength: z.number().min(0).max(1).default(0),
  seed_resize_from_h: z.int().default(-1),
  seed_resize_from_w: z.int().default(-1),
  sampler_name: z.string().optional(),
  sampler_index: z.string().default("Euler").meta({ description: "Older name of sampler_name" }),
  scheduler: z.string().optional().meta({ description: "Schedule type (Automatic, Karras, …)" }),
  batch_size: z.int().min(1).default(1),
  n_iter: z.int().min(1).default(1).meta({ description: "Batch count" }),
  steps: z.int().min(1).default(50),
  cfg_scale: z.number().default(7),
  width: z.int().min(8).default(512),
  height: z.int().min(8).default(512),
  restore_faces: notOffered("restore_faces (face restoration)"),
  tiling: notOffered("tiling"),
  do_not_save_samples: z.boolean().default(false),
  do_not_save_grid: z.boolean().default(false),
  eta: z.number().min(0).optional().meta({ description: "Default: the eta_ddim or eta_ancestral option" }),
  s_min_uncond: z.literal(0, { error: "s_min_uncond (negative guidance minimum sigma) is not offered" })
    .optional(),
  s_churn: z.number().min(0).optional(),
  s_tmax: z.number().min(0).optional(),
  s_tmin: z.number().min(0).optional(),
  s_noise: z.number().min(0).optional(),
  override_settings: z.record(z.string(), z.unknown()).default({}),
  override_settings_restore_afterwards: z.boolean().default(true),
  refiner_checkpoint: z.string().nullable().optional().meta({
    description: "An SDXL refiner (title, name or hash) that takes over at refiner_switch_at",
  }),
  refiner_switch_at: z.number().gt(0).max(1).nullable().optional().meta({
    description: "The fraction of the schedule the base model runs; default 0.8",
  }),
  disable_extra_networks: z.boolean().default(false),
  comments: z.record(z.string(), z.unknown()).optional(),
  script_name: z.string().optional().meta({ description: '"x/y/z plot" (A1111\'s X/Y/Z plot) or none' }),
  script_args: z.array(z.unknown()).default([]).meta({
    description:
      "The X/Y/Z plot's args, positional as A1111's xyz_grid run(): x_type (A1111's axis index), " +
      "x_values, x_values_dropdown, y_type, y_values, y_values_dropdown, z_type, z_values, z_values_dropdown, " +
      "draw_legend, include_lone_images, include_sub_grids, no_fixed_seeds, margin_size, csv_mode, raw_mode",
  }),
  send_images: z.boolean().default(true),
  save_images: z.boolean().default(false),
  alwayson_scripts: z.record(z.string(), scriptArgs).default({}),
  force_task_id: z.string().optional().meta({
    description: "The task id to follow this job by (POST /internal/progress {id_task}), as A1111's UI sends",
  }),
  xy_grid: z.object({
    axis: z.string(),
    values: z.union([z.string(), z.array(z.number())]),
  }).optional().meta({
    description: "An X/Y/Z plot over one X axis by its label, e.g. {axis: 'Aesthetic steps', " +
      "values: '0,2,5,10,20'}; the grid, then one image per value (optimization shared across values).",
  }),
};

export const Txt2ImgRequest = z.object({
  ...common,
  denoising_strength: z.number().min(0).max(1).nullable().optional(),
  enable_hr: z.boolean().default(false).meta({ description: "Hires. fix: a second pass at a larger size" }),
  hr_scale: z.number().min(1).max(8).default(2),
  hr_upscaler: z.string().nullable().optional().meta({
    description: "Latent, Latent (antialiased), Latent (bicubic), Latent (bicubic antialiased), " +
      "Latent (nearest), Latent (nearest-exact), None, Lanczos or Nearest; default Latent",
  }),
  hr_second_pass_steps: z.int().min(0).max(150).default(0).meta({ description: "0: the first pass's steps" }),
  hr_resize_x: z.int().min(0).max(4096).default(0),
  hr_resize_y: z.int().min(0).max(4096).default(0),
  hr_sampler_name: z.string().nullable().optional(),
  hr_scheduler: z.string().nullable().optional(),
  hr_prompt: z.string().max(20_000).default(""),
  hr_negative_prompt: z.string().max(20_000).default(""),
}).meta({ id: "StableDiffusionTxt2ImgProcessingAPI" });

export const Img2ImgRequest = z.object({
  ...common,
  init_images: z.array(z.string().min(1)).min(1, "init_images needs one base64 image").max(
    1,
    "one init image",
  ),
  resize_mode: z.literal(0, { error: "resize_mode: only 0 (just resize) is offered" }).default(0),
  image_cfg_scale: z.null({ error: "image_cfg_scale (instruct-pix2pix) is not offered" }).optional(),
  initial_noise_multiplier: z.literal(1, { error: "initial_noise_multiplier other than 1 is not offered" })
    .optional(),
  latent_mask: z.null({ error: "latent_mask is not offered" }).optional(),
  include_init_images: z.boolean().default(false),
  denoising_strength: z.number().min(0).max(1).default(0.75),
  mask: z.string().min(1).nullable().optional().meta({
    description: "base64 mask, the init image's size: white (luminance above 128) is inpainted",
  }),
  mask_blur: z.int().min(0).max(64).nullable().optional(),
  mask_blur_x: z.int().min(0).max(64).default(4),
  mask_blur_y: z.int().min(0).max(64).default(4),
  inpainting_fill: z.int().min(0).max(3).default(0).meta({
    description: "0 fill, 1 original, 2 latent noise, 3 latent nothing",
  }),
  inpaint_full_res: z.boolean().default(true).meta({
    description: "true: only masked; false: whole picture",
  }),
  inpaint_full_res_padding: z.int().min(0).max(4096).default(0),
  inpainting_mask_invert: z.int().min(0).max(1).default(0).meta({ description: "1: inpaint not masked" }),
}).meta({ id: "StableDiffusionImg2ImgProcessingAPI" });

export type Txt2ImgRequest = z.infer<typeof Txt2ImgRequest>;
export type Img2ImgRequest = z.infer<typeof Img2ImgRequest>;
export type ApiRequest = Txt2ImgRequest | Img2ImgRequest;
type ApiField = keyof Txt2ImgRequest | keyof Img2ImgRequest;

/**
 * The API fields that are job fields (lib/extensions/job.ts JobRequest, the pipeline's request), copied by
 * this table alone. Every other field is placed in OTHER_FIELDS: a field in neither fails the type check, so
 * none can be dropped silently.
 */
export const JOB_FIELDS = {
  prompt: "prompt",
  negative_prompt: "negativePrompt",
  steps: "steps",
  cfg_scale: "cfgScale",
  width: "width",
  height: "height",
  seed: "seed",
  subseed: "subseed",
  subseed_strength: "subseedStrength",
  seed_resize_from_w: "seedResizeFromW",
  seed_resize_from_h: "seedResizeFromH",
  scheduler: "scheduler",
  batch_size: "batchSize",
  n_iter: "batchCount",
  denoising_strength: "denoisingStrength",
  enable_hr: "enableHr",
  hr_scale: "hrScale",
  hr_upscaler: "hrUpscaler",
  hr_second_pass_steps: "hrSecondPassSteps",
  hr_resize_x: "hrResizeX",
  hr_resize_y: "hrResizeY",
  hr_sampler_name: "hrSamplerName",
  hr_scheduler: "hrScheduler",
  hr_prompt: "hrPrompt",
  hr_negative_prompt: "hrNegativePrompt",
  mask_blur: "maskBlur",
  mask_blur_x: "maskBlurX",
  mask_blur_y: "maskBlurY",
  inpainting_fill: "inpaintingFill",
  inpaint_full_res: "inpaintFullRes",
  inpaint_full_res_padding: "inpaintFullResPadding",
  inpainting_mask_invert: "inpaintingMaskInvert",
  refiner_checkpoint: "refinerCheckpoint",
  refiner_switch_at: "refinerSwitchAt",
} as const satisfies Partial<Record<ApiField, keyof JobRequest>>;

/** What uses each API field that is not copied by JOB_FIELDS. */
export const OTHER_FIELDS: Record<Exclude<ApiField, keyof typeof JOB_FIELDS>, string> = {
  sampler_name: "the job's sampler (A1111's names and aliases)",
  sampler_index: "the job's sampler when sampler_name is absent (A1111's older name)",
  eta: "the job's eta; without it the eta_ddim or eta_ancestral option, as in A1111",
  s_churn: "the job's sChurn; without it the s_churn option",
  s_tmin: "the job's sTmin; without it the s_tmin option",
  s_tmax: "the job's sTmax; without it the s_tmax option (0 = infinity)",
  s_noise: "the job's sNoise; without it the s_noise option",
  s_min_uncond: "refused unless 0 (not offered)",
  init_images: "the job's initImage (img2img), decoded from base64",
  include_init_images: "the parameters echo keeps init_images",
  resize_mode: "refused unless 0 (just resize, what img2img does)",
  image_cfg_scale: "refused unless null (no instruct-pix2pix)",
  initial_noise_multiplier: "refused unless 1",
  latent_mask: "refused unless null",
  override_settings:
    "options for this request (sd_model_checkpoint, CLIP_stop_at_last_layers, randn_source, tiled_vae, " +
    "eta_noise_seed_delta, " +
    "…; return_grid: a batch's grid first)",
  override_settings_restore_afterwards: "false keeps the overrides as the server's options",
  alwayson_scripts: "each extension's values (process() before sampling)",
  xy_grid: "an X/Y/Z plot over one X axis by its label (the grid, then the images)",
  script_name: '"x/y/z plot" runs the X/Y/Z plot (routes/xyz_script.ts); any other script is refused',
  script_args: "the X/Y/Z plot's positional args (routes/xyz_script.ts)",
  styles: "prompt styles from styles.csv applied to the prompts",
  send_images: "whether the response carries the images",
  save_images: "also write the images to the outputs folder",
  mask: "the job's mask (inpainting), decoded from base64",
  force_task_id: "the job's task id (routes/internal.ts follows its progress); echoed in the parameters",
  do_not_save_samples: "with save_images: do not save after all",
  do_not_save_grid: "accepted (grids are not saved)",
  restore_faces: "refused unless false (not offered)",
  tiling: "refused unless false (not offered)",
  disable_extra_networks: "accepted (there are no extra networks)",
  comments: "echoed in the parameters",
};

/** Where a job field came from in the API, for errors found after the mapping (the pipeline's, the model's). */
export const API_LOCATION: Record<string, (string | number)[]> = {
  ...Object.fromEntries(Object.entries(JOB_FIELDS).map(([api, job]) => [job, [api]])),
  sampler: ["sampler_name"],
  initImage: ["init_images", 0],
  mask: ["mask"],
  model: ["override_settings", "sd_model_checkpoint"],
  clipSkip: ["override_settings", "CLIP_stop_at_last_layers"],
  rngSource: ["override_settings", "randn_source"],
  tiledVae: ["override_settings", "tiled_vae"],
  etaNoiseSeedDelta: ["override_settings", "eta_noise_seed_delta"],
  eta: ["eta"],
  sChurn: ["s_churn"],
  sTmin: ["s_tmin"],
  sTmax: ["s_tmax"],
  sNoise: ["s_noise"],
  // The pipeline's RequestError names these as people read them.
  "batch size": ["batch_size"],
  "batch count": ["n_iter"],
};

export const GenerationResponse = z.object({
  images: z.array(z.string()).meta({ description: "base64 PNGs, each with its infotext in 'parameters'" }),
  parameters: z.record(z.string(), z.unknown()),
  info: z.string().meta({ description: "JSON: seeds, infotexts, extra_generation_params, charts, …" }),
}).meta({ id: "GenerationResponse" });

export const ProgressResponse = z.object({
  progress: z.number(),
  eta_relative: z.number(),
  state: z.object({
    skipped: z.boolean(),
    interrupted: z.boolean(),
    job: z.string(),
    job_count: z.int(),
    job_timestamp: z.string(),
    job_no: z.int(),
    sampling_step: z.int(),
    sampling_steps: z.int(),
  }),
  current_image: z.string().nullable(),
  textinfo: z.string().nullable(),
}).meta({ id: "ProgressResponse" });

export const SamplerItem = z.object({
  name: z.string(),
  aliases: z.array(z.string()),
  options: z.record(z.string(), z.union([z.string(), z.boolean()])),
}).meta({ id: "SamplerItem" });

export const SDModelItem = z.object({
  title: z.string(),
  model_name: z.string(),
  hash: z.string().nullable(),
  sha256: z.string().nullable(),
  filename: z.string(),
  config: z.string().nullable(),
}).meta({ id: "SDModelItem" });

export const Options = z.record(z.string(), z.unknown()).meta({
  id: "Options",
  description: "A1111's option keys and defaults; sd_model_checkpoint is the model's title",
});

export const OptionsUpdate = z.record(z.string(), z.unknown()).meta({
  id: "OptionsUpdate",
  description: "Any of the option keys; unknown keys are ignored, as A1111 ignores them",
});

export const PngInfoRequest = z.object({
  image: z.string().min(1, "image is empty").meta({ description: "base64 PNG (a data: URL is accepted)" }),
}).meta({ id: "PNGInfoRequest" });

export const PngInfoResponse = z.object({
  info: z.string(),
  items: z.record(z.string(), z.string()),
  parameters: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
}).meta({ id: "PNGInfoResponse" });

export const ValidationError = z.object({
  detail: z.array(
    z.object({ loc: z.array(z.union([z.string(), z.number()])), msg: z.string(), type: z.string() }),
  ),
}).meta({ id: "HTTPValidationError" });

export const ErrorResponse = z.object({ error: z.string(), detail: z.string() }).meta({
  id: "ErrorResponse",
});

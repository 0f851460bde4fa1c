// The WebUI's settings under A1111's option keys and defaults (its shared_options), so A1111 clients read and
// write them as they would there. The keys that mean something here are applied (see APPLIED); the rest are
// stored and echoed. Kept in memory and optionally in a JSON file written atomically.
import { writeFileAtomic } from "../io/png.ts";
import { InputError } from "../io/input_error.ts";

export type OptionValue = string | number | boolean | null | string[];

/** A1111's option keys with its defaults (1.10's shared_options, the sections a client can meaningfully set). */
export const A1111_DEFAULTS: Readonly<Record<string, OptionValue>> = {
  // Saving images/grids
  samples_save: true,
  samples_format: "png",
  samples_filename_pattern: "",
  save_images_add_number: true,
  grid_save: true,
  grid_format: "png",
  grid_extended_filename: false,
  grid_only_if_multiple: true,
  grid_prevent_empty_spots: false,
  grid_zip_filename_pattern: "",
  n_rows: -1,
  font: "",
  grid_text_active_color: "#000000",
  grid_text_inactive_color: "#999999",
  grid_background_color: "#ffffff",
  enable_pnginfo: true,
  save_txt: false,
  save_images_before_face_restoration: false,
  save_images_before_highres_fix: false,
  save_images_before_color_correction: false,
  save_mask: false,
  save_mask_composite: false,
  jpeg_quality: 80,
  webp_lossless: false,
  export_for_4chan: true,
  img_downscale_threshold: 4.0,
  target_side_length: 4000,
  img_max_size_mp: 200,
  use_original_name_batch: true,
  use_upscaler_name_as_suffix: false,
  save_selected_only: true,
  save_init_img: false,
  temp_dir: "",
  clean_temp_dir_at_start: false,
  save_incomplete_images: false,
  // Paths for saving
  outdir_samples: "",
  outdir_txt2img_samples: "outputs/txt2img-images",
  outdir_img2img_samples: "outputs/img2img-images",
  outdir_extras_samples: "outputs/extras-images",
  outdir_grids: "",
  outdir_txt2img_grids: "outputs/txt2img-grids",
  outdir_img2img_grids: "outputs/img2img-grids",
  outdir_save: "log/images",
  outdir_init_images: "outputs/init-images",
  save_to_dirs: true,
  grid_save_to_dirs: true,
  use_save_to_dirs_for_ui: false,
  directories_filename_pattern: "[date]",
  directories_max_prompt_words: 8,
  // Face restoration, upscaling (not offered here; stored)
  face_restoration: false,
  face_restoration_model: "CodeFormer",
  code_former_weight: 0.5,
  face_restoration_unload: false,
  ESRGAN_tile: 192,
  ESRGAN_tile_overlap: 8,
  upscaler_for_img2img: null,
  // Stable Diffusion
  sd_model_checkpoint: null,
  sd_checkpoints_limit: 1,
  sd_checkpoints_keep_in_cpu: true,
  sd_checkpoint_cache: 0,
  sd_unet: "Automatic",
  enable_quantization: false,
  emphasis: "Original",
  enable_batch_seeds: true,
  comma_padding_backtrack: 20,
  CLIP_stop_at_last_layers: 1,
  upcast_attn: false,
  randn_source: "GPU",
  tiling: false,
  hires_fix_refiner_pass: "second pass",
  sd_vae_checkpoint_cache: 0,
  sd_vae: "Automatic",
  sd_vae_overrides_per_model_preferences: true,
  auto_vae_precision: true,
  sd_vae_encode_method: "Full",
  sd_vae_decode_method: "Full",
  // Ours (A1111 has it as the "Tiled VAE" extension): Automatic tiles when the whole-image VAE would not fit
  // --max-memory.
  tiled_vae: "Automatic",
  // img2img
  inpainting_mask_weight: 1.0,
  initial_noise_multiplier: 1.0,
  img2img_extra_noise: 0.0,
  img2img_color_correction: false,
  img2img_fix_steps: false,
  img2img_background_color: "#ffffff",
  // Optimizations, compatibility
  cross_attention_optimization: "Automatic",
  s_min_uncond: 0.0,
  token_merging_ratio: 0.0,
  token_merging_ratio_img2img: 0.0,
  token_merging_ratio_hr: 0.0,
  pad_cond_uncond: false,
  persistent_cond_cache: true,
  batch_cond_uncond: true,
  use_old_emphasis_implementation: false,
  use_old_karras_scheduler_sigmas: false,
  no_dpmpp_sde_batch_determinism: false,
  // User interface, infotext, live previews
  return_grid: true,
  do_not_show_images: false,
  send_seed: true,
  send_size: true,
  js_modal_lightbox: true,
  show_progress_in_title: true,
  samplers_in_dropdown: true,
  quicksettings_list: ["sd_model_checkpoint"],
  add_model_hash_to_info: true,
  add_model_name_to_info: true,
  add_user_name_to_info: false,
  add_version_to_infotext: true,
  disable_weights_auto_swap: true,
  infotext_styles: "Apply if any",
  show_progressbar: true,
  live_previews_enable: true,
  live_previews_image_format: "png",
  show_progress_grid: true,
  show_progress_every_n_steps: 10,
  show_progress_type: "Approx NN",
  live_preview_content: "Prompt",
  live_preview_refresh_period: 1000,
  // Sampler parameters
  hide_samplers: [],
  eta_ddim: 0.0,
  eta_ancestral: 1.0,
  ddim_discretize: "uniform",
  s_churn: 0.0,
  s_tmin: 0.0,
  s_tmax: 0.0,
  s_noise: 1.0,
  sigma_min: 0.0,
  sigma_max: 0.0,
  rho: 0.0,
  eta_noise_seed_delta: 0,
  always_discard_next_to_last_sigma: false,
  sgm_noise_multiplier: false,
  uni_pc_variant: "bh1",
  uni_pc_skip_type: "time_uniform",
  uni_pc_order: 3,
  uni_pc_lower_order_final: true,
  sd_noise_schedule: "Default",
  // Hidden options
  disabled_extensions: [],
  disable_all_extensions: "none",
  sd_checkpoint_hash: "",
};

/** The options this app acts on; every other key is stored and echoed only. */
export const APPLIED: Readonly<Record<string, string>> = {
  sd_model_checkpoint: "the model new jobs run on (a title, name or hash; GET answers the title)",
  CLIP_stop_at_last_layers: "Clip skip (1 or 2)",
  randn_source: "the noise source: GPU, CPU or NV",
  tiled_vae: "Tiled VAE: Automatic (when the whole-image VAE would not fit --max-memory), Always or Never",
  eta_noise_seed_delta: "ENSD: sampler noise after the starting noise is seeded with seed + this",
  eta_ddim: "eta of DDIM-type samplers when a request has none",
  eta_ancestral: "eta of ancestral and SDE samplers when a request has none",
  s_churn: "the request's s_churn when it has none",
  s_tmin: "the request's s_tmin when it has none",
  s_tmax: "the request's s_tmax when it has none",
  s_noise: "the request's s_noise when it has none",
  samples_save: "save every generated image",
  samples_format: "the saved images' format (png only)",
  outdir_samples: "the folder images are saved to (inside the outputs folder unless --allow-any-output-dir)",
};

export type WebUIOptions = Record<string, OptionValue> & {
  sd_model_checkpoint: string;
  CLIP_stop_at_last_layers: number;
  samples_save: boolean;
  samples_format: string;
  outdir_samples: string;
  randn_source: string;
};

const CHOICES: Readonly<Record<string, readonly string[]>> = {
  randn_source: ["GPU", "CPU", "NV"],
  tiled_vae: ["Automatic", "Always", "Never"],
  samples_format: ["png"],
};

function sameKind(value: unknown, def: OptionValue): boolean {
  if (def === null) return value === null || typeof value === "string";
  if (Array.isArray(def)) return Array.isArray(value) && value.every((v) => typeof v === "string");
  return typeof value === typeof def;
}

/**
 * One option value checked as A1111's typed options are: of its default's type (numeric strings coerced, as
 * pydantic does), one of the choices where there are some. Unknown keys answer undefined (A1111 ignores them).
 */
export function checkOption(key: string, raw: unknown, loc: (string | number)[]): OptionValue | undefined {
  if (!(key in A1111_DEFAULTS)) return undefined;
  const def = A1111_DEFAULTS[key];
  let value = raw;
  if (
    typeof def === "number" && typeof raw === "string" && raw.trim() !== "" && Number.isFinite(Number(raw))
  ) {
    value = Number(raw);
  }
  if (!sameKind(value, def) || (typeof value === "number" && !Number.isFinite(value))) {
    const kind = def === null ? "text" : Array.isArray(def) ? "a list of text" : typeof def;
    throw new InputError(`${key} must be ${kind}, got ${JSON.stringify(raw)}`, loc);
  }
  const choices = CHOICES[key];
  if (choices && !choices.includes(value as string)) {
    throw new InputError(`${key} must be one of ${choices.join(", ")}, got ${JSON.stringify(raw)}`, loc);
  }
  if (key === "eta_noise_seed_delta" && !Number.isSafeInteger(value)) {
    throw new InputError(
      `eta_noise_seed_delta (ENSD) must be a whole number, got ${JSON.stringify(raw)}`,
      loc,
    );
  }
  if (key === "CLIP_stop_at_last_layers" && value !== 1 && value !== 2) {
    throw new InputError(`CLIP_stop_at_last_layers (Clip skip) must be 1 or 2 here, got ${value}`, loc);
  }
  return value as OptionValue;
}

/** The known options of an update, checked; unknown keys are dropped as A1111 drops them. */
export function checkOptions(
  update: Record<string, unknown>,
  loc: (string | number)[] = [],
): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const [k, v] of Object.entries(update)) {
    const value = checkOption(k, v, [...loc, k]);
    if (value !== undefined) out[k] = value;
  }
  return out;
}

export async function loadOptions(file: string | undefined, defaults: WebUIOptions): Promise<WebUIOptions> {
  if (!file) return { ...defaults };
  try {
    const saved = JSON.parse(await Deno.readTextFile(file));
    return { ...defaults, ...checkOptions(saved) } as WebUIOptions;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ...defaults };
    throw new Error(`cannot read settings ${file}: ${(e as Error).message}`);
  }
}

export async function saveOptions(file: string | undefined, opts: WebUIOptions): Promise<void> {
  if (!file) return;
  await writeFileAtomic(file, new TextEncoder().encode(JSON.stringify(opts, null, 2) + "\n"));
}

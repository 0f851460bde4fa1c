// What an infotext restores in the generation form ("Send to txt2img/img2img", PNG Info), as A1111's paste
// fields: the standard parameters, the hires fix, inpainting, the variation seed and the noise source, the
// settings it overrides and the SDXL refiner. Values are read with A1111's parse_generation_parameters (its
// defaults for missing fields included).
import { parseGenerationParameters, parseInfotext } from "../lib/io/infotext.ts";
import type { PastedFields } from "../islands/webui.tsx";
import { HIRES_UPSCALERS } from "../islands/hires_inpaint.tsx";
import { RNG_CHOICES } from "../islands/seed_extra.tsx";

const MASKED_CONTENT = ["fill", "original", "latent noise", "latent nothing"];

/**
 * The infotext fields A1111 pastes into "Override settings" (its infotext_to_setting_name_mapping), for the
 * options this app applies; each becomes an override only where it differs from the server's option. The noise
 * source is not among them: it goes to the seed's "Extra" options, where this page keeps it.
 */
const SETTING_FIELDS: [string, string][] = [["Clip skip", "CLIP_stop_at_last_layers"], [
  "ENSD",
  "eta_noise_seed_delta",
]];

/** What the page knows of the server when it pastes: its samplers, options and refiners (by title). */
export interface PasteContext {
  samplers: readonly string[];
  options?: Readonly<Record<string, unknown>>;
  refiners?: readonly string[];
}

export function pasteFields(infotext: string, { samplers, options, refiners }: PasteContext) {
  const info = parseInfotext(infotext);
  const params = new Map(info.params);
  const d = parseGenerationParameters(infotext);
  const num = (key: string): number | undefined => {
    const v = Number(d[key]);
    return key in d && String(d[key]).trim() !== "" && Number.isFinite(v) ? v : undefined;
  };
  const fields: PastedFields = { hires: {}, inpaint: {}, seedExtra: {} };
  const set = <T extends object, K extends keyof T>(o: T, k: K, v: T[K] | undefined) => {
    if (v !== undefined) o[k] = v;
  };
  set(fields, "steps", num("Steps"));
  set(fields, "cfg", num("CFG scale"));
  set(fields, "seed", num("Seed"));
  set(fields, "denoising", num("Denoising strength"));
  set(fields, "width", num("Size-1"));
  set(fields, "height", num("Size-2"));
  const sampler = params.get("Sampler");
  if (sampler && samplers.includes(sampler)) fields.sampler = sampler;

  // The hires fix: on when the infotext has a denoising strength and any hires field, as A1111 decides.
  const h = fields.hires;
  const hires = ["Hires upscale", "Hires upscaler", "Hires resize"].some((k) => params.has(k));
  if (hires && params.has("Denoising strength")) h.enabled = true;
  set(h, "scale", num("Hires upscale"));
  set(h, "steps", num("Hires steps"));
  const upscaler = params.get("Hires upscaler");
  if (upscaler && HIRES_UPSCALERS.includes(upscaler)) h.upscaler = upscaler;
  set(h, "denoising", num("Denoising strength"));
  set(h, "resizeX", num("Hires resize-1"));
  set(h, "resizeY", num("Hires resize-2"));

  const i = fields.inpaint;
  set(i, "blur", num("Mask blur"));
  i.fullRes = d["Inpaint area"] === "Only masked";
  set(i, "padding", num("Masked area padding"));
  const fill = MASKED_CONTENT.indexOf(String(d["Masked content"]));
  if (fill >= 0) i.fill = fill;
  i.invert = d["Mask mode"] === "Inpaint not masked" ? 1 : 0;

  const s = fields.seedExtra;
  set(s, "subseed", num("Variation seed"));
  set(s, "subseedStrength", num("Variation seed strength"));
  set(s, "resizeFromW", num("Seed resize from-1"));
  set(s, "resizeFromH", num("Seed resize from-2"));
  // A1111 names the source only when it is not GPU, its default.
  const rng = String(d["RNG"]);
  if (RNG_CHOICES.includes(rng) && rng !== "") s.rng = rng;
  // A1111 opens "Extra" when the infotext has a variation seed or a seed resize.
  s.shown = params.has("Variation seed") || params.has("Seed resize from");
  if (!params.has("Variation seed strength")) s.subseedStrength = 0;
  // A grid's plot goes back to the Scripts dropdown, as A1111's X/Y/Z script reads its infotext fields.
  if (params.get("Script") === "X/Y/Z plot") {
    fields.plot = {};
    for (const n of ["x", "y", "z"] as const) {
      const label = params.get(`${n.toUpperCase()} Type`);
      if (label) fields.plot[n] = { label, values: params.get(`${n.toUpperCase()} Values`) ?? "" };
    }
  }
  const overrides: Record<string, string | number> = {};
  for (const [key, option] of SETTING_FIELDS) {
    const v = num(key);
    if (v !== undefined && options && options[option] !== v) overrides[option] = v;
  }
  fields.overrides = overrides;
  // "Refiner: name [hash]", matched by title or by name.
  const refiner = params.get("Refiner");
  const title = refiner &&
    refiners?.find((t) => t === refiner || t.replace(/ \[[0-9a-f]+\]$/, "") === refiner);
  if (title) fields.refiner = { enabled: true, checkpoint: title, switchAt: num("Refiner switch at") ?? 0.8 };
  return { prompt: info.prompt, negative_prompt: info.negativePrompt, fields, params };
}

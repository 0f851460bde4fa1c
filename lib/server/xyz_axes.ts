// The axes of the X/Y/Z plot: A1111's axis list (its indices are what A1111 clients send in script_args), the
// ones this server runs, what each sets on a cell (a request field or an extension's control), and each
// value's check by that field's or control's own rules.
import {
  checkChoices,
  checkControlValue,
  type ControlValue,
  type Extension,
  type Values,
} from "../extensions/adapter.ts";
import type { JobRequest, Mode } from "../extensions/job.ts";
import { InputError } from "../io/input_error.ts";
import { SAMPLERS, SCHEDULE_LABELS } from "../diffusion/samplers/catalog.ts";
import { UPSCALERS } from "../diffusion/hires/upscalers.ts";
import { RNG_SOURCES } from "../diffusion/noise_source.ts";

export type AxisValue = number | string;

/** What an axis changes: the request and the extensions' values of one cell. */
export interface CellInput {
  request: JobRequest;
  scripts: [Extension, Values][];
}

export interface AxisType {
  label: string;
  kind: "int" | "float" | "string";
  /** Labels read "Steps: 20" (A1111's format_value_add_label) or just the value (samplers, Prompt S/R). */
  named: boolean;
  /** The values offered (A1111's axis choices; the UI's fill button). */
  choices?: () => Promise<string[]>;
  /** Checks one value (throws a message naming what is accepted). */
  check(value: AxisValue, all: AxisValue[], cell: CellInput): Promise<void> | void;
  apply(cell: CellInput, value: AxisValue, all: AxisValue[]): CellInput;
}

/** A1111's X/Y/Z axis labels in its order for each tab: the index is what script_args' x_type holds. */
const A1111_COMMON_HEAD = ["Nothing", "Seed", "Var. seed", "Var. strength", "Steps"];
const A1111_SIGMAS = [
  "Negative Guidance minimum sigma",
  "Sigma Churn",
  "Sigma min",
  "Sigma max",
  "Sigma noise",
  "Schedule type",
  "Schedule min sigma",
  "Schedule max sigma",
  "Schedule rho",
  "Eta",
  "Clip skip",
  "Denoising",
  "Initial noise multiplier",
  "Extra noise",
];
const A1111_TAIL = [
  "VAE",
  "Styles",
  "UniPC Order",
  "Face restore",
  "Token merging ratio",
  "Token merging ratio high-res",
  "Always discard next-to-last sigma",
  "SGM noise multiplier",
  "Refiner checkpoint",
  "Refiner switch at",
  "RNG source",
];
export const A1111_AXES: Record<Mode, readonly string[]> = {
  txt2img: [
    ...A1111_COMMON_HEAD,
    "Hires steps",
    "CFG Scale",
    "Prompt S/R",
    "Prompt order",
    "Sampler",
    "Hires sampler",
    "Checkpoint name",
    ...A1111_SIGMAS,
    "Hires upscaler",
    ...A1111_TAIL,
  ],
  img2img: [
    ...A1111_COMMON_HEAD,
    "CFG Scale",
    "Image CFG Scale",
    "Prompt S/R",
    "Prompt order",
    "Sampler",
    "Checkpoint name",
    ...A1111_SIGMAS,
    "Cond. Image Mask Weight",
    ...A1111_TAIL,
  ],
};

const range = (min: number, max: number, int: boolean) => (v: AxisValue) => {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Error("must be a number");
  if (int && !Number.isInteger(v)) throw new Error("must be a whole number");
  if (v < min || v > max) throw new Error(`must be from ${min} to ${max}`);
};

function field<K extends keyof JobRequest>(
  label: string,
  key: K,
  kind: "int" | "float",
  min: number,
  max: number,
): AxisType {
  return {
    label,
    kind,
    named: true,
    check: range(min, max, kind === "int"),
    apply: (cell, v) => ({ ...cell, request: { ...cell.request, [key]: v } }),
  };
}

function named<K extends keyof JobRequest>(
  label: string,
  key: K,
  choices: () => readonly string[],
  labelled = true,
): AxisType {
  const find = (v: AxisValue) => choices().find((c) => c.toLowerCase() === String(v).trim().toLowerCase());
  return {
    label,
    kind: "string",
    named: labelled,
    choices: () => Promise.resolve([...choices()]),
    check: (v) => {
      if (!find(v)) throw new Error(`is not one of: ${choices().join(", ")}`);
    },
    apply: (cell, v) => ({ ...cell, request: { ...cell.request, [key]: find(v) ?? String(v) } }),
  };
}

const samplerNames = () => SAMPLERS.map((s) => s.name);
const SEED_MAX = 2 ** 32 - 1;

/** A1111's Prompt S/R: the first value is searched for and each value replaces it in both prompts. */
const promptSR: AxisType = {
  label: "Prompt S/R",
  kind: "string",
  named: false,
  check: (_v, all, cell) => {
    const first = String(all[0]);
    if (!cell.request.prompt.includes(first) && !cell.request.negativePrompt.includes(first)) {
      throw new Error(`the first value ${JSON.stringify(first)} is not in the prompt or the negative prompt`);
    }
  },
  apply: (cell, v, all) => {
    const [from, to] = [String(all[0]), String(v)];
    const r = cell.request;
    return {
      ...cell,
      request: {
        ...r,
        prompt: r.prompt.replaceAll(from, to),
        negativePrompt: r.negativePrompt.replaceAll(from, to),
      },
    };
  },
};

/** "512x768": width and height at once (not one of A1111's axes). */
const size: AxisType = {
  label: "Size",
  kind: "string",
  named: true,
  check: (v) => {
    const m = /^\s*(\d+)\s*[x×]\s*(\d+)\s*$/.exec(String(v));
    if (!m) throw new Error("must be WIDTHxHEIGHT, e.g. 512x768");
    for (const side of [m[1], m[2]]) range(8, 16384, true)(Number(side));
  },
  apply: (cell, v) => {
    const [w, h] = String(v).split(/[x×]/).map((s) => Number(s.trim()));
    return { ...cell, request: { ...cell.request, width: w, height: h } };
  },
};

const NOTHING: AxisType = {
  label: "Nothing",
  kind: "string",
  named: false,
  check: () => {},
  apply: (c) => c,
};

/** The standard axes this server runs, by A1111's label. */
const STANDARD: AxisType[] = [
  NOTHING,
  field("Seed", "seed", "int", -1, SEED_MAX),
  field("Var. seed", "subseed", "int", -1, SEED_MAX),
  field("Var. strength", "subseedStrength", "float", 0, 1),
  field("Steps", "steps", "int", 1, 10000),
  field("Hires steps", "hrSecondPassSteps", "int", 0, 150),
  field("CFG Scale", "cfgScale", "float", -1000, 1000),
  promptSR,
  named("Sampler", "sampler", samplerNames, false),
  named("Hires sampler", "hrSamplerName", samplerNames),
  field("Sigma Churn", "sChurn", "float", 0, 1000),
  field("Sigma min", "sTmin", "float", 0, 1000),
  field("Sigma max", "sTmax", "float", 0, 1000),
  field("Sigma noise", "sNoise", "float", 0, 1000),
  named("Schedule type", "scheduler", () => SCHEDULE_LABELS),
  field("Eta", "eta", "float", 0, 1000),
  field("Clip skip", "clipSkip", "int", 1, 2),
  field("Denoising", "denoisingStrength", "float", 0, 1),
  named("Hires upscaler", "hrUpscaler", () => Object.keys(UPSCALERS)),
  named("RNG source", "rngSource", () => RNG_SOURCES),
];

/** Axes past A1111's list: ours first, then every extension's, in extension order. */
const EXTRA: AxisType[] = [
  field("Width", "width", "int", 8, 16384),
  field("Height", "height", "int", 8, 16384),
  size,
];

function extensionAxis(ext: Extension, label: string, controlId: string): AxisType {
  const control = ext.controls.find((c) => c.id === controlId);
  if (!control) throw new Error(`extension ${ext.title}: axis ${label} names no control ${controlId}`);
  const numeric = control.kind === "slider" || control.kind === "number";
  const set = (cell: CellInput, v: ControlValue): CellInput => ({
    ...cell,
    scripts: cell.scripts.map(([e, values]) => [e, e === ext ? { ...values, [controlId]: v } : values]),
  });
  const boolean = (v: AxisValue) => String(v).trim().toLowerCase() === "true";
  return {
    label,
    kind: numeric
      ? (control.kind === "number" ? (control.integer ? "int" : "float") : Number.isInteger(control.step) &&
          Number.isInteger(control.min)
        ? "int"
        : "float")
      : "string",
    named: true,
    choices: control.kind === "dropdown"
      ? control.choices
      : control.kind === "checkbox"
      ? () => Promise.resolve(["True", "False"])
      : undefined,
    check: async (v, _all, cell) => {
      const raw = control.kind === "checkbox" ? boolean(v) : v;
      const value = checkControlValue(ext, controlId, raw, label);
      const values = set(cell, value).scripts.find(([e]) => e === ext)?.[1];
      if (values && control.kind === "dropdown") await checkChoices(ext, values);
    },
    apply: (cell, v) => set(cell, control.kind === "checkbox" ? boolean(v) : v),
  };
}

/** The axes offered on a tab, each with the index script_args use for it. */
export function plotAxes(mode: Mode, extensions: Extension[]): { index: number; axis: AxisType }[] {
  const a1111 = A1111_AXES[mode];
  const out: { index: number; axis: AxisType }[] = [];
  a1111.forEach((label, index) => {
    const axis = STANDARD.find((a) => a.label === label);
    // Hires axes only on txt2img and Denoising on both (txt2img: the hires fix's), as A1111 lists them.
    if (axis) out.push({ index, axis });
  });
  const extra = [
    ...EXTRA,
    ...extensions.flatMap((e) => (e.axes ?? []).map((a) => extensionAxis(e, a.label, a.control))),
  ];
  extra.forEach((axis, i) => out.push({ index: a1111.length + i, axis }));
  return out;
}

/** An axis by its index (script_args) or label (the UI, xy_grid); unsupported ones are named in the error. */
export function findAxis(
  mode: Mode,
  extensions: Extension[],
  type: number | string,
  loc: (string | number)[],
): AxisType {
  const offered = plotAxes(mode, extensions);
  const found = typeof type === "number"
    ? offered.find((o) => o.index === type)
    : offered.find((o) => o.axis.label.toLowerCase() === type.trim().toLowerCase());
  if (found) return found.axis;
  const a1111Label = typeof type === "number" ? A1111_AXES[mode][type] : undefined;
  const what = a1111Label ? `${type} (${a1111Label})` : JSON.stringify(type);
  const known = offered.map((o) => `${o.index} ${o.axis.label}`).join(", ");
  throw new InputError(`X/Y/Z plot axis type ${what} is not supported on ${mode}; supported: ${known}`, loc);
}

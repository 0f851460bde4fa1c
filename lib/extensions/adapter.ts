// Extensions modelled on AUTOMATIC1111's scripts: a title, typed controls rendered as an accordion in the
// generation form, a process() hook run before sampling, the infotext fields written and read back, the order
// of alwayson_scripts args, optional tabs with their own routes, and X/Y grid axes.
import type { Hono } from "hono";
import { z } from "zod";
import { InputError } from "../io/input_error.ts";
import type { Job, JobAttachments } from "./job.ts";

export type { JobAttachments };

interface ControlBase {
  /** Stable id: the form field name and the key in saved values. */
  id: string;
  label: string;
  /** A1111 element id suffix, also used by tests and CSS. */
  elemId?: string;
}

export interface SliderControl extends ControlBase {
  kind: "slider";
  min: number;
  max: number;
  step: number;
  value: number;
}

export interface NumberControl extends ControlBase {
  kind: "number";
  value: number;
  min?: number;
  max?: number;
  /** Whole numbers only. */
  integer?: boolean;
}

export interface CheckboxControl extends ControlBase {
  kind: "checkbox";
  value: boolean;
}

export interface TextControl extends ControlBase {
  kind: "text";
  value: string;
  maxLength?: number;
  placeholder?: string;
}

export interface DropdownControl extends ControlBase {
  kind: "dropdown";
  value: string;
  /** The current choices; called again when the user presses the refresh button. */
  choices: () => Promise<string[]>;
  /** Shows a 🔄 button beside the dropdown. */
  refresh?: boolean;
  /** Checks a value before it is looked up in the choices (e.g. a name that must stay in its folder). */
  check?: (value: string) => void;
}

export type Control = SliderControl | NumberControl | CheckboxControl | TextControl | DropdownControl;
export type ControlValue = number | boolean | string;
export type Values = Record<string, ControlValue>;

/** An infotext key the extension writes, and the control it restores when an infotext is pasted. */
export interface InfotextField {
  key: string;
  control: string;
}

export interface TabContext {
  /** Prefix of the tab's own routes, e.g. /extensions/aesthetic. */
  base: string;
}

export interface ExtensionTab {
  id: string;
  title: string;
  /**
   * The island that draws the tab, by its name in the islands registry (islands/registry.ts), and its props.
   * Named, not imported, so an extension does not depend on the page's components.
   */
  island: { name: string; props: (ctx: TabContext) => Record<string, unknown> };
  /** Mounts the tab's routes on a sub-app served under ctx.base. */
  routes?: (app: Hono, ctx: TabContext) => void;
}

/** An X/Y grid axis: runs the job once per value, with the control set to it. */
export interface GridAxis {
  label: string;
  control: string;
  /** What the user types in the UI when they pick the axis. */
  example: string;
}

export interface Extension {
  /** URL-safe id. */
  id: string;
  /** Shown on the accordion; the key in alwayson_scripts. */
  title: string;
  controls: Control[];
  /** Control ids in the order of alwayson_scripts args. */
  args: string[];
  infotextFields: InfotextField[];
  /** Runs before sampling; sees the job and this extension's values. */
  process(job: Job, values: Values): Promise<void>;
  /** What a job with these values must carry to run on another machine (job.attachments there). */
  attach?(values: Values): Promise<JobAttachments>;
  tabs?: ExtensionTab[];
  axes?: GridAxis[];
  /** Frees what the extension keeps open between jobs (the server calls it when it shuts down). */
  close?(): Promise<void>;
}

export class ExtensionInputError extends InputError {
  constructor(message: string, readonly field: string) {
    super(message, field);
    this.name = "ExtensionInputError";
  }
}

export function defaultValues(ext: Extension): Values {
  return Object.fromEntries(ext.controls.map((c) => [c.id, c.value]));
}

function control(ext: Extension, id: string): Control {
  const c = ext.controls.find((c) => c.id === id);
  if (!c) throw new Error(`extension ${ext.title} has no control ${id}`);
  return c;
}

/** The zod schema of one control's value. Dropdown choices are checked separately (they are async). */
export function controlSchema(c: Control): z.ZodType<ControlValue> {
  switch (c.kind) {
    case "slider":
      // A slider of whole steps from a whole minimum only ever gives whole numbers.
      return (Number.isInteger(c.step) && Number.isInteger(c.min) ? z.int() : z.number()).min(c.min).max(
        c.max,
      );
    case "number": {
      let s = c.integer ? z.number().int() : z.number();
      if (c.min !== undefined) s = s.min(c.min);
      if (c.max !== undefined) s = s.max(c.max);
      return s;
    }
    case "checkbox":
      return z.boolean();
    case "text":
      return c.maxLength ? z.string().max(c.maxLength) : z.string();
    case "dropdown":
      return z.string();
  }
}

/** A1111 passes script args as its UI holds them: a textbox number arrives as a string ("0.0001"). */
function coerce(c: Control, raw: unknown): unknown {
  if ((c.kind === "slider" || c.kind === "number") && typeof raw === "string" && raw.trim() !== "") {
    const n = Number(raw);
    return Number.isFinite(n) ? n : raw;
  }
  if (c.kind === "checkbox" && (raw === "true" || raw === "false")) return raw === "true";
  return raw;
}

function checkValue(ext: Extension, c: Control, raw: unknown, where: string): ControlValue {
  const r = controlSchema(c).safeParse(coerce(c, raw));
  if (!r.success) {
    const msg = r.error.issues.map((i) => i.message).join("; ");
    throw new ExtensionInputError(`${ext.title}: ${where} (${c.label}): ${msg}`, `${ext.title}.${c.id}`);
  }
  return r.data;
}

/** One control's value checked by its own rules (an X/Y axis value goes through here too). */
export function checkControlValue(
  ext: Extension,
  controlId: string,
  raw: unknown,
  where: string,
): ControlValue {
  return checkValue(ext, control(ext, controlId), raw, where);
}

/**
 * Values from alwayson_scripts args (positional, as A1111 passes them); missing trailing args keep defaults,
 * and args past the script's own are dropped, as A1111 slices them.
 */
export function valuesFromArgs(ext: Extension, args: unknown[]): Values {
  const values = defaultValues(ext);
  args.slice(0, ext.args.length).forEach((raw, i) => {
    const c = control(ext, ext.args[i]);
    values[c.id] = checkValue(ext, c, raw, `args[${i}]`);
  });
  return values;
}

/** Values keyed by control id (the UI's JSON); unknown keys are errors, missing ones keep defaults. */
export function valuesFromObject(ext: Extension, obj: Record<string, unknown>): Values {
  const values = defaultValues(ext);
  for (const [k, raw] of Object.entries(obj)) {
    const c = ext.controls.find((c) => c.id === k);
    if (!c) throw new ExtensionInputError(`${ext.title}: unknown control ${JSON.stringify(k)}`, ext.title);
    values[k] = checkValue(ext, c, raw, k);
  }
  return values;
}

/** Checks every dropdown value is one of its current choices. */
export async function checkChoices(ext: Extension, values: Values): Promise<void> {
  for (const c of ext.controls) {
    if (c.kind !== "dropdown") continue;
    try {
      c.check?.(String(values[c.id]));
    } catch (e) {
      throw new ExtensionInputError(`${ext.title}: ${(e as Error).message}`, `${ext.title}.${c.id}`);
    }
    const choices = await c.choices();
    if (!choices.includes(String(values[c.id]))) {
      throw new ExtensionInputError(
        `${ext.title}: ${c.label} ${JSON.stringify(values[c.id])} is not one of: ${choices.join(", ")}`,
        `${ext.title}.${c.id}`,
      );
    }
  }
}

function fromInfotext(c: Control, text: string): ControlValue | undefined {
  switch (c.kind) {
    case "checkbox":
      return text === "True" ? true : text === "False" ? false : undefined;
    case "slider":
    case "number": {
      const n = Number(text);
      return text.trim() !== "" && Number.isFinite(n) ? n : undefined;
    }
    case "text":
    case "dropdown":
      return text;
  }
}

/**
 * The controls an infotext restores (PNG Info → "send to txt2img"): only fields present and readable; the
 * extension's defaults apply to the rest when any of its fields is present, as A1111's paste does.
 */
export function valuesFromInfotext(ext: Extension, params: ReadonlyMap<string, string>): Values | undefined {
  const found = ext.infotextFields.filter((f) => params.has(f.key));
  if (found.length === 0) return undefined;
  const values = defaultValues(ext);
  for (const f of found) {
    const v = fromInfotext(control(ext, f.control), params.get(f.key)!);
    if (v !== undefined) values[f.control] = v;
  }
  return values;
}

/** What the browser needs to render an extension's controls (choices resolved now). */
export interface ControlView {
  kind: Control["kind"];
  id: string;
  label: string;
  elemId?: string;
  value: ControlValue;
  min?: number;
  max?: number;
  step?: number;
  integer?: boolean;
  choices?: string[];
  refresh?: boolean;
  placeholder?: string;
}

export interface ExtensionView {
  id: string;
  title: string;
  controls: ControlView[];
  /** Control ids in alwayson_scripts args order. */
  args: string[];
  axes: GridAxis[];
  tabs: { id: string; title: string }[];
}

export async function controlView(c: Control): Promise<ControlView> {
  const base = { kind: c.kind, id: c.id, label: c.label, elemId: c.elemId, value: c.value };
  switch (c.kind) {
    case "slider":
      return { ...base, min: c.min, max: c.max, step: c.step };
    case "number":
      return { ...base, min: c.min, max: c.max, integer: c.integer };
    case "checkbox":
      return base;
    case "text":
      return { ...base, placeholder: c.placeholder };
    case "dropdown":
      return { ...base, choices: await c.choices(), refresh: c.refresh };
  }
}

export async function extensionView(ext: Extension): Promise<ExtensionView> {
  return {
    id: ext.id,
    title: ext.title,
    controls: await Promise.all(ext.controls.map(controlView)),
    args: ext.args,
    axes: ext.axes ?? [],
    tabs: (ext.tabs ?? []).map((t) => ({ id: t.id, title: t.title })),
  };
}

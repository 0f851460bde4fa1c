// The X/Y/Z plot as A1111's xyz_grid script runs it: three axes (type + values, A1111's range syntax for
// numbers, a CSV row for text), every value checked before anything runs, seeds fixed across the cells unless
// "Keep -1 for seeds", one cell per (x, y, z) with x varying fastest, and the grid's infotext: the first cell's
// with the plot's fields.
import type { Extension } from "../extensions/adapter.ts";
import type { Mode, Sweep } from "../extensions/job.ts";
import { formatInfotext, type ParamValue, parseInfotext } from "../io/infotext.ts";
import { InputError } from "../io/input_error.ts";
import { parseAxisValues, splitAxisText } from "./axis_values.ts";
import { type AxisValue, type CellInput, findAxis } from "./xyz_axes.ts";

export type AxisName = "x" | "y" | "z";
export const AXIS_NAMES: readonly AxisName[] = ["x", "y", "z"];

/** An axis as a client asks for it: its type (A1111's index, or the label) and its values as typed. */
export interface PlotAxisSpec {
  type: number | string;
  values: string;
  /** A1111's multiselect values, used for axes with choices when given. */
  dropdown?: string[];
}

export interface PlotSpec {
  x?: PlotAxisSpec;
  y?: PlotAxisSpec;
  z?: PlotAxisSpec;
  drawLegend?: boolean;
  includeLoneImages?: boolean;
  includeSubGrids?: boolean;
  /** A1111's "Keep -1 for seeds": every cell draws its own random seed. */
  noFixedSeeds?: boolean;
}

/** A checked axis (JSON, so a queued job carries it). */
export interface PlotAxis {
  label: string;
  /** The values as typed, for the grid's infotext. */
  text: string;
  values: AxisValue[];
  /** Labels read "Steps: 20" rather than the value alone. */
  named: boolean;
  /** Seeds drawn for -1 values, written as "Fixed X Values". */
  fixed: boolean;
}

export interface Plot {
  x: PlotAxis;
  y: PlotAxis;
  z: PlotAxis;
  drawLegend: boolean;
  includeLoneImages: boolean;
  includeSubGrids: boolean;
  noFixedSeeds: boolean;
}

export interface Cell {
  ix: number;
  iy: number;
  iz: number;
}

const NOTHING: PlotAxis = { label: "Nothing", text: "", values: [""], named: false, fixed: false };

export interface PlotContext {
  mode: Mode;
  extensions: Extension[];
  /** The request and extension values every cell starts from. */
  base: CellInput;
  /** Most values one axis may have (ranges are sized before they expand). */
  maxValues: number;
  /** The whole request's checks (the pipeline's, the server's limits) on a cell with one value applied. */
  checkCell(cell: CellInput): Promise<void> | void;
  /** Where errors about an axis's type or values (or one of them, by its index) are placed in the request. */
  loc(axis: AxisName, part: "type" | "values", index?: number): (string | number)[];
}

const randomSeed = () => Math.floor(Math.random() * 4294967294);

async function resolveAxis(name: AxisName, spec: PlotAxisSpec, ctx: PlotContext, fixSeeds: boolean) {
  const type = findAxis(ctx.mode, ctx.extensions, spec.type, ctx.loc(name, "type"));
  if (type.label === "Nothing") return NOTHING;
  const loc = ctx.loc(name, "values");
  const where = `X/Y/Z plot: ${name.toUpperCase()} values (${type.label})`;
  const fromDropdown = type.choices && spec.dropdown && spec.dropdown.length > 0;
  const text = fromDropdown ? spec.dropdown!.join(", ") : spec.values;
  let values: AxisValue[];
  try {
    values = type.kind === "string"
      ? (fromDropdown ? spec.dropdown! : splitAxisText(text))
      : parseAxisValues(text, ctx.maxValues, loc, type.kind === "int");
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    throw new InputError(`${where}: ${e.message}`, loc);
  }
  if (values.length === 0) throw new InputError(`${where}: no values`, loc);
  if (values.length > ctx.maxValues) throw new InputError(`${where}: at most ${ctx.maxValues} values`, loc);
  const fixed = fixSeeds && (type.label === "Seed" || type.label === "Var. seed");
  if (fixed) values = values.map((v) => (v === -1 ? randomSeed() : v));
  for (const [i, v] of values.entries()) {
    try {
      await type.check(v, values, ctx.base);
      await ctx.checkCell(type.apply(ctx.base, v, values));
    } catch (e) {
      if (!(e instanceof Error) || (e.constructor !== Error && !(e instanceof InputError))) throw e;
      throw new InputError(`${where}: ${JSON.stringify(v)} ${e.message}`, ctx.loc(name, "values", i));
    }
  }
  return { label: type.label, text, values, named: type.named, fixed };
}

/** Checks every axis and value; the first problem is a 422 naming the axis and the value. */
export async function resolvePlot(spec: PlotSpec, ctx: PlotContext): Promise<Plot> {
  const fixSeeds = !spec.noFixedSeeds;
  // The request's own problems are its fields', not an axis value's.
  await ctx.checkCell(ctx.base);
  const axes: Record<AxisName, PlotAxis> = { x: NOTHING, y: NOTHING, z: NOTHING };
  for (const name of AXIS_NAMES) {
    const s = spec[name];
    if (s) axes[name] = await resolveAxis(name, s, ctx, fixSeeds);
  }
  return {
    ...axes,
    drawLegend: spec.drawLegend ?? true,
    includeLoneImages: spec.includeLoneImages ?? false,
    includeSubGrids: spec.includeSubGrids ?? false,
    noFixedSeeds: spec.noFixedSeeds ?? false,
  };
}

export function cellCount(p: Plot): number {
  return p.x.values.length * p.y.values.length * p.z.values.length;
}

/** Every cell in A1111's order: x fastest, then y, then z (the grid's reading order). */
export function plotCells(p: Plot): Cell[] {
  const out: Cell[] = [];
  for (let iz = 0; iz < p.z.values.length; iz++) {
    for (let iy = 0; iy < p.y.values.length; iy++) {
      for (let ix = 0; ix < p.x.values.length; ix++) out.push({ ix, iy, iz });
    }
  }
  return out;
}

/** One cell's request and extension values: the base with each axis's value applied. */
export function applyCell(
  p: Plot,
  cell: Cell,
  ctx: Pick<PlotContext, "mode" | "extensions" | "base">,
): CellInput {
  let out = ctx.base;
  for (const name of AXIS_NAMES) {
    const axis = p[name];
    if (axis.label === "Nothing") continue;
    const type = findAxis(ctx.mode, ctx.extensions, axis.label, []);
    out = type.apply(out, axis.values[cell[`i${name}`]], axis.values);
  }
  return out;
}

/** A value's label on the grid: "Steps: 20" (floats to 8 places, as A1111) or the value alone. */
export function valueLabel(axis: PlotAxis, v: AxisValue): string {
  if (axis.label === "Nothing") return "";
  const text = typeof v === "number" ? String(Number(v.toFixed(8))) : v;
  return axis.named ? `${axis.label}: ${text}` : text;
}

/** A cell's label in the gallery: its axes' labels. */
export function cellLabel(p: Plot, cell: Cell): string {
  return AXIS_NAMES.map((n) => valueLabel(p[n], p[n].values[cell[`i${n}`]])).filter(Boolean).join(", ");
}

/** The numeric extension axes of the plot, so an extension can share work across their values. */
export function plotSweeps(p: Plot): Sweep[] {
  return AXIS_NAMES.map((n) => p[n])
    .filter((a) => a.label !== "Nothing" && a.values.every((v) => typeof v === "number"))
    .map((a) => ({ axis: a.label, values: a.values as number[] }));
}

/**
 * A grid's infotext as A1111's: the first cell's, then Script, the X and Y types and values as typed (seeds
 * drawn for -1 as Fixed values), and for the main grid the Z ones.
 */
export function gridInfotext(first: string, p: Plot, withZ: boolean): string {
  const info = parseInfotext(first);
  const params: [string, ParamValue][] = [...info.params, ["Script", "X/Y/Z plot"]];
  for (const n of withZ ? AXIS_NAMES : AXIS_NAMES.slice(0, 2)) {
    const a = p[n];
    if (a.label === "Nothing") continue;
    const N = n.toUpperCase();
    params.push([`${N} Type`, a.label], [`${N} Values`, a.text]);
    if (a.fixed) params.push([`Fixed ${N} Values`, a.values.join(", ")]);
  }
  return formatInfotext({ prompt: info.prompt, negativePrompt: info.negativePrompt, params });
}

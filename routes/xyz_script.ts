// The X/Y/Z plot as A1111 clients ask for it: `script_name: "x/y/z plot"` with `script_args` positional as
// the arguments of A1111's xyz_grid run() (x_type as an index into its axis list, x_values, x_values_dropdown,
// the same for y and z, draw_legend, include_lone_images, include_sub_grids, no_fixed_seeds, margin_size,
// csv_mode, raw_mode), and this API's older `xy_grid` field (one axis by label).
import { z } from "zod";
import { InputError } from "../lib/io/input_error.ts";
import type { AxisName, PlotSpec } from "../lib/server/xyz_plot.ts";
import type { Extension } from "../lib/extensions/adapter.ts";
import type { Mode } from "../lib/extensions/job.ts";
import { A1111_AXES, plotAxes } from "../lib/server/xyz_axes.ts";

export const XYZ_SCRIPT = "x/y/z plot";

/** Where each axis's type and values sit in script_args. */
const AXIS_ARG: Record<AxisName, number> = { x: 0, y: 3, z: 6 };

const axisType = z.union([z.int().min(0), z.string()]);
const values = z.union([z.string(), z.number().transform(String)]).nullable().transform((v) => v ?? "");
const dropdown = z.array(z.union([z.string(), z.number().transform(String)])).nullable().optional();
const flag = z.boolean().nullable().optional();

const ARGS: z.ZodType[] = [
  axisType,
  values,
  dropdown,
  axisType,
  values,
  dropdown,
  axisType,
  values,
  dropdown,
  flag, // draw_legend
  flag, // include_lone_images
  flag, // include_sub_grids
  flag, // no_fixed_seeds
  z.number().nullable().optional(), // margin_size (accepted; grids have no margins)
  flag, // csv_mode
  flag, // raw_mode
];

/** A1111's UI defaults for missing trailing args: X Seed, Y and Z Nothing, legend on. */
const DEFAULTS: unknown[] = [1, "", [], 0, "", [], 0, "", [], true, false, false, false, 0, false, false];

export function isXyzScript(name: string | undefined): boolean {
  return name?.trim().toLowerCase() === XYZ_SCRIPT;
}

/** The plot script_args ask for; a bad arg is a 422 at its index. */
export function plotSpecFromArgs(args: unknown[]): PlotSpec {
  const a = DEFAULTS.map((d, i) => {
    if (i >= args.length || args[i] === undefined) return d;
    const r = ARGS[i].safeParse(args[i]);
    if (!r.success) {
      throw new InputError(`X/Y/Z plot: ${r.error.issues.map((x) => x.message).join("; ")}`, [
        "script_args",
        i,
      ]);
    }
    return r.data ?? d;
  });
  const axis = (n: AxisName) => {
    const i = AXIS_ARG[n];
    return { type: a[i] as number | string, values: a[i + 1] as string, dropdown: a[i + 2] as string[] };
  };
  return {
    x: axis("x"),
    y: axis("y"),
    z: axis("z"),
    drawLegend: a[9] as boolean,
    includeLoneImages: a[10] as boolean,
    includeSubGrids: a[11] as boolean,
    noFixedSeeds: a[12] as boolean,
  };
}

/** Where an axis's problems are placed: its script_args index. */
export function scriptArgsLoc(n: AxisName, part: "type" | "values"): (string | number)[] {
  return ["script_args", AXIS_ARG[n] + (part === "type" ? 0 : 1)];
}

/** The older xy_grid field: one X axis by label, the images after the grid. */
export function plotSpecFromXyGrid(g: { axis: string; values: string | number[] }): PlotSpec {
  return {
    x: { type: g.axis, values: typeof g.values === "string" ? g.values : g.values.join(", ") },
    includeLoneImages: true,
  };
}

export function xyGridLoc(_n: AxisName, part: "type" | "values", index?: number): (string | number)[] {
  return part === "type"
    ? ["xy_grid", "axis"]
    : ["xy_grid", "values", ...(index === undefined ? [] : [index])];
}

/** A1111's /script-info entry of the plot: its run() args with labels and defaults. */
export function xyzScriptInfo(mode: Mode, extensions: Extension[]) {
  // A position in the choices is the type's index: A1111's whole list (its types not run here included, so
  // indices match), then the ones after it.
  const types = [...A1111_AXES[mode]];
  for (const o of plotAxes(mode, extensions)) types[o.index] = o.axis.label;
  const arg = (label: string, value: unknown, choices: string[] | null = null) => ({
    label,
    value,
    minimum: null,
    maximum: null,
    step: null,
    choices,
  });
  return {
    name: XYZ_SCRIPT,
    is_alwayson: false,
    is_img2img: mode === "img2img",
    args: [
      ...(["X", "Y", "Z"] as const).flatMap((n, i) => [
        arg(`${n} type`, types[i === 0 ? 1 : 0], types),
        arg(`${n} values`, ""),
        arg(`${n} values`, []),
      ]),
      arg("Draw legend", true),
      arg("Include Sub Images", false),
      arg("Include Sub Grids", false),
      arg("Keep -1 for seeds", false),
      arg("Grid margins (px)", 0),
      arg("Use text inputs instead of dropdowns", false),
      arg("Use raw text lines", false),
    ],
  };
}

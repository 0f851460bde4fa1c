// The Scripts dropdown's "X/Y/Z plot" as A1111 lays it out: three rows (axis type, values as typed, a fill
// button for axes with choices), its checkboxes and the swap buttons; sent as A1111's script_name/script_args.
import { Icon } from "./icons.tsx";

/** An axis the server offers on a tab: A1111's index, its label, and its choices if it has any. */
export interface PlotAxisView {
  index: number;
  label: string;
  kind: "int" | "float" | "string";
  choices?: string[];
  /** What to type, for the placeholder. */
  example?: string;
}

export interface AxisForm {
  type: number;
  values: string;
}

export interface PlotForm {
  /** "None" or "X/Y/Z plot" (A1111's Scripts dropdown). */
  script: string;
  x: AxisForm;
  y: AxisForm;
  z: AxisForm;
  drawLegend: boolean;
  noFixedSeeds: boolean;
  includeLoneImages: boolean;
  includeSubGrids: boolean;
}

export const XYZ_TITLE = "X/Y/Z plot";

/** A1111's defaults: X Seed, Y and Z Nothing, legend on. */
export const plotDefaults = (): PlotForm => ({
  script: "None",
  x: { type: 1, values: "" },
  y: { type: 0, values: "" },
  z: { type: 0, values: "" },
  drawLegend: true,
  noFixedSeeds: false,
  includeLoneImages: false,
  includeSubGrids: false,
});

/** The request fields of the plot (csv_mode on: the values are always the typed text). */
export function plotPayload(p: PlotForm): Record<string, unknown> {
  if (p.script !== XYZ_TITLE) return {};
  const axis = (a: AxisForm) => [a.type, a.values, []];
  return {
    script_name: "x/y/z plot",
    script_args: [
      ...axis(p.x),
      ...axis(p.y),
      ...axis(p.z),
      p.drawLegend,
      p.includeLoneImages,
      p.includeSubGrids,
      p.noFixedSeeds,
      0,
      true,
      false,
    ],
  };
}

const NUMBER_HINT = "e.g. 1-5, 0-20 (+5), 1-5 [3], 2,4,8";

function AxisRow(
  { mode, name, axes, form, set }: {
    mode: string;
    name: "x" | "y" | "z";
    axes: PlotAxisView[];
    form: AxisForm;
    set: (a: AxisForm) => void;
  },
) {
  const id = `${mode}_xyz_${name}`;
  const N = name.toUpperCase();
  const axis = axes.find((a) => a.index === form.type);
  const hint = axis?.example ?? (axis?.choices ? axis.choices.slice(0, 3).join(", ") : NUMBER_HINT);
  return (
    <div class="xyz-row">
      <label class="field">
        {N} type
        <select
          id={`${id}_type`}
          value={String(form.type)}
          onChange={(e) => set({ ...form, type: Number(e.currentTarget.value) })}
        >
          {axes.map((a) => <option key={a.index} value={String(a.index)}>{a.label}</option>)}
        </select>
      </label>
      <label class="field grow">
        {N} values
        <span class="row">
          <input
            id={`${id}_values`}
            value={form.values}
            disabled={axis?.label === "Nothing"}
            placeholder={axis?.label === "Nothing" ? "" : hint}
            onInput={(e) => set({ ...form, values: e.currentTarget.value })}
          />
          {axis?.choices && (
            <button
              type="button"
              class="tool"
              id={`${id}_fill`}
              title="Fill with every choice"
              aria-label={`Fill ${N} values`}
              onClick={() => set({ ...form, values: axis.choices!.map(csvValue).join(", ") })}
            >
              <Icon name="fill" />
            </button>
          )}
        </span>
      </label>
    </div>
  );
}

/** A value as a CSV item: quoted when it holds a comma or a quote. */
const csvValue = (v: string) => (/[",]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

export function ScriptSelect(
  { mode, axes, form, set }: {
    mode: string;
    axes: PlotAxisView[];
    form: PlotForm;
    set: (f: PlotForm) => void;
  },
) {
  const upd = (patch: Partial<PlotForm>) => set({ ...form, ...patch });
  const swap = (a: "x" | "y" | "z", b: "x" | "y" | "z") => upd({ [a]: form[b], [b]: form[a] });
  const check = (
    key: "drawLegend" | "noFixedSeeds" | "includeLoneImages" | "includeSubGrids",
    label: string,
  ) => (
    <label class="check">
      <input
        type="checkbox"
        id={`${mode}_xyz_${key}`}
        checked={form[key]}
        onChange={(e) => upd({ [key]: e.currentTarget.checked })}
      />
      {label}
    </label>
  );
  return (
    <div class="script" id={`${mode}_script_container`}>
      <label class="field">
        Script
        <select
          id={`${mode}_script`}
          value={form.script}
          onChange={(e) => upd({ script: e.currentTarget.value })}
        >
          <option value="None">None</option>
          <option value={XYZ_TITLE}>{XYZ_TITLE}</option>
        </select>
      </label>
      {form.script === XYZ_TITLE && (
        <div class="xyz" id={`${mode}_xyz`}>
          {(["x", "y", "z"] as const).map((n) => (
            <AxisRow
              key={n}
              mode={mode}
              name={n}
              axes={axes}
              form={form[n]}
              set={(a) => upd({ [n]: a })}
            />
          ))}
          <div class="row wrap">
            {check("drawLegend", "Draw legend")}
            {check("noFixedSeeds", "Keep -1 for seeds")}
            {check("includeLoneImages", "Include Sub Images")}
            {check("includeSubGrids", "Include Sub Grids")}
          </div>
          <div class="row wrap">
            <button type="button" id={`${mode}_xyz_swap_xy`} onClick={() => swap("x", "y")}>
              Swap X/Y axes
            </button>
            <button type="button" id={`${mode}_xyz_swap_yz`} onClick={() => swap("y", "z")}>
              Swap Y/Z axes
            </button>
            <button type="button" id={`${mode}_xyz_swap_xz`} onClick={() => swap("x", "z")}>
              Swap X/Z axes
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

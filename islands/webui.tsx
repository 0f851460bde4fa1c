// The generation tabs (txt2img, img2img), PNG Info and Settings as one island, so "send to img2img" and
// "send to txt2img" can move state between tabs. Everything goes through the /sdapi/v1 API the page shares
// with other clients (each job carries its own task id, followed on /internal/progress); extension controls
// come from the adapter's views.
import { useEffect, useRef, useState } from "preact/hooks";
import type { ControlValue, ExtensionView, Values } from "../lib/extensions/adapter.ts";
import type { Mode } from "../lib/extensions/job.ts";
import { api, CHECKPOINT_CHANGED, EMBEDDINGS_CHANGED, imageFrom, newTaskId, readFile } from "./api.ts";
import { Gallery, Lightbox, type Result } from "./gallery.tsx";
import * as hr from "./hires_inpaint.tsx";
import { RefinerAccordion, refinerDefaults, type RefinerForm, refinerPayload } from "./refiner.tsx";
import { Icon } from "./icons.tsx";
import { invalidFields, NumberInput, Slider } from "./number_input.tsx";
import { PromptBox } from "./prompt_box.tsx";
import { showTab } from "./tabs.ts";
import { ProgressBar, useTaskProgress } from "./task_progress.tsx";
import {
  SeedExtra,
  seedExtraDefaults,
  type SeedExtraForm,
  seedExtraOverrides,
  seedExtraPayload,
} from "./seed_extra.tsx";
import {
  type PlotAxisView,
  plotDefaults,
  type PlotForm,
  plotPayload,
  ScriptSelect,
  XYZ_TITLE,
} from "./xyz_plot.tsx";

export interface WebUIProps {
  samplers: string[];
  /** The prompt styles of the server's styles.csv, by name. */
  styles: string[];
  /** The current checkpoint's native image side (its UNet's sample size × the VAE factor). */
  size: number;
  extensions: ExtensionView[];
  /** The X/Y/Z plot's axes on each tab, with A1111's indices. */
  plotAxes: Record<Mode, PlotAxisView[]>;
  options: Record<string, unknown>;
  /** Where the Settings tab's values are kept. */
  settingsFile: string | null;
  /** The SDXL refiners of the models folder, by title. */
  refiners: string[];
}

interface Form {
  prompt: string;
  negative: string;
  /** Prompt styles applied by the server (A1111's styles dropdown). */
  styles: string[];
  sampler: string;
  steps: number;
  width: number;
  height: number;
  batchCount: number;
  batchSize: number;
  cfg: number;
  seed: number;
  denoising: number;
  initImage: string | null;
  plot: PlotForm;
  seedExtra: SeedExtraForm;
  hires: hr.HiresForm;
  inpaint: hr.InpaintForm;
  refiner: RefinerForm;
  /** Options for this request only, as A1111's "Override settings" (filled by pasting an infotext). */
  overrides: Record<string, string | number>;
}

function defaults(samplers: string[], size: number, refiners: string[]): Form {
  return {
    prompt: "",
    negative: "",
    styles: [],
    sampler: samplers.includes("Euler a") ? "Euler a" : samplers[0],
    steps: 20,
    width: size,
    height: size,
    batchCount: 1,
    batchSize: 1,
    cfg: 7,
    seed: -1,
    denoising: 0.75,
    initImage: null,
    plot: plotDefaults(),
    seedExtra: seedExtraDefaults(),
    hires: hr.hiresDefaults(),
    inpaint: hr.inpaintDefaults(),
    refiner: refinerDefaults(refiners),
    overrides: {},
  };
}

function extDefaults(exts: ExtensionView[]): Record<string, Values> {
  return Object.fromEntries(
    exts.map((e) => [e.id, Object.fromEntries(e.controls.map((c) => [c.id, c.value]))]),
  );
}

function Field(
  { label, children, id }: { label: string; children: preact.ComponentChildren; id?: string },
) {
  return <label class="field" id={id}>{label}{children}</label>;
}

function ExtensionAccordion(
  { ext, values, set, mode }: {
    ext: ExtensionView;
    values: Values;
    set: (id: string, v: ControlValue) => void;
    mode: Mode;
  },
) {
  const [choices, setChoices] = useState<Record<string, string[]>>(
    Object.fromEntries(ext.controls.filter((c) => c.choices).map((c) => [c.id, c.choices!])),
  );
  const refresh = async (id: string) => {
    const r = await api<{ choices: string[] }>(`/ui/extensions/${ext.id}/choices/${id}`);
    setChoices((all) => ({ ...all, [id]: r.choices }));
  };
  useEffect(() => {
    const all = () => ext.controls.filter((c) => c.refresh).forEach((c) => refresh(c.id));
    addEventListener(EMBEDDINGS_CHANGED, all);
    return () => removeEventListener(EMBEDDINGS_CHANGED, all);
  }, []);
  return (
    <details class="accordion" id={`${mode}_${ext.id}_accordion`}>
      <summary>{ext.title}</summary>
      {ext.controls.map((c) => {
        const id = `${mode}_${ext.id}_${c.id}`;
        const v = values[c.id];
        switch (c.kind) {
          case "slider":
            return (
              <Field label={c.label} key={c.id}>
                <Slider
                  id={id}
                  label={c.label}
                  value={Number(v)}
                  set={(x) => set(c.id, x)}
                  min={c.min!}
                  max={c.max!}
                  step={c.step!}
                />
              </Field>
            );
          case "number":
            return (
              <Field label={c.label} key={c.id}>
                <NumberInput
                  id={id}
                  label={c.label}
                  value={Number(v)}
                  set={(x) => set(c.id, x)}
                  min={c.min}
                  max={c.max}
                />
              </Field>
            );
          case "checkbox":
            return (
              <label class="check" key={c.id}>
                <input
                  id={id}
                  type="checkbox"
                  checked={Boolean(v)}
                  onChange={(e) => set(c.id, e.currentTarget.checked)}
                />
                {c.label}
              </label>
            );
          case "text":
            return (
              <Field label={c.label} key={c.id}>
                <input
                  id={id}
                  value={String(v)}
                  placeholder={c.placeholder}
                  onInput={(e) => set(c.id, e.currentTarget.value)}
                />
              </Field>
            );
          case "dropdown":
            return (
              <Field label={c.label} key={c.id}>
                <span class="row">
                  <select id={id} value={String(v)} onChange={(e) => set(c.id, e.currentTarget.value)}>
                    {(choices[c.id] ?? []).map((o) => <option key={o} value={o}>{o}</option>)}
                  </select>
                  {c.refresh && (
                    <button
                      type="button"
                      class="tool"
                      id={`${id}_refresh`}
                      title="Refresh"
                      aria-label="Refresh"
                      onClick={() => refresh(c.id)}
                    >
                      <Icon name="refresh" />
                    </button>
                  )}
                </span>
              </Field>
            );
        }
      })}
    </details>
  );
}

/** Where an img2img source comes from: a file, a drop, or a paste while the tab is shown. */
function ImageInput(
  { id, image, set, active }: { id: string; image: string | null; set: (d: string) => void; active: boolean },
) {
  const [over, setOver] = useState(false);
  useEffect(() => {
    if (!active) return;
    const paste = async (e: ClipboardEvent) => {
      const f = imageFrom(e.clipboardData);
      if (f) set(await readFile(f));
    };
    addEventListener("paste", paste);
    return () => removeEventListener("paste", paste);
  }, [active, set]);
  return (
    <div
      class={over ? "drop over" : "drop"}
      id={`${id}_drop`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={async (e) => {
        e.preventDefault();
        setOver(false);
        const f = imageFrom(e.dataTransfer);
        if (f) set(await readFile(f));
      }}
    >
      {image
        ? <img class="init" src={image} alt="source image" />
        : <span>Drop an image here, paste one, or</span>}
      <input
        type="file"
        accept="image/*"
        id={id}
        onChange={async (e) => {
          const f = e.currentTarget.files?.[0];
          if (f) set(await readFile(f));
        }}
      />
    </div>
  );
}

function GenerateTab(
  { mode, props, form, update, ext, setExt, onSend, active }: {
    mode: Mode;
    props: WebUIProps;
    form: Form;
    update: (patch: Partial<Form>) => void;
    ext: Record<string, Values>;
    setExt: (v: Record<string, Values>) => void;
    onSend: (to: Mode, image: string, infotext: string) => void;
    active: boolean;
  },
) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState(0);
  const [zoom, setZoom] = useState(false);
  const task = useTaskProgress();
  const section = useRef<HTMLElement>(null);
  // The latest form, for a generate started in the same tick as a field's commit (Ctrl+Enter in a field).
  const latest = useRef({ form, ext });
  latest.current = { form, ext };

  const generate = async () => {
    const invalid = invalidFields(section.current!);
    if (invalid.length) {
      setError(invalid.join("; "));
      return;
    }
    const { form, ext } = latest.current;
    const id = newTaskId();
    setBusy(true);
    setError(null);
    task.follow(id);
    try {
      // The page saves as the Settings tab says ("always save"); an API client saves only when it asks.
      const { samples_save } = await api<{ samples_save: boolean }>("/sdapi/v1/options");
      const payload: Record<string, unknown> = {
        save_images: samples_save,
        prompt: form.prompt,
        negative_prompt: form.negative,
        styles: form.styles,
        sampler_name: form.sampler,
        steps: form.steps,
        width: form.width,
        height: form.height,
        n_iter: form.batchCount,
        batch_size: form.batchSize,
        cfg_scale: form.cfg,
        seed: form.seed,
        force_task_id: id,
        // A batch comes back with its grid first, as A1111's page shows it.
        override_settings: { ...form.overrides, return_grid: true, ...seedExtraOverrides(form.seedExtra) },
        ...seedExtraPayload(form.seedExtra),
        alwayson_scripts: Object.fromEntries(props.extensions.map((e) => {
          return [e.title, { args: e.args.map((a) => ext[e.id][a]) }];
        })),
      };
      Object.assign(payload, plotPayload(form.plot));
      if (mode === "img2img") {
        if (!form.initImage) throw new Error("Image: drop, paste or choose an image to start from");
        payload.init_images = [form.initImage];
        payload.denoising_strength = form.denoising;
        Object.assign(payload, hr.inpaintPayload(form.inpaint));
      } else Object.assign(payload, hr.hiresPayload(form.hires));
      Object.assign(payload, refinerPayload(form.refiner));
      const r = await api<{ images: string[]; info: string }>(`/sdapi/v1/${mode}`, payload);
      const info = JSON.parse(r.info);
      setResult({
        images: r.images,
        infotexts: info.infotexts,
        seeds: info.all_seeds,
        charts: info.charts ?? [],
        labels: info.labels ?? [],
        firstImage: info.index_of_first_image ?? 0,
      });
      setSelected(0);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      task.stop();
      setBusy(false);
    }
  };

  const stopTask = (action: "interrupt" | "skip") => {
    const id = task.taskId();
    if (id) api(`/internal/${action}`, { id_task: id });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    e.preventDefault();
    if (busy) return;
    // Leaving a number field commits it; generate once the commit has rendered.
    (document.activeElement as HTMLElement | null)?.blur();
    setTimeout(generate, 0);
  };

  return (
    <section data-panel={mode} hidden={!active} class="tab" ref={section} onKeyDown={onKeyDown}>
      <div class="top">
        <div class="prompts">
          <PromptBox
            id={`${mode}_prompt`}
            placeholder="Prompt (Ctrl+Enter to generate, Ctrl+↑/↓ for emphasis)"
            rows={3}
            value={form.prompt}
            set={(prompt) => update({ prompt })}
          />
          <PromptBox
            id={`${mode}_neg_prompt`}
            placeholder="Negative prompt"
            rows={2}
            value={form.negative}
            set={(negative) => update({ negative })}
          />
          {props.styles.length > 0 && (
            <Field label="Styles">
              <select
                id={`${mode}_styles`}
                multiple
                size={Math.min(props.styles.length, 4)}
                onChange={(e) =>
                  update({ styles: Array.from(e.currentTarget.selectedOptions, (o) => o.value) })}
              >
                {props.styles.map((s) => (
                  <option key={s} value={s} selected={form.styles.includes(s)}>{s}</option>
                ))}
              </select>
            </Field>
          )}
        </div>
        <div class="actions">
          {busy
            ? (
              <span class="row">
                <button type="button" id={`${mode}_interrupt`} onClick={() => stopTask("interrupt")}>
                  Interrupt
                </button>
                <button type="button" id={`${mode}_skip`} onClick={() => stopTask("skip")}>
                  Skip
                </button>
              </span>
            )
            : (
              <button type="button" class="primary" id={`${mode}_generate`} onClick={generate}>
                Generate
              </button>
            )}
        </div>
      </div>
      <div class="columns">
        <div class="settings">
          {mode === "img2img" && (
            <Field label="Image">
              <ImageInput
                id="img2img_image"
                image={form.initImage}
                set={(initImage) => update({ initImage })}
                active={active}
              />
            </Field>
          )}
          <Field label="Sampling method">
            <select
              id={`${mode}_sampling`}
              value={form.sampler}
              onChange={(e) => update({ sampler: e.currentTarget.value })}
            >
              {props.samplers.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </Field>
          <Field label="Sampling steps">
            <Slider
              id={`${mode}_steps`}
              label="Sampling steps"
              value={form.steps}
              set={(steps) => update({ steps })}
              min={1}
              max={150}
              step={1}
            />
          </Field>
          <Field label="Width">
            <Slider
              id={`${mode}_width`}
              label="Width"
              value={form.width}
              set={(width) => update({ width })}
              min={8}
              max={2048}
              step={8}
            />
          </Field>
          <Field label="Height">
            <Slider
              id={`${mode}_height`}
              label="Height"
              value={form.height}
              set={(height) => update({ height })}
              min={8}
              max={2048}
              step={8}
            />
          </Field>
          <span class="row">
            <Field label="Batch count">
              <NumberInput
                id={`${mode}_batch_count`}
                label="Batch count"
                value={form.batchCount}
                set={(batchCount) => update({ batchCount })}
                min={1}
                max={100}
                step={1}
              />
            </Field>
            <Field label="Batch size">
              <NumberInput
                id={`${mode}_batch_size`}
                label="Batch size"
                value={form.batchSize}
                set={(batchSize) => update({ batchSize })}
                min={1}
                max={8}
                step={1}
              />
            </Field>
          </span>
          <Field label="CFG Scale">
            <Slider
              id={`${mode}_cfg_scale`}
              label="CFG Scale"
              value={form.cfg}
              set={(cfg) => update({ cfg })}
              min={1}
              max={30}
              step={0.5}
            />
          </Field>
          {mode === "img2img" && (
            <Field label="Denoising strength">
              <Slider
                id="img2img_denoising_strength"
                label="Denoising strength"
                value={form.denoising}
                set={(denoising) => update({ denoising })}
                min={0}
                max={1}
                step={0.01}
              />
            </Field>
          )}
          <Field label="Seed">
            <span class="row">
              <NumberInput
                id={`${mode}_seed`}
                label="Seed"
                value={form.seed}
                set={(seed) => update({ seed })}
                min={-1}
                max={2 ** 32 - 1}
                step={1}
                empty={-1}
              />
              <button
                type="button"
                class="tool"
                id={`${mode}_random_seed`}
                title="Random seed (-1)"
                aria-label="Random seed"
                onClick={() => update({ seed: -1 })}
              >
                <Icon name="dice" />
              </button>
              <button
                type="button"
                class="tool"
                id={`${mode}_reuse_seed`}
                title="Reuse the seed of the selected image"
                aria-label="Reuse seed"
                onClick={() => result && update({ seed: result.seeds[selected] })}
              >
                <Icon name="recycle" />
              </button>
            </span>
          </Field>
          <SeedExtra mode={mode} form={form.seedExtra} set={(seedExtra) => update({ seedExtra })} />
          <OverrideSettings
            overrides={form.overrides}
            mode={mode}
            set={(overrides) => update({ overrides })}
          />
          {mode === "txt2img" && <hr.HiresAccordion form={form.hires} set={(h) => update({ hires: h })} />}
          <RefinerAccordion
            mode={mode}
            form={form.refiner}
            set={(f) => update({ refiner: f })}
            refiners={props.refiners}
          />
          {mode === "img2img" && (
            <hr.InpaintAccordion
              form={form.inpaint}
              set={(i) => update({ inpaint: i })}
              readFile={readFile}
            />
          )}
          {props.extensions.map((e) => (
            <ExtensionAccordion
              key={e.id}
              ext={e}
              mode={mode}
              values={ext[e.id]}
              set={(id, v) => setExt({ ...ext, [e.id]: { ...ext[e.id], [id]: v } })}
            />
          ))}
          <ScriptSelect
            mode={mode}
            axes={props.plotAxes[mode]}
            form={form.plot}
            set={(plot) => update({ plot })}
          />
        </div>
        <div class="output">
          <ProgressBar p={task.progress} id={`${mode}_progress`} />
          {busy && task.preview && (
            <img class="preview" id={`${mode}_preview`} src={task.preview} alt="live preview" />
          )}
          {error && <p class="error" id={`${mode}_error`} role="alert">{error}</p>}
          {result && (
            <Gallery
              mode={mode}
              result={result}
              selected={selected}
              select={setSelected}
              onZoom={() => setZoom(true)}
              onSend={(to) =>
                onSend(to, `data:image/png;base64,${result.images[selected]}`, result.infotexts[selected])}
            />
          )}
          {result && zoom && (
            <Lightbox
              src={`data:image/png;base64,${result.images[selected]}`}
              onClose={() => setZoom(false)}
              onStep={(d) => setSelected((s) => (s + d + result.images.length) % result.images.length)}
            />
          )}
        </div>
      </div>
    </section>
  );
}

/** The form fields an infotext restores (routes/paste.ts): the nested forms in part. */
export interface PastedFields {
  steps?: number;
  cfg?: number;
  seed?: number;
  denoising?: number;
  width?: number;
  height?: number;
  sampler?: string;
  hires: Partial<hr.HiresForm>;
  inpaint: Partial<hr.InpaintForm>;
  seedExtra: Partial<SeedExtraForm>;
  /** Options the infotext sets that differ from the server's (A1111's "Override settings"). */
  overrides?: Record<string, string | number>;
  refiner?: { enabled: boolean; checkpoint: string; switchAt: number };
  /** A grid's X/Y/Z plot, its axes by label (their indices differ between the tabs). */
  plot?: Partial<Record<"x" | "y" | "z", { label: string; values: string }>>;
}

/** A pasted plot on a tab: each axis's type found by its label (Nothing when the tab has no such axis). */
function pastedPlot(axes: PlotAxisView[], plot: NonNullable<PastedFields["plot"]>): PlotForm {
  const axis = (n: "x" | "y" | "z") => {
    const a = plot[n];
    const found = a && axes.find((x) => x.label === a.label);
    return found ? { type: found.index, values: a!.values } : { type: 0, values: "" };
  };
  return { ...plotDefaults(), script: XYZ_TITLE, x: axis("x"), y: axis("y"), z: axis("z") };
}

/** The infotext's names of the options a paste can override, as A1111's "Override settings" shows them. */
const OVERRIDE_LABELS: Record<string, string> = {
  CLIP_stop_at_last_layers: "Clip skip",
  eta_noise_seed_delta: "ENSD",
  randn_source: "RNG",
};

/** The request's overrides, each removable (A1111's "Override settings" dropdown); nothing when there are none. */
function OverrideSettings(
  { overrides, mode, set }: {
    overrides: Record<string, string | number>;
    mode: Mode;
    set: (o: Record<string, string | number>) => void;
  },
) {
  const entries = Object.entries(overrides);
  if (entries.length === 0) return null;
  return (
    // A div, not Field's label: a label would pass any click inside it on to its first button.
    <div class="field" id={`${mode}_override_settings`}>
      Override settings
      <span class="row">
        {entries.map(([k, v]) => (
          <button
            type="button"
            key={k}
            data-option={k}
            title="Remove this override"
            onClick={() => set(Object.fromEntries(entries.filter(([key]) => key !== k)))}
          >
            {OVERRIDE_LABELS[k] ?? k}: {String(v)} ×
          </button>
        ))}
      </span>
    </div>
  );
}

interface Pasted {
  prompt: string;
  negative_prompt: string;
  fields: PastedFields;
  extensions: Record<string, Values>;
}

function PngInfoTab(
  { active, onSend }: { active: boolean; onSend: (to: Mode, image: string | null, infotext: string) => void },
) {
  const [info, setInfo] = useState<string | null>(null);
  const [image, setImage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async (data: string) => {
    setError(null);
    setImage(data);
    try {
      const r = await api<{ info: string }>("/sdapi/v1/png-info", { image: data });
      setInfo(r.info);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section data-panel="pnginfo" hidden={!active} class="tab">
      <div class="columns">
        <div class="settings">
          <ImageInput id="pnginfo_image" image={image} set={load} active={active} />
          <Field label="…or paste an infotext">
            <textarea
              id="pnginfo_text"
              rows={5}
              value={info ?? ""}
              onInput={(e) => setInfo(e.currentTarget.value)}
            />
          </Field>
        </div>
        <div class="output">
          {error && <p class="error">{error}</p>}
          {info !== null && (
            <pre class="infotext" id="pnginfo_html">{info || "No parameters in this image"}</pre>
          )}
          <span class="row">
            <button
              type="button"
              id="pnginfo_send_txt2img"
              disabled={!info}
              onClick={() => onSend("txt2img", image, info!)}
            >
              Send to txt2img
            </button>
            <button
              type="button"
              id="pnginfo_send_img2img"
              disabled={!info}
              onClick={() => onSend("img2img", image, info!)}
            >
              Send to img2img
            </button>
          </span>
        </div>
      </div>
    </section>
  );
}

function SettingsTab({ active, props }: { active: boolean; props: WebUIProps }) {
  const [opts, setOpts] = useState(props.options);
  const [msg, setMsg] = useState<string | null>(null);
  const save = async () => {
    try {
      // The checkpoint has its own selector at the top of the page; only this tab's settings are sent.
      await api("/sdapi/v1/options", {
        CLIP_stop_at_last_layers: opts.CLIP_stop_at_last_layers,
        randn_source: opts.randn_source,
        eta_noise_seed_delta: opts.eta_noise_seed_delta,
        samples_save: opts.samples_save,
      });
      setMsg(props.settingsFile ? `Settings saved to ${props.settingsFile}.` : "Settings applied.");
    } catch (e) {
      setMsg((e as Error).message);
    }
  };
  return (
    <section data-panel="settings" hidden={!active} class="tab">
      <div class="settings narrow">
        <Field label="Clip skip">
          <Slider
            id="setting_CLIP_stop_at_last_layers"
            label="Clip skip"
            value={Number(opts.CLIP_stop_at_last_layers)}
            set={(v) => setOpts({ ...opts, CLIP_stop_at_last_layers: v })}
            min={1}
            max={2}
            step={1}
          />
        </Field>
        <Field label="Random number generator source">
          <select
            id="setting_randn_source"
            value={String(opts.randn_source)}
            onChange={(e) => setOpts({ ...opts, randn_source: e.currentTarget.value })}
          >
            {["GPU", "CPU", "NV"].map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </Field>
        <Field label="Eta noise seed delta (ENSD)">
          <input
            type="number"
            id="setting_eta_noise_seed_delta"
            step={1}
            value={Number(opts.eta_noise_seed_delta)}
            onChange={(e) => setOpts({ ...opts, eta_noise_seed_delta: Number(e.currentTarget.value) })}
          />
        </Field>
        <label class="check">
          <input
            type="checkbox"
            id="setting_samples_save"
            checked={Boolean(opts.samples_save)}
            onChange={(e) => setOpts({ ...opts, samples_save: e.currentTarget.checked })}
          />
          Always save all generated images (to {String(opts.outdir_samples)})
        </label>
        <button type="button" class="primary" id="settings_submit" onClick={save}>Apply settings</button>
        {msg && <p id="settings_result">{msg}</p>}
      </div>
    </section>
  );
}

export default function WebUI(props: WebUIProps) {
  const [tab, setTab] = useState<string>("txt2img");
  const [forms, setForms] = useState<Record<Mode, Form>>({
    txt2img: defaults(props.samplers, props.size, props.refiners),
    img2img: defaults(props.samplers, props.size, props.refiners),
  });
  // A newly chosen checkpoint draws at its own native size first (SD 1.5 512, SDXL 1024, the demo 64).
  useEffect(() => {
    const on = (e: Event) => {
      const size = (e as CustomEvent<{ size: number }>).detail.size;
      setForms((all) => ({
        txt2img: { ...all.txt2img, width: size, height: size },
        img2img: { ...all.img2img, width: size, height: size },
      }));
    };
    addEventListener(CHECKPOINT_CHANGED, on);
    return () => removeEventListener(CHECKPOINT_CHANGED, on);
  }, []);
  const [ext, setExt] = useState<Record<Mode, Record<string, Values>>>({
    txt2img: extDefaults(props.extensions),
    img2img: extDefaults(props.extensions),
  });
  useEffect(() => {
    const on = (e: Event) => setTab((e as CustomEvent<string>).detail);
    addEventListener("webui-tab", on);
    return () => removeEventListener("webui-tab", on);
  }, []);
  // Functional updates, so two commits in one tick (a field's blur, then Generate) both land.
  const update = (mode: Mode) => (patch: Partial<Form>) =>
    setForms((all) => ({ ...all, [mode]: { ...all[mode], ...patch } }));
  const setExtFor = (mode: Mode) => (v: Record<string, Values>) => setExt((all) => ({ ...all, [mode]: v }));
  /** Everything the image's infotext says goes to the tab, and the image itself to img2img. */
  const send = async (to: Mode, image: string | null, infotext: string) => {
    const p = await api<Pasted>("/ui/paste", { infotext });
    const { hires, inpaint, seedExtra, plot, ...plain } = p.fields;
    setForms((all) => ({
      ...all,
      [to]: {
        ...all[to],
        prompt: p.prompt,
        negative: p.negative_prompt,
        ...plain,
        hires: { ...all[to].hires, ...hires },
        inpaint: { ...all[to].inpaint, ...inpaint },
        seedExtra: { ...all[to].seedExtra, ...seedExtra },
        plot: plot ? pastedPlot(props.plotAxes[to], plot) : all[to].plot,
        ...(to === "img2img" && image ? { initImage: image } : {}),
      },
    }));
    setExt((all) => ({
      ...all,
      [to]: Object.fromEntries(
        Object.entries(all[to]).map(([id, v]) => [id, { ...v, ...p.extensions[id] }]),
      ),
    }));
    showTab(to);
  };
  return (
    <div>
      {(["txt2img", "img2img"] as const).map((m) => (
        <GenerateTab
          key={m}
          mode={m}
          props={props}
          form={forms[m]}
          update={update(m)}
          ext={ext[m]}
          setExt={setExtFor(m)}
          onSend={send}
          active={tab === m}
        />
      ))}
      <PngInfoTab active={tab === "pnginfo"} onSend={send} />
      <SettingsTab active={tab === "settings"} props={props} />
    </div>
  );
}

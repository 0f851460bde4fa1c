// The generation tabs (txt2img, img2img), PNG Info and Settings as one island, so "send to img2img" and
// "send to txt2img" can move state between tabs. Everything goes through the /sdapi/v1 API the page shares
// with other clients; extension controls come from the adapter's views.
import { useEffect, useRef, useState } from "preact/hooks";
import type { ControlValue, ExtensionView, Values } from "../lib/extensions/adapter.ts";
import type { Chart, Mode } from "../lib/extensions/job.ts";
import type { ProgressSnapshot } from "../lib/server/progress.ts";
import { ChartView } from "./chart.tsx";
import * as hr from "./hires_inpaint.tsx";
import { showTab } from "./tabs.ts";

export interface WebUIProps {
  samplers: string[];
  models: string[];
  model: string;
  extensions: ExtensionView[];
  options: Record<string, unknown>;
}

interface Form {
  prompt: string;
  negative: string;
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
  gridAxis: string;
  gridValues: string;
  hires: hr.HiresForm;
  inpaint: hr.InpaintForm;
}

interface Result {
  images: string[];
  infotexts: string[];
  seed: number;
  charts: Chart[];
  labels: string[];
}

function defaults(samplers: string[]): Form {
  return {
    prompt: "",
    negative: "",
    sampler: samplers.includes("Euler a") ? "Euler a" : samplers[0],
    steps: 20,
    width: 512,
    height: 512,
    batchCount: 1,
    batchSize: 1,
    cfg: 7,
    seed: -1,
    denoising: 0.75,
    initImage: null,
    gridAxis: "",
    gridValues: "",
    hires: hr.hiresDefaults(),
    inpaint: hr.inpaintDefaults(),
  };
}

function extDefaults(exts: ExtensionView[]): Record<string, Values> {
  return Object.fromEntries(
    exts.map((e) => [e.id, Object.fromEntries(e.controls.map((c) => [c.id, c.value]))]),
  );
}

async function api<T>(path: string, body?: unknown): Promise<T> {
  const r = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({ detail: `${r.status} ${r.statusText}` }));
  if (!r.ok) throw new Error(errorText(data));
  return data as T;
}

function errorText(data: { detail?: unknown; error?: string; errors?: unknown }): string {
  if (typeof data.detail === "string") return data.detail;
  if (Array.isArray(data.detail)) {
    return data.detail.map((d: { loc?: unknown[]; msg?: string }) => `${(d.loc ?? []).join(".")}: ${d.msg}`)
      .join("; ");
  }
  return data.error ?? JSON.stringify(data);
}

function Field(
  { label, children, id }: { label: string; children: preact.ComponentChildren; id?: string },
) {
  return <label class="field" id={id}>{label}{children}</label>;
}

function NumberInput(
  { value, set, min, max, step, id }: {
    value: number;
    set: (v: number) => void;
    min?: number;
    max?: number;
    step?: number;
    id?: string;
  },
) {
  return (
    <input
      type="number"
      id={id}
      value={value}
      min={min}
      max={max}
      step={step ?? "any"}
      onInput={(e) => set(Number(e.currentTarget.value))}
    />
  );
}

function Slider(
  { value, set, min, max, step, id }: {
    value: number;
    set: (v: number) => void;
    min: number;
    max: number;
    step: number;
    id?: string;
  },
) {
  return (
    <span class="slider">
      <input
        type="range"
        value={value}
        min={min}
        max={max}
        step={step}
        onInput={(e) => set(Number(e.currentTarget.value))}
      />
      <NumberInput id={id} value={value} set={set} min={min} max={max} step={step} />
    </span>
  );
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
    setChoices({ ...choices, [id]: r.choices });
  };
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
                <NumberInput id={id} value={Number(v)} set={(x) => set(c.id, x)} min={c.min} max={c.max} />
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
                      onClick={() => refresh(c.id)}
                    >
                      🔄
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

function Progress({ snap }: { snap: ProgressSnapshot | null }) {
  if (!snap) return null;
  return (
    <div class="progress" id="progress">
      <div class="bar" style={{ width: `${(snap.progress * 100).toFixed(1)}%` }} />
      <span>
        {(snap.progress * 100).toFixed(0)}% · ETA {snap.eta_relative.toFixed(1)} s
        {snap.state.sampling_steps ? ` · step ${snap.state.sampling_step}/${snap.state.sampling_steps}` : ""}
        {snap.textinfo ? ` · ${snap.textinfo}` : ""}
      </span>
    </div>
  );
}

function readFile(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

function GenerateTab(
  { mode, props, form, setForm, ext, setExt, onSendToImg2img, active }: {
    mode: Mode;
    props: WebUIProps;
    form: Form;
    setForm: (f: Form) => void;
    ext: Record<string, Values>;
    setExt: (v: Record<string, Values>) => void;
    onSendToImg2img: (image: string, infotext: string) => void;
    active: boolean;
  },
) {
  const [model, setModel] = useState(props.model);
  const [busy, setBusy] = useState(false);
  const [snap, setSnap] = useState<ProgressSnapshot | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState(0);
  const polling = useRef<ReturnType<typeof setInterval> | undefined>(undefined);
  const upd = (patch: Partial<Form>) => setForm({ ...form, ...patch });
  const axes = props.extensions.flatMap((e) => e.axes);

  const generate = async () => {
    setBusy(true);
    setError(null);
    setSnap(null);
    polling.current = setInterval(async () => {
      try {
        setSnap(await api<ProgressSnapshot>("/sdapi/v1/progress"));
      } catch { /* the next poll will tell */ }
    }, 400);
    try {
      const payload: Record<string, unknown> = {
        prompt: form.prompt,
        negative_prompt: form.negative,
        sampler_name: form.sampler,
        steps: form.steps,
        width: form.width,
        height: form.height,
        n_iter: form.batchCount,
        batch_size: form.batchSize,
        cfg_scale: form.cfg,
        seed: form.seed,
        override_settings: { sd_model_checkpoint: model },
        alwayson_scripts: Object.fromEntries(props.extensions.map((e) => {
          return [e.title, { args: e.args.map((id) => ext[e.id][id]) }];
        })),
      };
      if (form.gridAxis) payload.xy_grid = { axis: form.gridAxis, values: form.gridValues };
      if (mode === "img2img") {
        if (!form.initImage) throw new Error("drop or choose an image to start from");
        payload.init_images = [form.initImage];
        payload.denoising_strength = form.denoising;
        Object.assign(payload, hr.inpaintPayload(form.inpaint));
      } else Object.assign(payload, hr.hiresPayload(form.hires));
      const r = await api<{ images: string[]; info: string }>(`/sdapi/v1/${mode}`, payload);
      const info = JSON.parse(r.info);
      setResult({
        images: r.images,
        infotexts: info.infotexts,
        seed: info.seed,
        charts: info.charts ?? [],
        labels: info.labels ?? [],
      });
      setSelected(0);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      clearInterval(polling.current);
      setBusy(false);
      setSnap(null);
    }
  };

  return (
    <section data-panel={mode} hidden={!active} class="tab">
      <div class="top">
        <div class="prompts">
          <textarea
            id={`${mode}_prompt`}
            placeholder="Prompt"
            rows={3}
            value={form.prompt}
            onInput={(e) => upd({ prompt: e.currentTarget.value })}
          />
          <textarea
            id={`${mode}_neg_prompt`}
            placeholder="Negative prompt"
            rows={2}
            value={form.negative}
            onInput={(e) => upd({ negative: e.currentTarget.value })}
          />
        </div>
        <div class="actions">
          {busy
            ? (
              <span class="row">
                <button type="button" id={`${mode}_interrupt`} onClick={() => api("/sdapi/v1/interrupt", {})}>
                  Interrupt
                </button>
                <button type="button" id={`${mode}_skip`} onClick={() => api("/sdapi/v1/skip", {})}>
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
          <Field label="Stable Diffusion checkpoint">
            <select id={`${mode}_model`} value={model} onChange={(e) => setModel(e.currentTarget.value)}>
              {props.models.map((m) => <option key={m} value={m}>{m}</option>)}
            </select>
          </Field>
          {mode === "img2img" && (
            <Field label="Image">
              <input
                type="file"
                accept="image/*"
                id="img2img_image"
                onChange={async (e) => {
                  const f = e.currentTarget.files?.[0];
                  if (f) upd({ initImage: await readFile(f) });
                }}
              />
              {form.initImage && <img class="init" src={form.initImage} alt="init image" />}
            </Field>
          )}
          <Field label="Sampling method">
            <select
              id={`${mode}_sampling`}
              value={form.sampler}
              onChange={(e) => upd({ sampler: e.currentTarget.value })}
            >
              {props.samplers.map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </Field>
          <Field label="Sampling steps">
            <Slider
              id={`${mode}_steps`}
              value={form.steps}
              set={(v) => upd({ steps: v })}
              min={1}
              max={150}
              step={1}
            />
          </Field>
          <Field label="Width">
            <Slider
              id={`${mode}_width`}
              value={form.width}
              set={(v) => upd({ width: v })}
              min={8}
              max={2048}
              step={8}
            />
          </Field>
          <Field label="Height">
            <Slider
              id={`${mode}_height`}
              value={form.height}
              set={(v) => upd({ height: v })}
              min={8}
              max={2048}
              step={8}
            />
          </Field>
          <span class="row">
            <Field label="Batch count">
              <NumberInput
                id={`${mode}_batch_count`}
                value={form.batchCount}
                set={(v) => upd({ batchCount: v })}
                min={1}
                max={100}
                step={1}
              />
            </Field>
            <Field label="Batch size">
              <NumberInput
                id={`${mode}_batch_size`}
                value={form.batchSize}
                set={(v) => upd({ batchSize: v })}
                min={1}
                max={8}
                step={1}
              />
            </Field>
          </span>
          <Field label="CFG Scale">
            <Slider
              id={`${mode}_cfg_scale`}
              value={form.cfg}
              set={(v) => upd({ cfg: v })}
              min={1}
              max={30}
              step={0.5}
            />
          </Field>
          {mode === "img2img" && (
            <Field label="Denoising strength">
              <Slider
                id="img2img_denoising_strength"
                value={form.denoising}
                set={(v) => upd({ denoising: v })}
                min={0}
                max={1}
                step={0.01}
              />
            </Field>
          )}
          <Field label="Seed">
            <span class="row">
              <NumberInput id={`${mode}_seed`} value={form.seed} set={(v) => upd({ seed: v })} step={1} />
              <button
                type="button"
                class="tool"
                id={`${mode}_random_seed`}
                title="Random seed (-1)"
                onClick={() => upd({ seed: -1 })}
              >
                🎲
              </button>
              <button
                type="button"
                class="tool"
                id={`${mode}_reuse_seed`}
                title="Reuse the seed of the last generation"
                onClick={() => result && upd({ seed: result.seed })}
              >
                ♻️
              </button>
            </span>
          </Field>
          {mode === "txt2img" && <hr.HiresAccordion form={form.hires} set={(h) => upd({ hires: h })} />}
          {mode === "img2img" && (
            <hr.InpaintAccordion
              form={form.inpaint}
              set={(i) => upd({ inpaint: i })}
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
          {axes.length > 0 && (
            <details class="accordion" id={`${mode}_xy_accordion`}>
              <summary>X/Y plot</summary>
              <Field label="X type">
                <select
                  id={`${mode}_xy_axis`}
                  value={form.gridAxis}
                  onChange={(e) => upd({ gridAxis: e.currentTarget.value })}
                >
                  <option value="">Nothing</option>
                  {axes.map((a) => <option key={a.label} value={a.label}>{a.label}</option>)}
                </select>
              </Field>
              <Field label="X values">
                <input
                  id={`${mode}_xy_values`}
                  value={form.gridValues}
                  placeholder={axes.find((a) => a.label === form.gridAxis)?.example ?? ""}
                  onInput={(e) => upd({ gridValues: e.currentTarget.value })}
                />
              </Field>
            </details>
          )}
        </div>
        <div class="output">
          <Progress snap={snap} />
          {snap?.current_image && (
            <img
              class="preview"
              id={`${mode}_preview`}
              src={`data:image/png;base64,${snap.current_image}`}
              alt="live preview"
            />
          )}
          {error && <p class="error" id={`${mode}_error`}>{error}</p>}
          {result && (
            <div class="gallery" id={`${mode}_gallery`}>
              <img
                class="main"
                src={`data:image/png;base64,${result.images[selected]}`}
                alt="generated image"
              />
              <div class="thumbs">
                {result.images.map((im, i) => (
                  <button
                    type="button"
                    key={i}
                    class={i === selected ? "thumb sel" : "thumb"}
                    onClick={() => setSelected(i)}
                  >
                    <img src={`data:image/png;base64,${im}`} alt={result.labels[i] ?? `image ${i + 1}`} />
                    {result.labels[i] && <small>{result.labels[i]}</small>}
                  </button>
                ))}
              </div>
              <div class="row">
                <a
                  class="button"
                  id={`${mode}_download`}
                  download={`${String(result.seed)}-${selected}.png`}
                  href={`data:image/png;base64,${result.images[selected]}`}
                >
                  💾 Download
                </a>
                <button
                  type="button"
                  id={`${mode}_send_to_img2img`}
                  onClick={() =>
                    onSendToImg2img(
                      `data:image/png;base64,${result.images[selected]}`,
                      result.infotexts[selected] ?? "",
                    )}
                >
                  🖼️ Send to img2img
                </button>
              </div>
              <pre
                class="infotext"
                id={`${mode}_infotext`}
              >{result.infotexts[selected] ?? result.infotexts[0]}</pre>
              <div class="charts" id={`${mode}_charts`}>
                {result.charts.map((c, i) => <ChartView key={i} chart={c} />)}
              </div>
            </div>
          )}
        </div>
      </div>
    </section>
  );
}

interface Pasted {
  prompt: string;
  negative_prompt: string;
  fields: Partial<Form>;
  extensions: Record<string, Values>;
}

function PngInfoTab(
  { active, onSend }: { active: boolean; onSend: (p: Pasted, mode: Mode) => void },
) {
  const [info, setInfo] = useState<string | null>(null);
  const [image, setImage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = async (file: File) => {
    setError(null);
    const data = await readFile(file);
    setImage(data);
    try {
      const r = await api<{ info: string }>("/sdapi/v1/png-info", { image: data });
      setInfo(r.info);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const send = async (mode: Mode) => {
    if (info) onSend(await api<Pasted>("/ui/paste", { infotext: info }), mode);
  };
  return (
    <section data-panel="pnginfo" hidden={!active} class="tab">
      <div class="columns">
        <div class="settings">
          <input
            type="file"
            accept="image/png"
            id="pnginfo_image"
            onChange={(e) => e.currentTarget.files?.[0] && load(e.currentTarget.files[0])}
          />
          {image && <img class="init" src={image} alt="PNG" />}
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
            <button type="button" id="pnginfo_send_txt2img" disabled={!info} onClick={() => send("txt2img")}>
              Send to txt2img
            </button>
            <button type="button" id="pnginfo_send_img2img" disabled={!info} onClick={() => send("img2img")}>
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
      await api("/sdapi/v1/options", opts);
      setMsg("Settings saved.");
    } catch (e) {
      setMsg((e as Error).message);
    }
  };
  return (
    <section data-panel="settings" hidden={!active} class="tab">
      <div class="settings narrow">
        <Field label="Stable Diffusion checkpoint">
          <select
            id="setting_sd_model_checkpoint"
            value={String(opts.sd_model_checkpoint)}
            onChange={(e) => setOpts({ ...opts, sd_model_checkpoint: e.currentTarget.value })}
          >
            {props.models.map((m) => <option key={m} value={m}>{m}</option>)}
          </select>
        </Field>
        <Field label="Clip skip">
          <Slider
            id="setting_CLIP_stop_at_last_layers"
            value={Number(opts.CLIP_stop_at_last_layers)}
            set={(v) => setOpts({ ...opts, CLIP_stop_at_last_layers: v })}
            min={1}
            max={2}
            step={1}
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
    txt2img: defaults(props.samplers),
    img2img: defaults(props.samplers),
  });
  const [ext, setExt] = useState<Record<Mode, Record<string, Values>>>({
    txt2img: extDefaults(props.extensions),
    img2img: extDefaults(props.extensions),
  });
  useEffect(() => {
    const on = (e: Event) => setTab((e as CustomEvent<string>).detail);
    addEventListener("webui-tab", on);
    return () => removeEventListener("webui-tab", on);
  }, []);
  const setForm = (mode: Mode) => (f: Form) => setForms((all) => ({ ...all, [mode]: f }));
  const setExtFor = (mode: Mode) => (v: Record<string, Values>) => setExt((all) => ({ ...all, [mode]: v }));
  const sendToImg2img = (image: string, _infotext: string) => {
    setForms((all) => ({
      ...all,
      img2img: {
        ...all.img2img,
        initImage: image,
        prompt: all.txt2img.prompt,
        negative: all.txt2img.negative,
      },
    }));
    showTab("img2img");
  };
  const paste = (p: Pasted, mode: Mode) => {
    setForms((all) => ({
      ...all,
      [mode]: { ...all[mode], prompt: p.prompt, negative: p.negative_prompt, ...p.fields },
    }));
    setExt((all) => ({ ...all, [mode]: { ...all[mode], ...p.extensions } }));
    showTab(mode);
  };
  return (
    <div>
      {(["txt2img", "img2img"] as const).map((m) => (
        <GenerateTab
          key={m}
          mode={m}
          props={props}
          form={forms[m]}
          setForm={setForm(m)}
          ext={ext[m]}
          setExt={setExtFor(m)}
          onSendToImg2img={sendToImg2img}
          active={tab === m}
        />
      ))}
      <PngInfoTab active={tab === "pnginfo"} onSend={paste} />
      <SettingsTab active={tab === "settings"} props={props} />
    </div>
  );
}

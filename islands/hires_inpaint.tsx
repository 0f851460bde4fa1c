// The WebUI's "Hires. fix" accordion (txt2img) and "Inpaint" accordion (img2img: a mask upload and A1111's
// inpainting settings), each with its form state and the API fields it sends.
import type { ComponentChildren } from "preact";

export const HIRES_UPSCALERS = [
  "Latent",
  "Latent (antialiased)",
  "Latent (bicubic)",
  "Latent (bicubic antialiased)",
  "Latent (nearest)",
  "Latent (nearest-exact)",
  "None",
  "Lanczos",
  "Nearest",
];

export interface HiresForm {
  enabled: boolean;
  upscaler: string;
  steps: number;
  denoising: number;
  scale: number;
  resizeX: number;
  resizeY: number;
}

export interface InpaintForm {
  /** A data URL; null: plain img2img. */
  mask: string | null;
  blur: number;
  invert: number;
  fill: number;
  fullRes: boolean;
  padding: number;
}

/** A1111's UI defaults. */
export const hiresDefaults = (): HiresForm => ({
  enabled: false,
  upscaler: "Latent",
  steps: 0,
  denoising: 0.7,
  scale: 2,
  resizeX: 0,
  resizeY: 0,
});

export const inpaintDefaults = (): InpaintForm => ({
  mask: null,
  blur: 4,
  invert: 0,
  fill: 1,
  fullRes: false,
  padding: 32,
});

export function hiresPayload(h: HiresForm): Record<string, unknown> {
  if (!h.enabled) return {};
  return {
    enable_hr: true,
    hr_upscaler: h.upscaler,
    hr_second_pass_steps: h.steps,
    denoising_strength: h.denoising,
    hr_scale: h.scale,
    hr_resize_x: h.resizeX,
    hr_resize_y: h.resizeY,
  };
}

export function inpaintPayload(i: InpaintForm): Record<string, unknown> {
  if (!i.mask) return {};
  return {
    mask: i.mask,
    mask_blur: i.blur,
    inpainting_mask_invert: i.invert,
    inpainting_fill: i.fill,
    inpaint_full_res: i.fullRes,
    inpaint_full_res_padding: i.padding,
  };
}

/** An accordion's "Enable" checkbox. */
export function EnableCheck(
  { id, checked, set }: { id: string; checked: boolean; set: (v: boolean) => void },
) {
  return (
    <label class="field">
      <span>
        <input type="checkbox" id={id} checked={checked} onChange={(e) => set(e.currentTarget.checked)} />
        {" "}
        Enable
      </span>
    </label>
  );
}

function Row({ label, children }: { label: string; children: ComponentChildren }) {
  return <label class="field">{label}{children}</label>;
}

type NumberKey<F> = { [K in keyof F]: F[K] extends number ? K : never }[keyof F];

/** Labelled number inputs, one per row: label, element id, form key, min, max, step. */
function NumberRows<F>(
  { form, upd, rows }: {
    form: F;
    upd: (patch: Partial<F>) => void;
    rows: [string, string, NumberKey<F>, number, number, number][];
  },
) {
  return (
    <>
      {rows.map(([label, id, key, min, max, step]) => (
        <Row key={id} label={label}>
          <input
            type="number"
            id={id}
            value={form[key] as number}
            min={min}
            max={max}
            step={step}
            onInput={(e) => upd({ [key]: Number(e.currentTarget.value) } as Partial<F>)}
          />
        </Row>
      ))}
    </>
  );
}

function Choice(
  { id, value, set, options }: { id: string; value: number; set: (v: number) => void; options: string[] },
) {
  return (
    <select id={id} value={String(value)} onChange={(e) => set(Number(e.currentTarget.value))}>
      {options.map((o, i) => <option key={o} value={String(i)}>{o}</option>)}
    </select>
  );
}

export function HiresAccordion({ form, set }: { form: HiresForm; set: (f: HiresForm) => void }) {
  const upd = (patch: Partial<HiresForm>) => set({ ...form, ...patch });
  return (
    <details class="accordion" id="txt2img_hr_accordion">
      <summary>Hires. fix</summary>
      <EnableCheck id="txt2img_enable_hr" checked={form.enabled} set={(enabled) => upd({ enabled })} />
      <Row label="Upscaler">
        <select
          id="txt2img_hr_upscaler"
          value={form.upscaler}
          onChange={(e) => upd({ upscaler: e.currentTarget.value })}
        >
          {HIRES_UPSCALERS.map((u) => <option key={u} value={u}>{u}</option>)}
        </select>
      </Row>
      <NumberRows
        form={form}
        upd={upd}
        rows={[
          ["Hires steps (0: the sampling steps)", "txt2img_hires_steps", "steps", 0, 150, 1],
          ["Denoising strength", "txt2img_denoising_strength", "denoising", 0, 1, 0.01],
          ["Upscale by", "txt2img_hr_scale", "scale", 1, 4, 0.05],
          ["Resize width to (0: by the scale)", "txt2img_hr_resize_x", "resizeX", 0, 2048, 8],
          ["Resize height to", "txt2img_hr_resize_y", "resizeY", 0, 2048, 8],
        ]}
      />
    </details>
  );
}

export function InpaintAccordion(
  { form, set, readFile }: {
    form: InpaintForm;
    set: (f: InpaintForm) => void;
    readFile: (f: File) => Promise<string>;
  },
) {
  const upd = (patch: Partial<InpaintForm>) => set({ ...form, ...patch });
  return (
    <details class="accordion" id="img2img_inpaint_accordion">
      <summary>Inpaint</summary>
      <Row label="Mask (white is inpainted; the image's size)">
        <input
          type="file"
          accept="image/*"
          id="img2img_mask"
          onChange={async (e) => {
            const f = e.currentTarget.files?.[0];
            upd({ mask: f ? await readFile(f) : null });
          }}
        />
        {form.mask && <img class="init" src={form.mask} alt="mask" />}
      </Row>
      <NumberRows form={form} upd={upd} rows={[["Mask blur", "img2img_mask_blur", "blur", 0, 64, 1]]} />
      <Row label="Mask mode">
        <Choice
          id="img2img_mask_mode"
          value={form.invert}
          set={(v) => upd({ invert: v })}
          options={["Inpaint masked", "Inpaint not masked"]}
        />
      </Row>
      <Row label="Masked content">
        <Choice
          id="img2img_inpainting_fill"
          value={form.fill}
          set={(v) => upd({ fill: v })}
          options={["fill", "original", "latent noise", "latent nothing"]}
        />
      </Row>
      <Row label="Inpaint area">
        <Choice
          id="img2img_inpaint_full_res"
          value={form.fullRes ? 1 : 0}
          set={(v) => upd({ fullRes: v === 1 })}
          options={["Whole picture", "Only masked"]}
        />
      </Row>
      <NumberRows
        form={form}
        upd={upd}
        rows={[["Only masked padding, pixels", "img2img_inpaint_full_res_padding", "padding", 0, 256, 4]]}
      />
    </details>
  );
}

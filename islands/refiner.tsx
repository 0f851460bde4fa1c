// A1111's Refiner accordion (1.6+): an SDXL refiner that takes over from the checkpoint at "Switch at", sent as
// refiner_checkpoint / refiner_switch_at.
import { EnableCheck } from "./hires_inpaint.tsx";
export interface RefinerForm {
  enabled: boolean;
  /** The refiner's title ("name [hash]"). */
  checkpoint: string;
  switchAt: number;
}

/** A1111's UI defaults: off, switch at 0.8. */
export const refinerDefaults = (refiners: string[]): RefinerForm => ({
  enabled: false,
  checkpoint: refiners[0] ?? "",
  switchAt: 0.8,
});

export function refinerPayload(f: RefinerForm): Record<string, unknown> {
  if (!f.enabled || !f.checkpoint) return {};
  return { refiner_checkpoint: f.checkpoint, refiner_switch_at: f.switchAt };
}

export function RefinerAccordion(
  { mode, form, set, refiners }: {
    mode: string;
    form: RefinerForm;
    set: (f: RefinerForm) => void;
    refiners: string[];
  },
) {
  const upd = (patch: Partial<RefinerForm>) => set({ ...form, ...patch });
  return (
    <details class="accordion" id={`${mode}_refiner_accordion`}>
      <summary>Refiner</summary>
      {refiners.length === 0 ? <p>No SDXL refiner in the models folder.</p> : (
        <>
          <EnableCheck
            id={`${mode}_enable_refiner`}
            checked={form.enabled}
            set={(enabled) => upd({ enabled })}
          />
          <label class="field">
            Checkpoint
            <select
              id={`${mode}_refiner_checkpoint`}
              value={form.checkpoint}
              onChange={(e) => upd({ checkpoint: e.currentTarget.value })}
            >
              {refiners.map((r) => <option key={r} value={r}>{r}</option>)}
            </select>
          </label>
          <label class="field">
            Switch at
            <input
              type="number"
              id={`${mode}_refiner_switch_at`}
              value={form.switchAt}
              min={0.01}
              max={1}
              step={0.01}
              onInput={(e) => upd({ switchAt: Number(e.currentTarget.value) })}
            />
          </label>
        </>
      )}
    </details>
  );
}

// A1111's "Extra" seed options under Seed: variation seed and strength, "Resize seed from width/height", and
// the noise source (A1111's randn_source setting, sent as this request's override), with the API fields they
// send.
import { NumberInput, Slider } from "./number_input.tsx";

export interface SeedExtraForm {
  /** The options are shown (A1111's "Extra" checkbox); hidden ones are still sent. */
  shown: boolean;
  subseed: number;
  subseedStrength: number;
  resizeFromW: number;
  resizeFromH: number;
  /** "" keeps the server's randn_source option. */
  rng: string;
}

export const RNG_CHOICES = ["", "GPU", "CPU", "NV"];

/** A1111's UI defaults. */
export const seedExtraDefaults = (): SeedExtraForm => ({
  shown: false,
  subseed: -1,
  subseedStrength: 0,
  resizeFromW: 0,
  resizeFromH: 0,
  rng: "",
});

export function seedExtraPayload(s: SeedExtraForm): Record<string, unknown> {
  return {
    subseed: s.subseed,
    subseed_strength: s.subseedStrength,
    seed_resize_from_w: s.resizeFromW,
    seed_resize_from_h: s.resizeFromH,
  };
}

/** The request's override of the noise source, when one is chosen. */
export function seedExtraOverrides(s: SeedExtraForm): Record<string, unknown> {
  return s.rng ? { randn_source: s.rng } : {};
}

/** The sliders: label, element id suffix (A1111's), form key, maximum, step. */
const SLIDERS: [string, string, "subseedStrength" | "resizeFromW" | "resizeFromH", number, number][] = [
  ["Variation strength", "subseed_strength", "subseedStrength", 1, 0.01],
  ["Resize seed from width", "seed_resize_from_w", "resizeFromW", 2048, 8],
  ["Resize seed from height", "seed_resize_from_h", "resizeFromH", 2048, 8],
];

export function SeedExtra(
  { mode, form, set }: { mode: string; form: SeedExtraForm; set: (f: SeedExtraForm) => void },
) {
  const upd = (patch: Partial<SeedExtraForm>) => set({ ...form, ...patch });
  return (
    <>
      <label class="check">
        <input
          type="checkbox"
          id={`${mode}_subseed_show`}
          checked={form.shown}
          onChange={(e) => upd({ shown: e.currentTarget.checked })}
        />
        Extra
      </label>
      {form.shown && (
        <div class="accordion" id={`${mode}_seed_extras`}>
          <label class="field">
            Variation seed
            <NumberInput
              id={`${mode}_subseed`}
              label="Variation seed"
              value={form.subseed}
              set={(subseed) => upd({ subseed })}
              min={-1}
              max={2 ** 32 - 1}
              step={1}
              empty={-1}
            />
          </label>
          {SLIDERS.map(([label, suffix, key, max, step]) => (
            <label class="field" key={key}>
              {label}
              <Slider
                id={`${mode}_${suffix}`}
                label={label}
                value={form[key]}
                set={(v) => upd({ [key]: v })}
                min={0}
                max={max}
                step={step}
              />
            </label>
          ))}
          <label class="field">
            Random number generator source
            <select
              id={`${mode}_randn_source`}
              value={form.rng}
              onChange={(e) => upd({ rng: e.currentTarget.value })}
            >
              {RNG_CHOICES.map((c) => <option key={c} value={c}>{c || "As in Settings"}</option>)}
            </select>
          </label>
        </div>
      )}
    </>
  );
}

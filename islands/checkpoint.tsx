// The one checkpoint selector, at the top of the page as in A1111: choosing a model sets the server's
// sd_model_checkpoint (kept with the settings), which every tab's generations use, and the tabs' size to the
// model's native one. A1111 single files that cannot be used are listed with why; choosing one says it.
import { useState } from "preact/hooks";
import { api, CHECKPOINT_CHANGED } from "./api.ts";

export default function Checkpoint(
  { models, model, sizes, unusable = {} }: {
    models: string[];
    model: string;
    sizes: Record<string, number>;
    /** Single files that cannot be used, with the reason. */
    unusable?: Record<string, string>;
  },
) {
  const [value, setValue] = useState(model);
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const choose = async (name: string) => {
    const before = value;
    setValue(name);
    setState({ busy: true, error: null });
    try {
      await api("/sdapi/v1/options", { sd_model_checkpoint: name });
      setState({ busy: false, error: null });
      dispatchEvent(new CustomEvent(CHECKPOINT_CHANGED, { detail: { size: sizes[name] } }));
    } catch (e) {
      setValue(before);
      setState({ busy: false, error: (e as Error).message });
    }
  };
  return (
    <label class="checkpoint">
      Stable Diffusion checkpoint
      <select
        id="setting_sd_model_checkpoint"
        value={value}
        disabled={state.busy}
        onChange={(e) => choose(e.currentTarget.value)}
      >
        {models.map((m) => <option key={m} value={m}>{m}</option>)}
        {Object.entries(unusable).map(([m, why]) => (
          <option key={m} value={m} title={why}>{`${m} (cannot be used: ${why})`}</option>
        ))}
      </select>
      {state.error && <span class="error" role="alert">{state.error}</span>}
    </label>
  );
}

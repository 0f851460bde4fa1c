// The page's calls to the server, and its error messages in the page's own words: a 422's location names the
// API field (`body.n_iter`), which people know by the label beside the input ("Batch count").
export const FIELD_LABELS: Record<string, string> = {
  prompt: "Prompt",
  negative_prompt: "Negative prompt",
  sampler_name: "Sampling method",
  sampler_index: "Sampling method",
  steps: "Sampling steps",
  width: "Width",
  height: "Height",
  n_iter: "Batch count",
  batch_size: "Batch size",
  cfg_scale: "CFG Scale",
  seed: "Seed",
  denoising_strength: "Denoising strength",
  init_images: "Image",
  xy_grid: "X/Y/Z plot",
  override_settings: "Settings",
  sd_model_checkpoint: "Stable Diffusion checkpoint",
  CLIP_stop_at_last_layers: "Clip skip",
};

interface Detail {
  loc?: (string | number)[];
  msg?: string;
}

/** "Batch count: batch count must be a whole number" from FastAPI's detail list; other shapes as they are. */
export function errorText(data: { detail?: unknown; error?: string }): string {
  if (typeof data.detail === "string") return data.error ? `${data.error}: ${data.detail}` : data.detail;
  if (Array.isArray(data.detail)) {
    return (data.detail as Detail[]).map((d) => {
      const loc = (d.loc ?? []).filter((p) => p !== "body");
      const named = loc.map((p) => FIELD_LABELS[String(p)]).filter(Boolean);
      // alwayson_scripts.<title>.args: the extension's title already heads its message.
      const label = named.at(-1) ?? (loc[0] === "alwayson_scripts" ? "" : loc.join("."));
      return label ? `${label}: ${d.msg}` : String(d.msg);
    }).join("; ");
  }
  if (data.detail && typeof data.detail === "object") {
    return Object.entries(data.detail).map(([k, v]) => `${k}: ${v}`).join("; ");
  }
  return data.error ?? JSON.stringify(data);
}

/** Raised by the embedding tab when it made an embedding: every embedding dropdown lists it at once. */
export const EMBEDDINGS_CHANGED = "webui-embeddings-changed";
/** The checkpoint selector chose another model; `detail.size` is its native image side. */
export const CHECKPOINT_CHANGED = "webui-checkpoint-changed";

export async function api<T>(path: string, body?: unknown): Promise<T> {
  const r = await fetch(path, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({ detail: `${r.status} ${r.statusText}` }));
  if (!r.ok) throw new Error(errorText(data));
  return data as T;
}

/** A task id as A1111's page makes them; getRandomValues works on plain http, unlike randomUUID. */
export function newTaskId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return `task(${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")})`;
}

export function readFile(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

/** The first image of a drop or paste, if any. */
export function imageFrom(data: DataTransfer | null): File | undefined {
  for (const f of data?.files ?? []) if (f.type.startsWith("image/")) return f;
  return undefined;
}

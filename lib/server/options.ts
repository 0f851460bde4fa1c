// The WebUI's settings (A1111's shared.opts subset this app honours), kept in memory and optionally in a
// JSON file written atomically.
import { writeFileAtomic } from "../io/png.ts";

export interface WebUIOptions {
  sd_model_checkpoint: string;
  CLIP_stop_at_last_layers: number;
  samples_save: boolean;
  samples_format: "png";
  outdir_samples: string;
}

export async function loadOptions(file: string | undefined, defaults: WebUIOptions): Promise<WebUIOptions> {
  if (!file) return { ...defaults };
  try {
    const saved = JSON.parse(await Deno.readTextFile(file));
    return { ...defaults, ...saved };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { ...defaults };
    throw new Error(`cannot read settings ${file}: ${(e as Error).message}`);
  }
}

export async function saveOptions(file: string | undefined, opts: WebUIOptions): Promise<void> {
  if (!file) return;
  await writeFileAtomic(file, new TextEncoder().encode(JSON.stringify(opts, null, 2) + "\n"));
}

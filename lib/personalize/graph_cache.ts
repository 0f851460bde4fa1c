// The personalization graphs of a text model (gradient and forward, a few MB; the weights stay inputs), kept on
// disk so that the first prompt after a restart skips the shape probe and the autodiff: those cost seconds for
// a real CLIP model, most of it encoding a probe copy of the whole model. An entry belongs to one model file
// (path, size, modification time), one rewrite of it (the caller's key: CLIP skip, a borrowed projection) and
// one version of this code; anything else is a miss. Entries are written whole (a temporary folder, then a
// rename) and a damaged one is rebuilt.
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join } from "node:path";

/** Bump when the graphs built for the same model change. */
export const GRAPH_CACHE_VERSION = 3;

export interface Slot {
  name: string;
  dims: number[];
  offset: number;
  size: number;
  /** An embedding table: only the rows the prompt uses get gradients, so only those are updated. */
  sparse?: { indices: string; rows: string };
}

export interface GraphMeta {
  embedDim: number;
  hiddenSize: number;
  slots: Slot[];
  /** Each dense parameter's gradient output. */
  gradOf: Record<string, string>;
  /**
   * The gradient graph takes any number of tokens, and text_embeds was found to depend only on the tokens up
   * to the start of the padding (causal attention, pooled at the end-of-text token): each step then runs on
   * that prefix alone (engine.ts, gradientTokens).
   */
  prefixOnly: boolean;
}

export interface PersonalizationGraphs {
  gradient: Uint8Array;
  forward: Uint8Array;
  meta: GraphMeta;
}

/** Where entries go unless the caller says: $AG_CACHE_DIR, else the user's cache folder. */
export function defaultGraphCacheDir(): string {
  const own = Deno.env.get("AG_CACHE_DIR");
  if (own) return join(own, "personalize");
  const xdg = Deno.env.get("XDG_CACHE_HOME") || join(homedir(), ".cache");
  return join(xdg, "aesthetic-gradients", "personalize");
}

/** The entry folder for a model file and a rewrite key, or undefined when the file cannot be read. */
export async function graphCacheEntry(
  dir: string,
  modelPath: string,
  key: string,
): Promise<string | undefined> {
  const real = await Deno.realPath(modelPath).catch(() => undefined);
  const info = real ? await Deno.stat(real).catch(() => undefined) : undefined;
  if (!real || !info?.isFile) return undefined;
  const identity = JSON.stringify([GRAPH_CACHE_VERSION, real, info.size, info.mtime?.getTime() ?? 0, key]);
  return join(dir, createHash("sha256").update(identity).digest("hex").slice(0, 32));
}

/** The cached graphs, or undefined on a miss or a damaged entry. */
export async function readGraphs(entry: string): Promise<PersonalizationGraphs | undefined> {
  try {
    const meta = JSON.parse(await Deno.readTextFile(join(entry, "meta.json"))) as GraphMeta;
    if (
      !Array.isArray(meta.slots) || typeof meta.embedDim !== "number" || typeof meta.prefixOnly !== "boolean"
    ) return undefined;
    const [gradient, forward] = await Promise.all([
      Deno.readFile(join(entry, "gradient.onnx")),
      Deno.readFile(join(entry, "forward.onnx")),
    ]);
    return { gradient, forward, meta };
  } catch {
    return undefined;
  }
}

/**
 * Stores the graphs; a cache that cannot be written (read-only disk, no home folder) only costs the next
 * start its seconds, so failures are ignored.
 */
export async function writeGraphs(entry: string, graphs: PersonalizationGraphs): Promise<void> {
  const tmp = `${entry}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.mkdir(tmp, { recursive: true });
    await Deno.writeFile(join(tmp, "gradient.onnx"), graphs.gradient);
    await Deno.writeFile(join(tmp, "forward.onnx"), graphs.forward);
    await Deno.writeTextFile(join(tmp, "meta.json"), JSON.stringify(graphs.meta));
    await Deno.remove(entry, { recursive: true }).catch(() => {});
    await Deno.rename(tmp, entry);
  } catch {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

// Finds the images under a folder: recursive, in a stable (sorted) order, by file name extension.
import { join, sep as SEP } from "node:path";
import { hasImageExtension } from "../io/image.ts";

/**
 * Paths of files with an image extension under `dir`, sorted by their path relative to `dir`. Hidden entries
 * (names starting with ".", e.g. .thumbnails/ or macOS "._x.jpg" resource forks) are left out; symlinked files
 * are followed, symlinked folders are not (they could loop).
 */
export async function listImageFiles(dir: string): Promise<string[]> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch (e) {
    throw new Error(`cannot open the image folder ${dir}: ${(e as Error).message}`);
  }
  if (!info.isDirectory) throw new Error(`${dir} is not a folder`);
  // Relative keys are built while walking (no path.relative per comparison): listing thousands of files then
  // leaves little garbage in V8's heap, which a long embedding run would otherwise carry to its end.
  const found: string[] = [];
  await walk(dir, "", found);
  found.sort(compare);
  // join() per file would leave each path a chain of string pieces several times its length.
  const base = join(dir, ".");
  const prefix = base === "." ? "" : base.endsWith(SEP) ? base : base + SEP;
  return found.map((key) => prefix + key);
}

async function walk(root: string, rel: string, found: string[]): Promise<void> {
  const dir = rel ? join(root, rel) : root;
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(".")) continue;
    const key = rel ? `${rel}${SEP}${entry.name}` : entry.name;
    if (entry.isDirectory) {
      await walk(root, key, found);
    } else if (hasImageExtension(entry.name)) {
      if (entry.isSymlink) {
        const target = await Deno.stat(join(root, key)).catch(() => undefined);
        // A broken link still counts, so the user sees it reported as unreadable.
        if (target?.isDirectory) continue;
      }
      found.push(key);
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

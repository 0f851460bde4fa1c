// Finds the images under a folder: recursive, in a stable (sorted) order, by file name extension.
import { join, relative } from "node:path";
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
  const found: string[] = [];
  await walk(dir, found);
  return found.sort((a, b) => compare(relative(dir, a), relative(dir, b)));
}

async function walk(dir: string, found: string[]): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory) {
      await walk(path, found);
    } else if (hasImageExtension(entry.name)) {
      if (entry.isSymlink) {
        const target = await Deno.stat(path).catch(() => undefined);
        // A broken link still counts, so the user sees it reported as unreadable.
        if (target?.isDirectory) continue;
      }
      found.push(path);
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

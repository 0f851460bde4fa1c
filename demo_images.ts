// Draws images of the demo world (issue 11): one object on a flat background, 64×64, in a style.
//   deno task demo-images --style pastel --count 200 --out styles/pastel
import { parseArgs } from "node:util";
import { writeDataset } from "./lib/demo/dataset.ts";
import { type ColorName, COLORS } from "./lib/demo/color.ts";
import { type StyleName, STYLES } from "./lib/demo/styles.ts";
import { type ShapeName, SHAPES, type Split, SPLITS } from "./lib/demo/world.ts";

const USAGE = `Usage:
  demo_images.ts --count N --out DIR [--style S[,S…]] [--seed N] [--shapes A,B,…] [--colors A,B,…]
                 [--split train|held-out|all] [--captions FILE]

Writes N images (00000.png, …) of one object on a flat background into DIR; image k depends only on the
seed and k.

  --style     ${STYLES.join(", ")}, or several separated by commas, one drawn per image (default: all)
  --seed      integer seed (default 0)
  --shapes    object shapes to draw from: ${SHAPES.join(", ")} (default: all)
  --colors    object colors to draw from: ${COLORS.join(", ")} (default: all; backgrounds use every
              color but the object's)
  --split     train: leave out the held-out color×shape pairs; held-out: only those; all (default)
  --captions  also write one JSON object per image (file, caption, scene) to FILE`;

class UsageError extends Error {}

function listFlag<T extends string>(
  value: string | undefined,
  allowed: readonly T[],
  flag: string,
): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(",").map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${flag} is empty`);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new UsageError(`--${flag}: unknown "${item}" (one of ${allowed.join(", ")})`);
    }
  }
  return items as T[];
}

function intFlag(value: string | undefined, flag: string, fallback: number | undefined, min: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`--${flag} is required`);
    return fallback;
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${flag} must be a whole number ≥ ${min}`);
  return n;
}

export async function main(args: string[]): Promise<number> {
  try {
    const { values: v } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        style: { type: "string" },
        count: { type: "string" },
        out: { type: "string" },
        seed: { type: "string" },
        shapes: { type: "string" },
        colors: { type: "string" },
        split: { type: "string" },
        captions: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (v.help) {
      console.log(USAGE);
      return 0;
    }
    const styles = listFlag<StyleName>(v.style, STYLES, "style");
    const split = (v.split ?? "all") as Split;
    if (!SPLITS.includes(split)) throw new UsageError(`--split must be one of ${SPLITS.join(", ")}`);
    if (v.out === undefined) throw new UsageError("--out DIR is required");
    const count = intFlag(v.count, "count", undefined, 1);
    const seed = intFlag(v.seed, "seed", 0, 0);
    const opts = {
      styles,
      shapes: listFlag<ShapeName>(v.shapes, SHAPES, "shapes"),
      colors: listFlag<ColorName>(v.colors, COLORS, "colors"),
      split,
    };
    const t0 = performance.now();
    await writeDataset({ ...opts, count, seed, outDir: v.out, captionsFile: v.captions });
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`Wrote ${count} image${count === 1 ? "" : "s"} to ${v.out} in ${secs} s`);
    return 0;
  } catch (e) {
    const usage = e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ||
      (e as Error).message.startsWith("no scene fits");
    console.error(`error: ${(e as Error).message}`);
    return usage ? 2 : 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));

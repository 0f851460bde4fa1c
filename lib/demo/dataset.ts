// Writes a folder of demo-world images (00000.png, …) and, optionally, their captions as JSON lines: the data
// sets of the demo's training (tests/fixtures/demo_world) and the style folders its embeddings are made from.
import { join } from "node:path";
import { encodePng } from "../io/image.ts";
import { writeFileAtomic } from "../io/png.ts";
import { caption } from "./captions.ts";
import { itemRng } from "./rng.ts";
import { combinations, renderScene, sampleScene, type Scene, type SceneChoices } from "./world.ts";

export interface DatasetOptions extends SceneChoices {
  count: number;
  outDir: string;
  seed: number;
  /** Where to write one JSON object per image (its file name, caption and scene); none when absent. */
  captionsFile?: string;
}

/** One line of captions.jsonl. */
export interface CaptionRecord extends Scene {
  file: string;
  caption: string;
}

/** Scene and caption of item `index` of a seeded run (independent of the other items). */
export function datasetItem(
  index: number,
  seed: number,
  combos: ReturnType<typeof combinations>,
): CaptionRecord {
  const rng = itemRng(seed, index);
  const scene = sampleScene(rng, combos);
  return { file: `${String(index).padStart(5, "0")}.png`, caption: caption(scene, rng), ...scene };
}

export async function writeDataset(opts: DatasetOptions): Promise<CaptionRecord[]> {
  const combos = combinations(opts);
  await Deno.mkdir(opts.outDir, { recursive: true });
  const records: CaptionRecord[] = [];
  // A few encodes in flight keep sharp's thread pool busy without holding many images.
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < opts.count; i++) {
    const rec = datasetItem(i, opts.seed, combos);
    records.push(rec);
    const p: Promise<void> = encodePng(renderScene(rec))
      .then((png) => writeFileAtomic(join(opts.outDir, rec.file), png))
      .then(() => void inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 4) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (opts.captionsFile !== undefined) {
    const text = records.map((r) => JSON.stringify(r) + "\n").join("");
    await writeFileAtomic(opts.captionsFile, new TextEncoder().encode(text));
  }
  return records;
}

// Test helper for the guard of issue 11: a personalized demo-world image must differ from the base image of the
// same seed and sit closer to the aesthetic, in CLIP (cosine to the embedding) and in pixels (the style's own
// statistic, measured without CLIP). This is what silently broke in the A1111 extension once.
import { ok } from "node:assert";
import { join } from "node:path";
import { measureDemo, styleScore } from "../../lib/demo/checker.ts";
import { ClipMeasure, cosine } from "../../lib/eval/clip_measure.ts";
import { readEmbedding } from "../../lib/io/embedding.ts";
import { decodeImage, type RgbImage } from "../../lib/io/image.ts";
import { DEFAULT_CLIP_DIR, EMBEDDINGS_DIR } from "../../lib/models/defaults.ts";

/** The README's recommended settings for the demo world's style embeddings. */
export const DEMO_STYLE = "pastel";
export const DEMO_AESTHETIC = { steps: 10, lr: 0.001, weight: 1 } as const;
/** A held-out color × shape pair, saturated enough that the pastel statistic has room to move. */
export const DEMO_PROMPT = "a blue square on a red background";
export const DEMO_SEED = 7;

export const demoEmbeddingPath = join(EMBEDDINGS_DIR, `${DEMO_STYLE}.pt`);

async function decode(png: Uint8Array): Promise<RgbImage> {
  const out = await decodeImage(png);
  if (!out.ok) throw new Error(`not an image: ${out.skip.message}`);
  return out.image;
}

export interface GuardMeasures {
  meanAbsDiff: number;
  cosine: { base: number; personalized: number };
  styleScore: { base: number; personalized: number };
}

/** Measures the pair and asserts the guard: different, and closer to the style by both measures. */
export async function assertMovedTowardStyle(
  basePng: Uint8Array,
  personalizedPng: Uint8Array,
): Promise<GuardMeasures> {
  const [base, personalized] = [await decode(basePng), await decode(personalizedPng)];
  let diff = 0;
  for (let i = 0; i < base.data.length; i++) diff += Math.abs(base.data[i] - personalized.data[i]);
  const meanAbsDiff = diff / base.data.length;
  const embedding = (await readEmbedding(demoEmbeddingPath)).data;
  const clip = await ClipMeasure.open(DEFAULT_CLIP_DIR, { threads: 1 });
  let measures: GuardMeasures;
  try {
    measures = {
      meanAbsDiff,
      cosine: {
        base: cosine(await clip.embed(base), embedding),
        personalized: cosine(await clip.embed(personalized), embedding),
      },
      styleScore: {
        base: styleScore(DEMO_STYLE, measureDemo(base)),
        personalized: styleScore(DEMO_STYLE, measureDemo(personalized)),
      },
    };
  } finally {
    await clip.release();
  }
  const text = JSON.stringify(measures);
  ok(meanAbsDiff > 1, `the personalized image is the base image: ${text}`);
  ok(measures.cosine.personalized > measures.cosine.base, `not closer to the aesthetic in CLIP: ${text}`);
  ok(
    measures.styleScore.personalized > measures.styleScore.base,
    `not closer in the style's pixels: ${text}`,
  );
  return measures;
}

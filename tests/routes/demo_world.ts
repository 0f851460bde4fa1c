// Test helper for the guard of issue 11: personalized demo-world images must differ from the base images of the
// same seeds, sit closer to the aesthetic by a margin (mean CLIP cosine of the image to the embedding) and move
// the style's pixel statistic toward the style in most of the held-out prompts. This is what silently broke in
// the A1111 extension once: it stopped applying and nobody noticed. It also fails if the negative prompt is
// personalized again (both sides of guidance then move together and the pictures barely move).
import { ok } from "node:assert";
import { join } from "node:path";
import { heldOutPrompts } from "../../lib/demo/captions.ts";
import { measureDemo, styleScore } from "../../lib/demo/checker.ts";
import { ClipMeasure, cosine } from "../../lib/eval/clip_measure.ts";
import { readEmbedding } from "../../lib/io/embedding.ts";
import { decodeImage, type RgbImage } from "../../lib/io/image.ts";
import { DEFAULT_CLIP_DIR, EMBEDDINGS_DIR } from "../../lib/models/defaults.ts";

/** The README's recommended settings for the demo world's style embeddings. */
export const DEMO_STYLE = "pastel";
export const DEMO_AESTHETIC = { steps: 2, lr: 0.0001, weight: 1 } as const;
/** Of the held-out prompts, how many must move toward the style (issue 11 asks for 75 % of pairs). */
export const DEMO_MIN_TOWARD = 6;
/**
 * How much closer to the aesthetic the personalized images must sit, in mean CLIP cosine. Measured at these
 * settings: +0.044, and +0.013 with the negative prompt personalized too (which still moves 6 of 8 prompts).
 */
export const DEMO_MIN_GAIN = 0.025;
/** The eval's default prompts: the color × shape pairs left out of training. */
export const DEMO_PROMPTS: readonly string[] = heldOutPrompts();
export const DEMO_SEED = 2;

export const demoEmbeddingPath = join(EMBEDDINGS_DIR, `${DEMO_STYLE}.pt`);

async function decode(png: Uint8Array): Promise<RgbImage> {
  const out = await decodeImage(png);
  if (!out.ok) throw new Error(`not an image: ${out.skip.message}`);
  return out.image;
}

export interface GuardPair {
  prompt: string;
  base: Uint8Array;
  personalized: Uint8Array;
}

/** Asserts the guard on prompt × (base, personalized) pairs; returns the mean cosines for the message. */
export async function assertMovedTowardAesthetic(pairs: readonly GuardPair[]): Promise<[number, number]> {
  const embedding = (await readEmbedding(demoEmbeddingPath)).data;
  const clip = await ClipMeasure.open(DEFAULT_CLIP_DIR, { threads: 1 });
  const cos: [number, number][] = [];
  const toward: string[] = [];
  try {
    for (const p of pairs) {
      const [base, personalized] = [await decode(p.base), await decode(p.personalized)];
      let diff = 0;
      for (let i = 0; i < base.data.length; i++) diff += Math.abs(base.data[i] - personalized.data[i]);
      ok(diff / base.data.length > 1, `"${p.prompt}": the personalized image is the base image`);
      if (styleScore(DEMO_STYLE, measureDemo(personalized)) > styleScore(DEMO_STYLE, measureDemo(base))) {
        toward.push(p.prompt);
      }
      cos.push([
        cosine(await clip.embed(base), embedding),
        cosine(await clip.embed(personalized), embedding),
      ]);
    }
  } finally {
    await clip.release();
  }
  const mean = (i: 0 | 1) => cos.reduce((s, c) => s + c[i], 0) / cos.length;
  const means: [number, number] = [mean(0), mean(1)];
  ok(
    means[1] - means[0] >= DEMO_MIN_GAIN,
    `not closer to the aesthetic by ${DEMO_MIN_GAIN} on average: ${JSON.stringify({ means, cos })}`,
  );
  ok(
    toward.length >= Math.min(DEMO_MIN_TOWARD, pairs.length),
    `only ${toward.length} of ${pairs.length} moved toward ${DEMO_STYLE}: ${JSON.stringify(toward)}`,
  );
  return means;
}

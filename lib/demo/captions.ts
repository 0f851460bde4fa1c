// Captions of demo-world scenes: a main template and paraphrases, the style named in about a third of them,
// "an" before a vowel. CLIP learns the words from them, and the UNet learns to draw what they say.
import type { ColorName } from "./color.ts";
import { pick, type Rng } from "./rng.ts";
import { HELD_OUT, type Scene } from "./world.ts";

/** How often a caption names the style (", pastel style"). */
export const STYLE_NAMED_RATE = 1 / 3;

type Template = (s: Scene) => string;

/** The canonical caption, also the eval's prompt form. */
export const MAIN_TEMPLATE: Template = (s) => `${a(s.color)} ${s.shape} on ${a(s.background)} background`;

const PARAPHRASES: readonly Template[] = [
  (s) => `${a(s.color)} ${s.shape} against ${a(s.background)} background`,
  (s) => `a picture of ${a(s.color)} ${s.shape} on ${s.background}`,
  (s) => `${s.color} ${s.shape}, ${s.background} background`,
  (s) => `a drawing of ${a(s.color)} ${s.shape} on ${a(s.background)} background`,
  (s) => `${a(s.color)} ${s.shape}`,
];

/** "an orange", "a red": the article by the next word's first letter. */
export function a(word: string): string {
  return `${/^[aeiou]/i.test(word) ? "an" : "a"} ${word}`;
}

/** The main template half the time, otherwise a paraphrase; then the style in about a third of captions. */
export function caption(scene: Scene, rng: Rng): string {
  const template = rng.next() < 0.5 ? MAIN_TEMPLATE : pick(rng, PARAPHRASES);
  const text = template(scene);
  return rng.next() < STYLE_NAMED_RATE ? withStyle(text, scene.style) : text;
}

export function withStyle(text: string, style: string): string {
  return `${text}, ${style} style`;
}

/** A background for each held-out object color that every style can draw (sepia needs the luma contrast). */
const EVAL_BACKGROUND: Readonly<Record<ColorName, ColorName>> = {
  red: "white",
  orange: "blue",
  yellow: "purple",
  green: "white",
  blue: "yellow",
  purple: "white",
  white: "blue",
  black: "orange",
};

/** The eval's default prompts: each held-out color × shape pair (never in training) in the main template. */
export function heldOutPrompts(): string[] {
  return HELD_OUT.map((p) =>
    MAIN_TEMPLATE({ ...p, background: EVAL_BACKGROUND[p.color], style: "plain", x: 0.5, y: 0.5, size: 0.5 })
  );
}

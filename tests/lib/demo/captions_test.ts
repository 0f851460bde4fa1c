// Captions: grammatical ("an" before a vowel), naming what is drawn, the style in about a third of them.
import { ok as assert } from "node:assert";
import { a, caption, heldOutPrompts } from "../../../lib/demo/captions.ts";
import { parsePrompt } from "../../../lib/demo/checker.ts";
import { STYLES } from "../../../lib/demo/styles.ts";
import { itemRng } from "../../../lib/demo/rng.ts";
import { combinations, drawable, HELD_OUT, sampleScene } from "../../../lib/demo/world.ts";

const combos = combinations();
const samples = Array.from({ length: 3000 }, (_, i) => {
  const rng = itemRng(9, i);
  const scene = sampleScene(rng, combos);
  return { scene, text: caption(scene, rng) };
});

Deno.test("the article follows the next word's first letter", () => {
  assert(a("orange") === "an orange" && a("red") === "a red" && a("Orange") === "an Orange");
  for (const { text } of samples) {
    assert(!/\ba [aeiou]/i.test(text), `"a" before a vowel: ${text}`);
    assert(!/\ban [^aeiou\s]/i.test(text), `"an" before a consonant: ${text}`);
  }
});

Deno.test("every caption names the object's color and shape, and only the scene's style", () => {
  for (const { scene, text } of samples) {
    assert(text.includes(`${scene.color} ${scene.shape}`), text);
    const style = /, (\w+) style$/.exec(text);
    if (style) assert(style[1] === scene.style, text);
  }
});

Deno.test("the style is named in about a third of the captions, and paraphrases vary the wording", () => {
  const named = samples.filter(({ text }) => text.endsWith(" style")).length / samples.length;
  assert(named > 0.3 && named < 0.37, `style named in ${named}`);
  const main = samples.filter(({ scene, text }) =>
    text.replace(/, \w+ style$/, "") ===
      `${a(scene.color)} ${scene.shape} on ${a(scene.background)} background`
  ).length / samples.length;
  assert(main > 0.45 && main < 0.55, `main template in ${main}`);
  const forms = new Set(
    samples.map(({ scene, text }) =>
      text.replaceAll(scene.color, "C").replaceAll(scene.shape, "S")
        .replaceAll(scene.background, "B").replace(/, \w+ style$/, "")
    ),
  );
  assert(forms.size >= 6, `${forms.size} distinct forms`);
});

Deno.test("the held-out prompts name each held-out pair on a background every style can draw", () => {
  const prompts = heldOutPrompts();
  assert(prompts.length === HELD_OUT.length);
  HELD_OUT.forEach((p, i) => {
    const parsed = parsePrompt(prompts[i]);
    assert(parsed.color === p.color && parsed.shape === p.shape, prompts[i]);
    for (const style of STYLES) {
      assert(drawable(style, p.color, parsed.background!) || style === "neon", prompts[i]);
    }
  });
});

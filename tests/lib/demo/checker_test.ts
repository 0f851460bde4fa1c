// The CLIP-free checker on generated images of known style and color: it reads the object's color back and each
// style's statistic separates that style from the same scene drawn plain.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { colorMatches, measureDemo, parsePrompt, styleScore } from "../../../lib/demo/checker.ts";
import { MAIN_TEMPLATE, withStyle } from "../../../lib/demo/captions.ts";
import { itemRng } from "../../../lib/demo/rng.ts";
import type { StyleName } from "../../../lib/demo/styles.ts";
import { combinations, renderScene, sampleScene, type Scene } from "../../../lib/demo/world.ts";

function scenes(style: StyleName, n: number, seed: number): Scene[] {
  const combos = combinations({ styles: [style] });
  return Array.from({ length: n }, (_, i) => sampleScene(itemRng(seed, i), combos));
}

Deno.test("parsePrompt reads the object's color and shape and the background from every caption form", () => {
  assertEquals(parsePrompt("an orange star on a blue background, neon style"), {
    color: "orange",
    shape: "star",
    background: "blue",
  });
  assertEquals(parsePrompt("a picture of a red ring on white"), {
    color: "red",
    shape: "ring",
    background: "white",
  });
  assertEquals(parsePrompt("green cross, black background"), {
    color: "green",
    shape: "cross",
    background: "black",
  });
  assertEquals(parsePrompt("a painting of a lighthouse"), {});
});

Deno.test("the object's color is read right in plain, pastel and neon images", () => {
  for (const style of ["plain", "pastel", "neon"] as const) {
    const wrong: string[] = [];
    for (const s of scenes(style, 150, 11)) {
      const m = measureDemo(renderScene(s));
      if (!colorMatches(m, MAIN_TEMPLATE(s))) wrong.push(`${s.color} read as ${m.objectColor}`);
    }
    assertEquals(wrong, [], `${style}: ${wrong.length} wrong`);
  }
});

Deno.test("a prompt without a color word gives no verdict", () => {
  const m = measureDemo(renderScene(scenes("plain", 1, 1)[0]));
  assertEquals(colorMatches(m, "a lighthouse"), undefined);
});

Deno.test("each style's statistic is in its range and above the same scene drawn plain", () => {
  for (const style of ["pastel", "neon", "sepia"] as const) {
    let above = 0;
    const all = scenes(style, 100, 12);
    for (const s of all) {
      const m = measureDemo(renderScene(s));
      const plain = measureDemo(renderScene({ ...s, style: "plain" }));
      // Never below; equal only when the style changes nothing it measures (neon: a white object on black).
      assert(styleScore(style, m) >= styleScore(style, plain), `${style}: ${JSON.stringify(s)}`);
      if (styleScore(style, m) > styleScore(style, plain)) above++;
      if (style === "pastel") assert(m.meanValue >= 0.6 && m.meanSaturation <= 0.4, JSON.stringify(m));
      if (style === "neon") {
        assert(m.backgroundValue < 0.15, `${m.backgroundValue}`);
        if (s.color !== "white") assert(m.objectSaturation > 0.9, `${s.color}: ${m.objectSaturation}`);
      }
      if (style === "sepia") {
        assert(m.hueSpread < 10 && m.rampDistance < 0.01, `${m.hueSpread} ${m.rampDistance}`);
      }
    }
    assert(above >= 0.95 * all.length, `${style}: above plain in ${above}/${all.length}`);
  }
});

Deno.test("a named style in the prompt does not confuse the color reading", () => {
  const s = scenes("neon", 1, 3)[0];
  assert(colorMatches(measureDemo(renderScene(s)), withStyle(MAIN_TEMPLATE(s), "neon")));
});

// The A1111-style application: mixing, sweeps from one run, the cache, and chunk-by-chunk personalization.
import { ok, rejects } from "node:assert";
import { join } from "node:path";
import { promptChunks } from "../../../lib/clip/chunks.ts";
import { ClipTextEncoder } from "../../../lib/clip/text_encoder.ts";
import { ClipTokenizer } from "../../../lib/clip/tokenizer.ts";
import { AESTHETIC_DEFAULTS, AestheticPersonalizer } from "../../../lib/personalize/aesthetic.ts";
import { aestheticTarget, linearMix, slerpA1111 } from "../../../lib/personalize/mix.ts";
import { assertClose, maxAbsDiff, MODELS, readRef, refs } from "../../fixtures.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const setup = (async () => {
  const tokenizer = await ClipTokenizer.load(join(MODELS, "tiny-sd1"));
  const encoder = await ClipTextEncoder.open(join(MODELS, "tiny-sd1"));
  const personalizer = await AestheticPersonalizer.load(join(MODELS, "tiny-sd1-clip"), tokenizer);
  return { tokenizer, encoder, personalizer };
})();

async function condition(prompt: string) {
  const { tokenizer, encoder } = await setup;
  const { chunks } = promptChunks(prompt, tokenizer);
  const encode = encoder.chunkEncoder("last");
  const parts = [];
  for (const c of chunks) parts.push(await encode(c.ids));
  const z = new Float32Array(parts.length * parts[0].length);
  parts.forEach((p, i) => z.set(p, i * p.length));
  return { z, ids: chunks.map((c) => c.ids) };
}

Deno.test({
  name: "weight 1 gives the paper's personalized conditioning; weight w mixes linearly",
  ...opts,
  fn: async () => {
    const { personalizer } = await setup;
    const c = refs().personalization.find((c: { name: string }) => c.name === "sd1-default");
    const { z, ids } = await condition(c.prompt);
    const e = readRef(c.embedding);
    const full = await personalizer.apply(z, ids, e, {
      ...AESTHETIC_DEFAULTS,
      weight: 1,
      steps: 5,
      lr: 1e-4,
    });
    assertClose(full.conditioning.get(5)!, readRef(c.conditioning["5"].last_hidden_state), 1e-4, "weight 1");
    assertClose(full.similarity[0], c.similarity, 1e-5, "similarity");
    const mixed = await personalizer.apply(z, ids, e, {
      ...AESTHETIC_DEFAULTS,
      weight: 0.9,
      steps: 5,
      lr: 1e-4,
    });
    assertClose(mixed.conditioning.get(5)!, linearMix(z, full.conditioning.get(5)!, 0.9), 1e-6, "weight 0.9");
  },
});

Deno.test({
  name: "a 0/2/5/10/20 sweep from one run equals separate runs, and a repeated prompt hits the cache",
  ...opts,
  fn: async () => {
    const { personalizer } = await setup;
    const { z, ids } = await condition("a quiet harbor at dawn");
    const e = readRef(refs().images.mean_image_embeds);
    const settings = { ...AESTHETIC_DEFAULTS, steps: 20, lr: 1e-3 };
    const sweep = await personalizer.apply(z, ids, e, settings, [0, 2, 5, 10]);
    for (const s of [0, 2, 5, 10, 20]) {
      const one = await personalizer.apply(z, ids, e, { ...settings, steps: s });
      const d = maxAbsDiff(one.conditioning.get(s)!, sweep.conditioning.get(s)!);
      ok(!(d > 1e-6), `step ${s}: sweep differs by ${d}`);
    }
    const before = personalizer.cacheSize;
    await personalizer.apply(z, ids, e, settings, [0, 2, 5, 10]);
    ok(personalizer.cacheSize === before, "a repeated request ran again");
  },
});

Deno.test({
  name: "prompts over 75 tokens are personalized chunk by chunk",
  ...opts,
  fn: async () => {
    const { personalizer } = await setup;
    const long = refs().tokenizer.find((t: { name: string }) => t.name === "long").prompt;
    const { z, ids } = await condition(long);
    ok(ids.length >= 2, "the long prompt should need two chunks");
    const e = readRef(refs().images.mean_image_embeds);
    const r = await personalizer.apply(z, ids, e, { ...AESTHETIC_DEFAULTS, weight: 1, lr: 1e-3 });
    ok(r.similarity.length === ids.length, "one similarity trace per chunk expected");
    const hidden = personalizer.engine.info.hiddenSize;
    for (let c = 0; c < ids.length; c++) {
      const alone = await personalizer.engine.personalize(ids[c], e, { steps: 5, lr: 1e-3 });
      const part = r.conditioning.get(5)!.subarray(c * 77 * hidden, (c + 1) * 77 * hidden);
      assertClose(part, alone.conditioning.get(5)!, 1e-6, `chunk ${c}`);
    }
  },
});

Deno.test({
  name: "a conditioning whose width does not fit the CLIP pair is refused",
  ...opts,
  fn: async () => {
    const { personalizer } = await setup;
    await rejects(
      personalizer.apply(
        new Float32Array(77 * 8),
        [new Int32Array(77)],
        new Float32Array(16).fill(1),
        AESTHETIC_DEFAULTS,
      ),
      /77 × 16 were expected/,
    );
  },
});

Deno.test("A1111's slerp interpolates each column across rows; weight 0 and 1 are the ends", () => {
  const low = Float32Array.of(1, 0, 0, 1, 2, 2);
  const high = Float32Array.of(0, 1, 1, 0, 2, -2);
  assertClose(slerpA1111(low, high, 0, 3, 2), low, 1e-6, "val 0");
  assertClose(slerpA1111(low, high, 1, 3, 2), high, 1e-6, "val 1");
  // Column 0: low (1,0,2)/√5, high (0,1,2)/√5, ω = acos(4/5).
  const w = Math.acos(4 / 5);
  const a = Math.sin(0.5 * w) / Math.sin(w);
  assertClose(slerpA1111(low, high, 0.5, 3, 2).filter((_, i) => i % 2 === 0), [a, a, 4 * a], 1e-6, "val 0.5");
});

Deno.test("the aesthetic text target: slerp toward the text, or toward image − text when negative", () => {
  const img = Float32Array.of(3, 4);
  const text = Float32Array.of(1, 0);
  assertClose(aestheticTarget(img, undefined, 0.1, false), [0.6, 0.8], 1e-6, "no text");
  assertClose(aestheticTarget(img, text, 0, false), [0.6, 0.8], 1e-6, "angle 0");
  assertClose(aestheticTarget(img, text, 1, false), [1, 0], 1e-6, "angle 1");
  const neg = Float32Array.of(0.6 - 1, 0.8);
  const n = Math.hypot(neg[0], neg[1]);
  assertClose(aestheticTarget(img, text, 1, true), [neg[0] / n, neg[1] / n], 1e-6, "negative");
});

Deno.test({
  name:
    "personalizing the checkpoint's own encoder with the pair's projection (SD 1.x: same weights, same result)",
  ...opts,
  fn: async () => {
    const { tokenizer, personalizer } = await setup;
    const own = await AestheticPersonalizer.load(join(MODELS, "tiny-sd1-clip"), tokenizer, {
      source: "checkpoint",
      checkpointDir: join(MODELS, "tiny-sd1"),
    });
    const c = refs().personalization.find((c: { name: string }) => c.name === "sd1-sweep");
    const { z, ids } = await condition(c.prompt);
    const e = readRef(c.embedding);
    const settings = { ...AESTHETIC_DEFAULTS, weight: 1, steps: 20, lr: 1e-3 };
    const a = await own.apply(z, ids, e, settings);
    const b = await personalizer.apply(z, ids, e, settings);
    assertClose(a.similarity[0], c.similarity, 1e-5, "similarity");
    assertClose(a.conditioning.get(20)!, b.conditioning.get(20)!, 1e-4, "conditioning");
    await own.release();
  },
});

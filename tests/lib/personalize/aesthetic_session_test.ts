// The seam every front end goes through: the off-switch, the settings and embedding checks, the infotext fields
// and the similarity report all come from AestheticSession.
import { deepStrictEqual as assertEquals, ok, throws } from "node:assert";
import { join } from "node:path";
import { promptChunks } from "../../../lib/clip/chunks.ts";
import { asHooked } from "../../../lib/clip/conditioning_hook.ts";
import { ClipTextEncoder } from "../../../lib/clip/text_encoder.ts";
import { readEmbedding } from "../../../lib/io/embedding.ts";
import { InputError } from "../../../lib/io/input_error.ts";
import {
  TINY_DEMO_CLIP_DIR,
  TINY_DEMO_EMBEDDING,
  TINY_DEMO_MODEL_DIR,
} from "../../../lib/models/defaults.ts";
import { AESTHETIC_DEFAULTS } from "../../../lib/personalize/aesthetic.ts";
import { AestheticSession, checkAestheticSettings } from "../../../lib/personalize/aesthetic_session.ts";
import { FIXTURES } from "../../fixtures.ts";

Deno.test("AestheticSession: off-switch, checks, infotext fields and the similarity report", async () => {
  const session = await AestheticSession.open({ modelDir: TINY_DEMO_MODEL_DIR, clipDir: TINY_DEMO_CLIP_DIR });
  try {
    const embedding = { name: "tiny-demo", embedding: await readEmbedding(TINY_DEMO_EMBEDDING) };
    for (const off of [{ steps: 0 }, { lr: 0 }, { weight: 0 }]) {
      assertEquals(
        session.hook(embedding, { ...AESTHETIC_DEFAULTS, ...off }),
        undefined,
        JSON.stringify(off),
      );
    }
    const wide = await readEmbedding(join(FIXTURES, "embeddings", "vitl-f16-768.pt"));
    throws(
      () => session.hook({ name: "wide", embedding: wide }, AESTHETIC_DEFAULTS),
      (e: Error) =>
        e instanceof InputError && /768 dimensions but the CLIP pair .* expects 16/.test(e.message),
    );

    const settings = { ...AESTHETIC_DEFAULTS, steps: 3, lr: 0.01 };
    let similarity: number[][] = [];
    const aesthetic = session.hook(embedding, settings, { sweep: [5], onSimilarity: (s) => similarity = s })!;
    assertEquals(aesthetic.params[3], ["Aesthetic embedding", "tiny-demo"]);
    assertEquals(aesthetic.params[2], ["Aesthetic steps", "3"]);
    const encoder = await ClipTextEncoder.open(TINY_DEMO_MODEL_DIR);
    const { chunks } = promptChunks("a lighthouse", session.tokenizer);
    const z = await encoder.chunkEncoder("last")(chunks[0].ids);
    const out = asHooked(await aesthetic.hook({ z, chunkIds: [chunks[0].ids], negative: false })).z;
    assertEquals(out.length, z.length);
    assertEquals(similarity[0].length, 4, "before each of 3 steps and after the last, though 5 were run");

    const report = await session.apply(z, [chunks[0].ids], embedding.embedding, { ...settings, steps: 0 });
    assertEquals(report.similarity[0].length, 1, "0 steps still report where the prompt starts");
    ok(Math.abs(report.similarity[0][0] - similarity[0][0]) < 1e-6, "the same starting similarity");
    assertEquals(report.conditioning.get(0), z, "0 steps leave the conditioning as it is");
    await encoder.release();
  } finally {
    await session.release();
  }
});

Deno.test("settings checks name the field as the front end calls it", () => {
  throws(
    () => checkAestheticSettings({ ...AESTHETIC_DEFAULTS, steps: 1.5 }, { steps: "--aesthetic_steps" }),
    (e: Error) =>
      e instanceof InputError && e.message === "--aesthetic_steps must be a whole number ≥ 0, got 1.5",
  );
  throws(() => checkAestheticSettings({ ...AESTHETIC_DEFAULTS, lr: -1 }), /lr must be a number ≥ 0/);
});

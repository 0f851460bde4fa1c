// Aesthetic gradients on SDXL through AestheticSession (tests/fixtures/fx_sdxl.py personalize_refs): the paper's
// PyTorch loop on the first encoder (with its pair's projection), on the second (its own projection), and on both;
// the similarity per step, the conditioning (both encoders' penultimate layers side by side), the pooled vector,
// and the images diffusers makes from that conditioning.
import { deepStrictEqual as assertEquals, ok, rejects, throws } from "node:assert";
import { asHooked, type PromptConditioning } from "../../../lib/clip/conditioning_hook.ts";
import { generate } from "../../../lib/diffusion/pipeline.ts";
import type { Embedding } from "../../../lib/io/embedding.ts";
import { InputError } from "../../../lib/io/input_error.ts";
import { AESTHETIC_DEFAULTS } from "../../../lib/personalize/aesthetic.ts";
import { AestheticSession, type NamedEmbedding } from "../../../lib/personalize/aesthetic_session.ts";
import { assertMatches, sdxl, sdxlRefs } from "../diffusion/sdxl_refs.ts";
import { maxAbsDiff, readRef } from "../../fixtures.ts";
import { withSdxlSession } from "./sdxl_pair.ts";

const p = sdxlRefs.personalize;

function embedding(name: string, data: Float32Array): NamedEmbedding {
  const e: Embedding = { data, shape: [data.length], dtype: "float32", format: "pt" };
  return { name, embedding: e };
}

const FIRST = embedding("vit-l", readRef(p.embedding_1));
const SECOND = embedding("bigg", readRef(p.embedding_2));
const SETTINGS = { ...AESTHETIC_DEFAULTS, weight: p.weight, steps: p.steps, lr: p.lr };

const withSession = (fn: (s: AestheticSession) => Promise<void>) => withSdxlSession(p.projection_1, fn);

const CASES: [string, NamedEmbedding[]][] = [["first", [FIRST]], ["second", [SECOND]], ["both", [
  FIRST,
  SECOND,
]]];

for (const [which, embeddings] of CASES) {
  Deno.test(`SDXL personalized (${which} encoder${which === "both" ? "s" : ""}) matches the paper's loop and diffusers`, async () => {
    await withSession(async (session) => {
      let similarity: number[][] = [];
      const aesthetic = session.hook(embeddings, SETTINGS, { onSimilarity: (s) => similarity = s })!;
      assertEquals(
        aesthetic.params.find(([k]) => k === "Aesthetic embedding")?.[1],
        embeddings[0].name,
      );
      assertEquals(aesthetic.params.find(([k]) => k === "Aesthetic embedding 2")?.[1], embeddings[1]?.name);
      let seen: PromptConditioning | undefined;
      const result = await generate(await sdxl(), {
        prompt: p.prompt,
        negativePrompt: "",
        sampler: p.sampler,
        steps: p.denoise_steps,
        cfgScale: p.guidance_scale,
        width: p.width,
        height: p.height,
        seed: p.seed,
        rngSource: "CPU",
      }, {
        conditioning: [aesthetic.hook, (c) => {
          seen = c;
          return Promise.resolve(c.z);
        }],
      });
      const run = p.runs[which];
      const dz = maxAbsDiff(seen!.z, readRef(run.conditioning));
      const dp = maxAbsDiff(seen!.pooled!, readRef(run.pooled));
      const expected = [
        ...which !== "second" ? [p.similarity_1] : [],
        ...which !== "first" ? [p.similarity_2] : [],
      ];
      const ds = maxAbsDiff(similarity.flat(), expected.flat());
      console.log(
        `  conditioning ${dz.toExponential(2)}, pooled ${dp.toExponential(2)}, similarity ${
          ds.toExponential(2)
        }`,
      );
      ok(dz <= 1e-4 && dp <= 1e-4, `conditioning differs by ${dz}, pooled by ${dp}`);
      ok(ds <= 1e-5, `similarity differs by ${ds}`);
      assertMatches(result.images[0], run, `personalized ${which}`);
    });
  });
}

Deno.test("SDXL: embeddings go to the encoder of their width; others are refused by name", async () => {
  await withSession(async (session) => {
    throws(
      () => session.hook([embedding("odd", new Float32Array(5).fill(1))], SETTINGS),
      (e: Error) =>
        e instanceof InputError &&
        /odd: this embedding is 5-d but SDXL takes 6-d for the first/.test(e.message),
    );
    throws(
      () => session.hook([FIRST, embedding("again", FIRST.embedding.data)], SETTINGS),
      /vit-l and again both personalize SDXL's first text encoder/,
    );
    // The prompt's hook call needs both encoders' blocks; the negative prompt's passes through untouched, as
    // the paper keeps the unconditional side frozen.
    const hook = session.hook([SECOND], SETTINGS)!.hook;
    const model = await sdxl();
    const z = new Float32Array(77 * model.hiddenSize).map((_, i) => i % 7);
    const pooled = new Float32Array(8).fill(0.5);
    const pair = { z, chunkIds: [new Int32Array(77)], negative: false };
    await rejects(() => hook(pair), /needs both text encoders' conditioning/);
    const out = asHooked(await hook({ ...pair, negative: true, pooled }));
    ok(out.z === z && out.pooled === pooled, "the negative prompt's conditioning is returned as it came");
  });
});

// Parity of the ONNX personalization with the paper's PyTorch loop (tests/fixtures/fx_refs.py personalize()).
import { deepStrictEqual as assertEquals, equal, ok, rejects } from "node:assert";
import { join } from "node:path";
import { PENULTIMATE, withPenultimateOutput } from "../../../lib/clip/clip_skip.ts";
import { openSession, Tensor } from "../../../lib/onnx/session.ts";
import { gradientTokens, PersonalizationStopped, TextPersonalizer } from "../../../lib/personalize/engine.ts";
import { assertClose, maxAbsDiff, MODELS, readRef, refs } from "../../fixtures.ts";

interface Case {
  name: string;
  model: string;
  input_ids: number[];
  embedding: { file: string; shape: number[] };
  steps: number;
  lr: number;
  similarity: number[];
  conditioning: Record<
    string,
    {
      last_hidden_state: { file: string; shape: number[] };
      penultimate_ln: { file: string; shape: number[] };
    }
  >;
}

const engines = new Map<string, Promise<TextPersonalizer>>();
function engine(model: string, skip: boolean): Promise<TextPersonalizer> {
  const key = `${model}:${skip}`;
  if (!engines.has(key)) {
    const path = join(MODELS, model, "onnx", "text_model.onnx");
    engines.set(
      key,
      TextPersonalizer.load(
        path,
        skip ? { transform: (m) => withPenultimateOutput(m), conditioningOutput: PENULTIMATE } : {},
      ),
    );
  }
  return engines.get(key)!;
}

const opts = { sanitizeResources: false, sanitizeOps: false };

for (const c of refs().personalization as Case[]) {
  // SD 2.x conditions on the penultimate layer; SD 1.x on the last.
  const skip = c.model === "tiny-sd2-clip";
  Deno.test({
    name: `personalization ${c.name} matches PyTorch (similarity 1e-5, conditioning 1e-4)`,
    ...opts,
    fn: async () => {
      const eng = await engine(c.model, skip);
      const keep = Object.keys(c.conditioning).map(Number);
      const r = await eng.personalize(c.input_ids, readRef(c.embedding), { steps: c.steps, lr: c.lr, keep });
      assertClose(r.similarity, c.similarity, 1e-5, "similarity");
      for (const k of keep) {
        const ref = skip ? c.conditioning[k].penultimate_ln : c.conditioning[k].last_hidden_state;
        assertClose(r.conditioning.get(k)!, readRef(ref), 1e-4, `conditioning at step ${k}`);
      }
    },
  });
}

Deno.test({
  name: "similarity rises at every step at the default learning rate",
  ...opts,
  fn: async () => {
    const c = (refs().personalization as Case[]).find((c) => c.name === "sd1-default")!;
    const eng = await engine(c.model, false);
    const r = await eng.personalize(c.input_ids, readRef(c.embedding), { steps: 5, lr: 1e-4 });
    for (let i = 1; i < r.similarity.length; i++) {
      ok(r.similarity[i] > r.similarity[i - 1], `similarity fell at step ${i}: ${r.similarity}`);
    }
  },
});

Deno.test({
  name: "steps 0 or lr 0 give exactly the un-personalized conditioning, and weights are restored after a run",
  ...opts,
  fn: async () => {
    const c = (refs().personalization as Case[]).find((c) => c.name === "sd1-sweep")!;
    const eng = await engine(c.model, false);
    const plain = await openSession(join(MODELS, c.model, "onnx", "text_model.onnx"));
    const ids = new Tensor("int64", BigInt64Array.from(c.input_ids.map(BigInt)), [1, 77]);
    const base = (await plain.run({ input_ids: ids })).last_hidden_state.data as Float32Array;
    const e = readRef(c.embedding);
    await eng.personalize(c.input_ids, e, { steps: 3, lr: 1e-2 });
    for (const o of [{ steps: 0, lr: 1e-3 }, { steps: 4, lr: 0 }]) {
      const r = await eng.personalize(c.input_ids, e, o);
      const d = maxAbsDiff(r.conditioning.get(o.steps)!, base);
      ok(d === 0, `${JSON.stringify(o)} differs from the plain encoder by ${d}`);
    }
  },
});

Deno.test({
  name: "the embedding rows a prompt changed are put back: another prompt then runs as on a fresh model",
  ...opts,
  fn: async () => {
    const c = (refs().personalization as Case[]).find((c) => c.name === "sd1-default")!;
    const e = readRef(c.embedding);
    // Prompt B shares some of A's tokens and not others; A's rows move far at this learning rate.
    const a = c.input_ids;
    const b = [a[0], a[1] + 7, ...a.slice(2)];
    const used = await engine(c.model, false);
    await used.personalize(a, e, { steps: 3, lr: 5e-2 });
    const fresh = await TextPersonalizer.load(join(MODELS, c.model, "onnx", "text_model.onnx"));
    try {
      const [x, y] = [
        await used.personalize(b, e, { steps: 2, lr: 1e-3 }),
        await fresh.personalize(b, e, { steps: 2, lr: 1e-3 }),
      ];
      equal(maxAbsDiff(x.conditioning.get(2)!, y.conditioning.get(2)!), 0);
      assertEquals(x.similarity, y.similarity);
    } finally {
      await fresh.release();
    }
  },
});

Deno.test({
  name: "a stop asked for between Adam steps ends the run there, and the weights are restored",
  ...opts,
  fn: async () => {
    const c = (refs().personalization as Case[]).find((c) => c.name === "sd1-default")!;
    const eng = await engine(c.model, false);
    const e = readRef(c.embedding);
    const before = await eng.personalize(c.input_ids, e, { steps: 2, lr: 1e-2 });
    let polls = 0;
    await rejects(
      eng.personalize(c.input_ids, e, { steps: 50, lr: 1e-2, shouldStop: () => ++polls > 2 }),
      (err: Error) => err instanceof PersonalizationStopped && /before step 3/.test(err.message),
    );
    ok(polls === 3, `polled ${polls} times`);
    const after = await eng.personalize(c.input_ids, e, { steps: 2, lr: 1e-2 });
    ok(
      maxAbsDiff(before.conditioning.get(2)!, after.conditioning.get(2)!) === 0,
      "the next run is unaffected",
    );
  },
});

Deno.test({
  name: "bad input is refused with a clear error",
  ...opts,
  fn: async () => {
    const c = (refs().personalization as Case[])[0];
    const eng = await engine(c.model, false);
    const e = readRef(c.embedding);
    const cases: [Float32Array, { steps: number; lr: number }, RegExp][] = [
      [new Float32Array(768).fill(1), { steps: 1, lr: 1e-4 }, /768-d but the text model .* projects to 16-d/],
      [e.map((x, i) => (i === 3 ? NaN : x)), { steps: 1, lr: 1e-4 }, /NaN or Inf/],
      [e.map((x, i) => (i === 3 ? Infinity : x)), { steps: 1, lr: 1e-4 }, /NaN or Inf/],
      [new Float32Array(16), { steps: 1, lr: 1e-4 }, /zero norm/],
      [e, { steps: -1, lr: 1e-4 }, /steps must be a whole number/],
      [e, { steps: 1, lr: -1 }, /learning rate must be ≥ 0/],
    ];
    for (const [emb, o, pattern] of cases) await rejects(eng.personalize(c.input_ids, emb, o), pattern);
  },
});

Deno.test({
  name: "gradient steps run on the prompt up to its padding, once the model is found causal and EOS-pooled",
  ...opts,
  fn: async () => {
    const pad = (ids: number[], p: number) => [...ids, ...new Array(77 - ids.length).fill(p)];
    equal(gradientTokens(pad([49406, 320, 49407], 49407)), 3); // SD 1.x pads with the end-of-text token
    equal(gradientTokens(pad([49406, 320, 49407], 0)), 4); // SD 2.x with 0 after it
    equal(gradientTokens(Array.from({ length: 77 }, (_, i) => i)), 77);
    equal(gradientTokens(new Array(77).fill(49407)), 1);
    for (const [model, skip] of [["tiny-sd1-clip", false], ["tiny-sd2-clip", true]] as const) {
      ok((await engine(model, skip)).info.prefixOnly, model);
    }
  },
});

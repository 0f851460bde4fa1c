import { deepStrictEqual as assertEquals, rejects, throws } from "node:assert";
import { join } from "node:path";
import { CHUNK_LENGTH, encodeChunks, promptChunks } from "../../../lib/clip/chunks.ts";
import { ClipTextEncoder } from "../../../lib/clip/text_encoder.ts";
import { ClipTokenizer } from "../../../lib/clip/tokenizer.ts";
import { assertClose, MODELS, readRef, refs, type TensorRef } from "../../fixtures.ts";

interface TextEncoderRef {
  model: string;
  prompt: string;
  input_ids: number[];
  outputs: Record<string, TensorRef>;
  hidden_size: number;
}

const entries = refs().text_encoders as TextEncoderRef[];

for (const model of [...new Set(entries.map((e) => e.model))]) {
  Deno.test(`ClipTextEncoder ${model}: every output matches PyTorch within 1e-5`, async () => {
    const enc = await ClipTextEncoder.open(join(MODELS, model), { threads: 1 });
    try {
      for (const e of entries.filter((x) => x.model === model)) {
        assertEquals(enc.hiddenSize, e.hidden_size);
        const out = await enc.encode(Int32Array.from(e.input_ids));
        assertEquals(Object.keys(out.outputs).sort(), Object.keys(e.outputs).sort());
        for (const [name, ref] of Object.entries(e.outputs)) {
          assertClose(out.outputs[name], readRef(ref), 1e-5, `${model} ${e.prompt} ${name}`);
        }
        assertClose(out.lastHiddenState, readRef(e.outputs.last_hidden_state), 1e-5, "last_hidden_state");
        const layers = Object.keys(e.outputs).filter((n) => n.startsWith("hidden_states.")).length - 1;
        if (layers > 0) {
          assertEquals(enc.layers, layers);
          assertClose(
            out.penultimate!,
            readRef(e.outputs[`hidden_states.${layers - 1}`]),
            1e-5,
            "penultimate",
          );
        } else {
          assertEquals(out.penultimate, undefined);
        }
        const pooled = e.outputs.text_embeds ?? e.outputs.pooler_output;
        assertClose(out.pooled!, readRef(pooled), 1e-5, "pooled");
      }
    } finally {
      await enc.release();
    }
  });
}

Deno.test("ClipTextEncoder.open: finds the encoder in diffusers and transformers.js folders", async () => {
  const a = await ClipTextEncoder.open(join(MODELS, "tiny-sd1"), { threads: 1 });
  const b = await ClipTextEncoder.open(join(MODELS, "tiny-sd2-clip"), { threads: 1 });
  assertEquals([a.path.endsWith("text_encoder/model.onnx"), b.path.endsWith("onnx/text_model.onnx")], [
    true,
    true,
  ]);
  throws(() => a.chunkEncoder("penultimate"), /no hidden_states/);
  await Promise.all([a.release(), b.release()]);
  await rejects(ClipTextEncoder.open(join(MODELS, "nope")), /does not exist/);
  await rejects(ClipTextEncoder.open(join(MODELS, "tiny-sd1", "tokenizer")), /no text_encoder\/model.onnx/);
  await rejects(ClipTextEncoder.open(join(MODELS, "tiny-sd1", "unet", "model.onnx")), /not a text encoder/);
});

Deno.test("end to end: 'a (red:1.5) cat' on tiny-sd1 equals A1111's formula on the raw encoder output", async () => {
  const tok = await ClipTokenizer.load(join(MODELS, "tiny-sd1"));
  const enc = await ClipTextEncoder.open(join(MODELS, "tiny-sd1"), { threads: 1 });
  try {
    const { chunks } = promptChunks("a (red:1.5) cat", tok);
    const cond = await encodeChunks(chunks, enc.chunkEncoder());
    // By hand: the ids are those of the plain prompt "a red cat", padded; "red" is token 2.
    const ids = tok.encodePadded("a red cat");
    assertEquals(cond.chunkIds, [ids]);
    const z = (await enc.encode(ids)).lastHiddenState;
    const h = enc.hiddenSize;
    let before = 0;
    let after = 0;
    for (let i = 0; i < z.length; i++) {
      before += z[i];
      after += Math.floor(i / h) === 2 ? z[i] * 1.5 : z[i];
    }
    const expected = Array.from(z, (v, i) => (Math.floor(i / h) === 2 ? v * 1.5 : v) * (before / after));
    assertEquals([cond.tokens, cond.hidden], [CHUNK_LENGTH, h]);
    assertClose(cond.data, expected, 1e-6, "weighted conditioning");
    // The weighting did something: "red" grew relative to "cat".
    const norm = (t: number, v: ArrayLike<number>) =>
      Math.hypot(...Array.from({ length: h }, (_, k) => v[t * h + k]));
    assertEquals(norm(2, cond.data) / norm(3, cond.data) > (norm(2, z) / norm(3, z)) * 1.4, true);
  } finally {
    await enc.release();
  }
});

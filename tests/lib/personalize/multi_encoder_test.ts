// SDXL's two text encoders: the second (with a projection) is personalized in its own columns.
import { ok } from "node:assert";
import { join } from "node:path";
import { ClipTextEncoder } from "../../../lib/clip/text_encoder.ts";
import { ClipTokenizer } from "../../../lib/clip/tokenizer.ts";
import { AESTHETIC_DEFAULTS, AestheticPersonalizer } from "../../../lib/personalize/aesthetic.ts";
import { applyToEncoders } from "../../../lib/personalize/multi_encoder.ts";
import { assertClose, MODELS } from "../../fixtures.ts";

Deno.test({
  name: "tiny-sdxl: text_encoder_2 personalized in its columns, text_encoder's left as they are",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const root = join(MODELS, "tiny-sdxl");
    const tok1 = await ClipTokenizer.load(join(root, "tokenizer"));
    const tok2 = await ClipTokenizer.load(join(root, "tokenizer_2"));
    const enc1 = await ClipTextEncoder.open(join(root, "text_encoder", "model.onnx"));
    const enc2 = await ClipTextEncoder.open(join(root, "text_encoder_2", "model.onnx"));
    const prompt = "a lighthouse in a storm";
    const ids1 = tok1.encodePadded(prompt);
    const ids2 = tok2.encodePadded(prompt);
    // SDXL conditions on the penultimate hidden states of both, side by side.
    const h1 = await enc1.chunkEncoder("penultimate")(ids1);
    const h2 = await enc2.chunkEncoder("penultimate")(ids2);
    const w1 = enc1.hiddenSize, w2 = enc2.hiddenSize;
    const z = new Float32Array(77 * (w1 + w2));
    for (let t = 0; t < 77; t++) {
      z.set(h1.subarray(t * w1, (t + 1) * w1), t * (w1 + w2));
      z.set(h2.subarray(t * w2, (t + 1) * w2), t * (w1 + w2) + w1);
    }
    const p2 = await AestheticPersonalizer.fromTextModel(join(root, "text_encoder_2", "model.onnx"), tok2, {
      conditioningOutput: `hidden_states.${enc2.layers! - 1}`,
    });
    const embedding = Float32Array.from({ length: p2.engine.info.embedDim }, (_, i) => Math.cos(i));
    const settings = { ...AESTHETIC_DEFAULTS, weight: 1, steps: 4, lr: 1e-3 };
    const r = await applyToEncoders(z, [
      { hidden: w1, chunkIds: [ids1] },
      { hidden: w2, chunkIds: [ids2], personalizer: p2, embedding },
    ], settings);
    const alone = await p2.apply(h2, [ids2], embedding, settings);
    const out = r.conditioning.get(4)!;
    const left = new Float32Array(77 * w1), right = new Float32Array(77 * w2);
    for (let t = 0; t < 77; t++) {
      left.set(out.subarray(t * (w1 + w2), t * (w1 + w2) + w1), t * w1);
      right.set(out.subarray(t * (w1 + w2) + w1, (t + 1) * (w1 + w2)), t * w2);
    }
    assertClose(left, h1, 0, "text_encoder's columns");
    assertClose(right, alone.conditioning.get(4)!, 1e-6, "text_encoder_2's columns");
    ok(r.similarity[1]![0].at(-1)! > r.similarity[1]![0][0], "similarity did not rise");
    await p2.release();
  },
});

// Folding decomposed layer norms: every one of an exported CLIP text model's becomes one op that saves its
// statistics, and the model computes what it did.
import { equal } from "node:assert";
import { join } from "node:path";
import { fuseLayerNorms } from "../../../lib/onnx/layer_norm.ts";
import { decodeModel, encodeModel, opsetOf } from "../../../lib/onnx/proto.ts";
import { openSession, Tensor } from "../../../lib/onnx/session.ts";
import { assertClose, MODELS } from "../../fixtures.ts";

for (const file of ["tiny-sd1-clip/onnx/text_model.onnx", "variants/tiny-sd1-text-encoder-opset18.onnx"]) {
  Deno.test(`the layer norms of ${file} fold into LayerNormalization ops, outputs unchanged`, async () => {
    const model = decodeModel(Deno.readFileSync(join(MODELS, file)));
    const count = (m: typeof model, op: string) => m.graph.node.filter((n) => n.opType === op).length;
    // One Sqrt per decomposed layer norm in these exports; the opset 18 one has LayerNormalization ops already.
    const norms = count(model, "Sqrt") + count(model, "LayerNormalization");
    const fused = fuseLayerNorms(model);
    equal(count(fused, "LayerNormalization"), norms);
    equal(
      fused.graph.node.filter((n) => n.opType === "LayerNormalization" && n.output.length === 3).length,
      norms,
    );
    equal(count(fused, "Sqrt") + count(fused, "Pow"), 0);
    equal(opsetOf(fused) >= 17, true);
    const ids = new Tensor(
      "int64",
      BigInt64Array.from([49406, 320, 1125, 539, 49407, ...new Array(72).fill(49407)], BigInt),
      [1, 77],
    );
    const run = async (m: typeof model) => {
      const s = await openSession(encodeModel(m));
      const out = await s.run({ [s.inputNames[0]]: ids });
      return out[s.outputNames[0]].data as Float32Array;
    };
    assertClose(await run(fused), await run(model), 1e-5, "first output");
  });
}

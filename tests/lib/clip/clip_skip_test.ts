// The CLIP-skip rewrite reproduces final_layer_norm(hidden_states[-2]) of every fixture text encoder.
import { join } from "node:path";
import { PENULTIMATE, withPenultimateOutput } from "../../../lib/clip/clip_skip.ts";
import { decodeModel, encodeModel } from "../../../lib/onnx/proto.ts";
import { openSession, Tensor } from "../../../lib/onnx/session.ts";
import { assertClose, MODELS, readRef, refs } from "../../fixtures.ts";

for (const e of refs().text_encoders.filter((e: { prompt: string }) => e.prompt === "plain")) {
  Deno.test(`penultimate layer through the final layer norm of ${e.model}`, async () => {
    const model = withPenultimateOutput(decodeModel(Deno.readFileSync(join(MODELS, e.model))));
    const session = await openSession(encodeModel(model));
    const ids = new Tensor("int64", BigInt64Array.from(e.input_ids.map(BigInt)), [1, 77]);
    const out = await session.run({ [session.inputNames[0]]: ids });
    assertClose(out[PENULTIMATE].data as Float32Array, readRef(e.penultimate_ln), 1e-5, e.model);
  });
}

Deno.test("ClipTextEncoder reads CLIP skip 2 through the rewrite when opened with clipSkip", async () => {
  const { ClipTextEncoder } = await import("../../../lib/clip/text_encoder.ts");
  const e = refs().text_encoders.find((e: { model: string; prompt: string }) =>
    e.model === "tiny-sd1/text_encoder/model.onnx" && e.prompt === "plain"
  );
  const enc = await ClipTextEncoder.open(join(MODELS, "tiny-sd1"), {}, { clipSkip: true });
  const z = await enc.chunkEncoder("clip_skip")(Int32Array.from(e.input_ids));
  assertClose(z, readRef(e.penultimate_ln), 1e-5, "clip skip 2");
  await enc.release();
});

// Finding the pair's projection and grafting it onto a checkpoint's text encoder.
import { ok, throws } from "node:assert";
import { join } from "node:path";
import { decodeModel, encodeModel } from "../../../lib/onnx/proto.ts";
import { openSession, Tensor } from "../../../lib/onnx/session.ts";
import { textProjection, withPairProjection } from "../../../lib/personalize/sources.ts";
import { assertClose, MODELS, readRef, refs } from "../../fixtures.ts";

const load = (p: string) => decodeModel(Deno.readFileSync(join(MODELS, p)));

Deno.test("the SD 1.x encoder with the pair's projection gives the pair's text_embeds", async () => {
  const pair = load("tiny-sd1-clip/onnx/text_model.onnx");
  ok((textProjection(pair).weight.dims ?? []).length === 2, "projection is not a matrix");
  const model = withPairProjection(load("tiny-sd1/text_encoder/model.onnx"), pair);
  const session = await openSession(encodeModel(model));
  const e = refs().text_encoders.find((e: { model: string; prompt: string }) =>
    e.model === "tiny-sd1-clip/onnx/text_model.onnx" && e.prompt === "plain"
  );
  const ids = new Tensor("int64", BigInt64Array.from(e.input_ids.map(BigInt)), [1, 77]);
  const out = await session.run({ input_ids: ids });
  assertClose(out.text_embeds.data as Float32Array, readRef(e.outputs.text_embeds), 1e-5, "text_embeds");
});

Deno.test("a checkpoint whose hidden size differs from the pair's is refused, naming both", () => {
  throws(
    () =>
      withPairProjection(
        load("tiny-sd2/text_encoder/model.onnx"),
        load("tiny-sd1-clip/onnx/text_model.onnx"),
      ),
    /hidden size 12 does not match the CLIP pair's projection input 16/,
  );
});

Deno.test("which layer of the pair matches the checkpoint's conditioning", async () => {
  const { pairLayer, textLayers } = await import("../../../lib/personalize/sources.ts");
  const sd1 = textLayers(join(MODELS, "tiny-sd1", "text_encoder", "config.json"));
  const sd1Pair = textLayers(join(MODELS, "tiny-sd1-clip", "config.json"));
  const sd2 = textLayers(join(MODELS, "tiny-sd2", "text_encoder", "config.json"));
  const sd2Pair = textLayers(join(MODELS, "tiny-sd2-clip", "config.json"));
  const cases: [string, string][] = [
    [pairLayer(sd1, sd1Pair, 1, "clip"), "last"],
    [pairLayer(sd1, sd1Pair, 2, "clip"), "penultimate"],
    [pairLayer(sd2, sd2Pair, 1, "clip"), "penultimate"], // SD 2.x ships its encoder one layer short
    [pairLayer(sd2, sd2Pair, 1, "checkpoint"), "last"],
    [pairLayer(sd1, sd1Pair, 2, "checkpoint"), "penultimate"],
  ];
  cases.forEach(([got, want], i) => {
    ok(got === want, `case ${i}: ${got} != ${want}`);
  });
  throws(() => pairLayer(5, 2, 1, "clip"), /5 layers and the CLIP pair's 2/);
});

// Test helper: a stand-in for the CLIP ViT-L/14 pair of SDXL's first text encoder on tiny-sdxl. Real SDXL's
// text_encoder is ViT-L/14's text model, so its pair is that text model plus a projection; here the fixture's
// text_encoder plus the seeded 6×8 projection that tests/fixtures/fx_sdxl.py personalized with in PyTorch.
import { join } from "node:path";
import { DataType, decodeModel, encodeModel, type ModelProto } from "../../../lib/onnx/proto.ts";
import { makeTensor } from "../../../lib/onnx/tensor_data.ts";
import { withPairProjection } from "../../../lib/personalize/sources.ts";
import { AestheticSession } from "../../../lib/personalize/aesthetic_session.ts";
import { MODELS, readRef, type TensorRef } from "../../fixtures.ts";

/** Writes the pair (config.json, onnx/text_model.onnx with text_embeds) into `dir` and returns it. */
export async function writeFirstEncoderPair(dir: string, projection: TensorRef): Promise<string> {
  const [out, hidden] = projection.shape;
  const encoder = decodeModel(await Deno.readFile(join(MODELS, "tiny-sdxl", "text_encoder", "model.onnx")));
  // Only the projection is read from this model: a Gemm with transB, as torch exports nn.Linear.
  const projector: ModelProto = {
    ...encoder,
    graph: {
      node: [{
        opType: "Gemm",
        input: ["pooled", "W"],
        output: ["text_embeds"],
        attribute: [{ name: "transB", type: 2, i: 1 }],
      }],
      initializer: [makeTensor("W", DataType.FLOAT, [out, hidden], readRef(projection).slice())],
      input: [],
      output: [],
    },
  };
  await Deno.mkdir(join(dir, "onnx"), { recursive: true });
  await Deno.writeFile(
    join(dir, "onnx", "text_model.onnx"),
    encodeModel(withPairProjection(encoder, projector)),
  );
  const text = JSON.parse(await Deno.readTextFile(join(MODELS, "tiny-sdxl", "text_encoder", "config.json")));
  await Deno.writeTextFile(
    join(dir, "config.json"),
    JSON.stringify({
      model_type: "clip",
      projection_dim: out,
      text_config: { ...text, projection_dim: out },
    }),
  );
  return dir;
}

/** An AestheticSession on tiny-sdxl with the first encoder's stand-in pair (`projection`), released after `fn`. */
export async function withSdxlSession(
  projection: TensorRef,
  fn: (s: AestheticSession) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const session = await AestheticSession.open({
    modelDir: join(MODELS, "tiny-sdxl"),
    clipDir: await writeFirstEncoderPair(dir, projection),
    session: { threads: 1 },
  });
  try {
    await fn(session);
  } finally {
    await session.release();
    await Deno.remove(dir, { recursive: true });
  }
}

// The paper's objective as ONNX nodes appended to a CLIP text model: the cosine similarity between the
// projected text embedding and the (already normalized) aesthetic embedding, and the loss −similarity.
import { GraphBuilder } from "../onnx/builder.ts";
import { DataType, type ModelProto, opsetOf } from "../onnx/proto.ts";

export const AESTHETIC_INPUT = "aesthetic_embedding";
export const SIMILARITY = "aesthetic_similarity";
export const LOSS = "aesthetic_loss";

export function withAestheticLoss(model: ModelProto, textEmbeds: string, dim: number): ModelProto {
  if (opsetOf(model) < 13) throw new Error("text models before opset 13 are not supported");
  const b = new GraphBuilder("aesthetic");
  const axis = b.ints([-1]);
  const sq = b.op("ReduceSum", [b.op("Mul", [textEmbeds, textEmbeds]), axis], { keepdims: 1 });
  const unit = b.op("Div", [textEmbeds, b.op("Sqrt", [sq])]);
  b.nodes.push(
    {
      opType: "ReduceSum",
      input: [b.op("Mul", [unit, AESTHETIC_INPUT]), axis],
      output: [SIMILARITY],
      name: "aesthetic/similarity",
      attribute: [{ name: "keepdims", type: 2, i: 0 }],
    },
    { opType: "Neg", input: [SIMILARITY], output: [LOSS], name: "aesthetic/loss" },
  );
  const g = model.graph;
  return {
    ...model,
    graph: {
      ...g,
      node: [...g.node, ...b.nodes],
      initializer: [...g.initializer, ...b.initializers],
      input: [...g.input, {
        name: AESTHETIC_INPUT,
        type: {
          tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: dim }] } },
        },
      }],
      output: [...g.output, { name: SIMILARITY }, { name: LOSS }],
    },
  };
}

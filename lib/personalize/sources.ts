// Which text model gets personalized. "clip": the CLIP pair's text model (what the A1111 extension does, then
// mixed into the checkpoint's conditioning). "checkpoint": the checkpoint's own text encoder, given the pair's
// projection so the objective can be computed — better for fine-tuned checkpoints whose encoder has drifted.
import type { ModelProto, NodeProto, TensorProto } from "../onnx/proto.ts";
import { num } from "../onnx/proto.ts";

export type PersonalizationSource = "clip" | "checkpoint";

/** The pair's text projection: the weight of the MatMul/Gemm that produces text_embeds. */
export function textProjection(pair: ModelProto): { weight: TensorProto; transB: boolean } {
  const producer = new Map<string, NodeProto>();
  for (const n of pair.graph.node) for (const o of n.output) producer.set(o, n);
  const inits = new Map(pair.graph.initializer.map((t) => [t.name!, t]));
  let t = "text_embeds";
  for (let hops = 0; hops < 8; hops++) {
    const n = producer.get(t);
    if (!n) break;
    if (n.opType === "MatMul" || n.opType === "Gemm") {
      const w = inits.get(n.input[1]);
      if (!w) break;
      const transB = n.opType === "Gemm" && num(n.attribute?.find((a) => a.name === "transB")?.i) === 1;
      return { weight: w, transB };
    }
    t = n.input[0];
  }
  throw new Error("cannot find the CLIP pair's text projection before text_embeds");
}

/**
 * The checkpoint's text encoder with the pair's projection applied to its pooled output, exposed as
 * text_embeds, so the encoder itself can be personalized.
 */
export function withPairProjection(encoder: ModelProto, pair: ModelProto): ModelProto {
  const outputs = encoder.graph.output.map((o) => o.name);
  if (!outputs.includes("pooler_output")) {
    throw new Error(`the checkpoint's text encoder has no pooler_output (outputs: ${outputs.join(", ")})`);
  }
  const { weight, transB } = textProjection(pair);
  const [rows, cols] = (weight.dims ?? []).map(num);
  const inDim = transB ? cols : rows;
  const hidden = hiddenOf(encoder);
  if (hidden !== undefined && hidden !== inDim) {
    throw new Error(
      `the checkpoint's text hidden size ${hidden} does not match the CLIP pair's projection input ${inDim}`,
    );
  }
  const name = "aesthetic/pair_text_projection";
  return {
    ...encoder,
    graph: {
      ...encoder.graph,
      node: [
        ...encoder.graph.node,
        transB
          ? {
            opType: "Gemm",
            input: ["pooler_output", name],
            output: ["text_embeds"],
            name: "aesthetic/projection",
            attribute: [{ name: "transB", type: 2, i: 1 }],
          }
          : {
            opType: "MatMul",
            input: ["pooler_output", name],
            output: ["text_embeds"],
            name: "aesthetic/projection",
          },
      ],
      initializer: [...encoder.graph.initializer, { ...weight, name }],
      output: [...encoder.graph.output, {
        name: "text_embeds",
        type: {
          tensorType: {
            elemType: 1,
            shape: { dim: [{ dimParam: "batch_size" }, { dimValue: transB ? rows : cols }] },
          },
        },
      }],
    },
  };
}

function hiddenOf(model: ModelProto): number | undefined {
  const out = model.graph.output.find((o) => o.name === "last_hidden_state");
  const d = out?.type?.tensorType?.shape?.dim?.at(-1)?.dimValue;
  return d === undefined ? undefined : num(d);
}

/**
 * The layer of the personalized model that corresponds to the checkpoint's conditioning. SD 2.x releases ship
 * their text encoder with the last layer already removed, so the full CLIP pair must be read one layer early;
 * CLIP skip moves both back by one more. Layer counts come from the two folders' config.json.
 */
export function pairLayer(
  checkpointLayers: number,
  pairLayers: number,
  clipSkip: number,
  source: PersonalizationSource,
): "last" | "penultimate" {
  if (clipSkip !== 1 && clipSkip !== 2) throw new Error(`CLIP skip must be 1 or 2, got ${clipSkip}`);
  if (source === "checkpoint") return clipSkip === 1 ? "last" : "penultimate";
  const wanted = checkpointLayers - (clipSkip - 1);
  if (wanted === pairLayers) return "last";
  if (wanted === pairLayers - 1) return "penultimate";
  throw new Error(
    `the checkpoint's text encoder has ${checkpointLayers} layers and the CLIP pair's ${pairLayers}: ` +
      `no layer of the pair matches CLIP skip ${clipSkip}`,
  );
}

/** num_hidden_layers of a text encoder folder's config.json (diffusers) or a CLIP pair's text_config. */
export function textLayers(configPath: string): number {
  const config = JSON.parse(Deno.readTextFileSync(configPath));
  const layers = config.text_config?.num_hidden_layers ?? config.num_hidden_layers;
  if (typeof layers !== "number") {
    throw new Error(`${configPath} does not say how many layers the text model has`);
  }
  return layers;
}

// CLIP skip as a graph rewrite: exposes the penultimate layer's hidden state passed through the final layer norm
// (A1111's "CLIP skip 2", and what SD 2.x conditions on) as a new output of a text model that only exports
// last_hidden_state, such as a transformers.js text_model.onnx.
import type { ModelProto, NodeProto } from "../onnx/proto.ts";

export const PENULTIMATE = "penultimate_hidden_state";

const LN_START = new Set(["ReduceMean", "LayerNormalization"]);

export function withPenultimateOutput(model: ModelProto, lastHidden = "last_hidden_state"): ModelProto {
  const g = model.graph;
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const n of g.node) {
    for (const o of n.output) producer.set(o, n);
    for (const i of n.input) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const isLnInput = (t: string) => (consumers.get(t) ?? []).some((n) => LN_START.has(n.opType));

  // The final layer norm: its input is the last LN-start input found walking back from the output (a few hops).
  let finalIn: string | undefined;
  const queue: [string, number][] = [[lastHidden, 0]];
  const seen = new Set<string>();
  while (queue.length) {
    const [t, depth] = queue.shift()!;
    const n = producer.get(t);
    if (!n || seen.has(t) || depth > 12) continue;
    seen.add(t);
    if (n.opType === "MatMul" || n.opType === "Gemm") continue;
    // A decomposed layer norm starts with ReduceMean(x) beside Sub(x, mean); ReduceMean(d²) is inside it.
    const startsNorm = n.opType === "LayerNormalization" ||
      (n.opType === "ReduceMean" && (consumers.get(n.input[0]) ?? []).some((c) => c.opType === "Sub"));
    if (startsNorm) finalIn = n.input[0];
    for (const i of n.input) if (producer.has(i)) queue.push([i, depth + 1]);
  }
  if (!finalIn) throw new Error(`cannot find the final layer norm before ${lastHidden}`);

  // Walk the residual stream back one layer: out = x' + mlp(ln2(x')), x' = x + attn(ln1(x)).
  const residualParent = (t: string): string => {
    const add = producer.get(t);
    const parent = add?.opType === "Add" ? add.input.find(isLnInput) : undefined;
    if (!parent) throw new Error(`cannot follow the residual stream back from ${t}`);
    return parent;
  };
  const penultimate = residualParent(residualParent(finalIn));

  // Clone the final layer norm's nodes (those between its input and the output) onto the penultimate state.
  const forward = new Set([finalIn]);
  const lnNodes: NodeProto[] = [];
  for (const n of g.node) {
    if (n.input.some((i) => forward.has(i))) {
      lnNodes.push(n);
      for (const o of n.output) forward.add(o);
    }
    if (n.output.includes(lastHidden)) break;
  }
  const rename = (t: string) => (t === finalIn ? penultimate : forward.has(t) ? `${t}/penultimate` : t);
  const clones = lnNodes.map((n) => ({
    ...n,
    name: `${n.name ?? n.opType}/penultimate`,
    input: n.input.map(rename),
    output: n.output.map((o) => (o === lastHidden ? PENULTIMATE : rename(o))),
  }));
  return {
    ...model,
    graph: { ...g, node: [...g.node, ...clones], output: [...g.output, { name: PENULTIMATE }] },
  };
}

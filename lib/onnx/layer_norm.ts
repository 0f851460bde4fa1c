// Folds the layer norms torch's exporter writes out op by op before opset 17 (ReduceMean, Sub, Pow 2,
// ReduceMean, Add ε, Sqrt, Div, Mul γ, Add β) into one LayerNormalization node that also outputs its mean and
// inverse standard deviation. onnxruntime fuses the pattern itself in a forward-only graph, but not in a gradient
// graph, where the backward reads the intermediates: there each layer norm would stay nine passes forward and
// some thirty backward; with the fused node its gradient (grad_rules.ts) is a dozen ops on the saved statistics.
import { type ModelProto, type NodeProto, num, opsetOf } from "./proto.ts";
import { readTensor } from "./tensor_data.ts";

const LAYER_NORM_OPSET = 17;

/**
 * The model with every decomposed last-axis layer norm replaced by LayerNormalization (opset raised to 17), and
 * every LayerNormalization outputting its statistics.
 */
export function fuseLayerNorms(model: ModelProto): ModelProto {
  const g = model.graph;
  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const n of g.node) {
    for (const o of n.output) producer.set(o, n);
    for (const i of n.input) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const inits = new Map(g.initializer.map((t) => [t.name!, t]));
  const outputs = new Set(g.output.map((o) => o.name));
  /** The values of a constant (an initializer or a Constant node), or undefined. */
  const constant = (name: string): number[] | undefined => {
    const p = producer.get(name);
    if (p && p.opType !== "Constant") return undefined;
    const value = p?.attribute?.find((a) => ["value", "value_float", "value_ints"].includes(a.name!));
    if (value?.name === "value_float") return [value.f!];
    if (value?.name === "value_ints") return value.ints!.map(num);
    const t = p ? value?.t : inits.get(name);
    return t ? Array.from(readTensor(t).data as ArrayLike<number | bigint>, Number) : undefined;
  };
  const scalar = (name: string): number | undefined => {
    const values = constant(name);
    return values?.length === 1 ? values[0] : undefined;
  };
  /** The single consumer of t with the given op, when t has exactly the consumers expected. */
  const only = (t: string, op: string, count = 1): NodeProto | undefined => {
    const c = consumers.get(t) ?? [];
    if (outputs.has(t) || c.length !== count) return undefined;
    return c.find((n) => n.opType === op);
  };
  const other = (n: NodeProto, known: string) => n.input[0] === known ? n.input[1] : n.input[0];
  /** Whether t is a 1-D weight: an initializer, or one passed through Identity (exporters share equal ones so). */
  const vector = (t: string | undefined): t is string => {
    for (let p = t && producer.get(t); p && p.opType === "Identity"; p = producer.get(t!)) t = p.input[0];
    return t !== undefined && !producer.has(t) && inits.get(t)?.dims?.length === 1;
  };
  const lastAxisMean = (n: NodeProto): boolean => {
    const axes = n.attribute?.find((a) => a.name === "axes")?.ints?.map(num) ??
      (n.input[1] ? constant(n.input[1]) : undefined);
    const keep = n.attribute?.find((a) => a.name === "keepdims")?.i;
    return axes?.length === 1 && axes[0] === -1 && (keep === undefined || num(keep) === 1);
  };

  const removed = new Set<NodeProto>();
  const replacement = new Map<NodeProto, NodeProto>();
  let fused = 0;
  for (const mean of g.node) {
    if (mean.opType !== "ReduceMean" || !lastAxisMean(mean)) continue;
    const x = mean.input[0];
    const sub = only(mean.output[0], "Sub");
    if (!sub || sub.input[0] !== x || sub.input[1] !== mean.output[0]) continue;
    const subUses = consumers.get(sub.output[0]) ?? [];
    const pow = subUses.find((n) => n.opType === "Pow");
    const div = subUses.find((n) => n.opType === "Div");
    if (subUses.length !== 2 || outputs.has(sub.output[0]) || !pow || !div) continue;
    if (pow.input[0] !== sub.output[0] || scalar(pow.input[1]) !== 2 || div.input[0] !== sub.output[0]) {
      continue;
    }
    const variance = only(pow.output[0], "ReduceMean");
    if (!variance || !lastAxisMean(variance)) continue;
    const addEps = only(variance.output[0], "Add");
    const eps = addEps && scalar(other(addEps, variance.output[0]));
    if (!addEps || eps === undefined) continue;
    const sqrt = only(addEps.output[0], "Sqrt");
    if (!sqrt || only(sqrt.output[0], "Div") !== div || div.input[1] !== sqrt.output[0]) continue;
    const scale = only(div.output[0], "Mul");
    const gamma = scale && other(scale, div.output[0]);
    if (!scale || !vector(gamma)) continue;
    const shift = only(scale.output[0], "Add");
    const beta = shift && other(shift, scale.output[0]);
    if (!shift || !vector(beta)) continue;

    const base = shift.output[0];
    replacement.set(mean, {
      opType: "LayerNormalization",
      name: `${shift.name ?? base}/fused_layer_norm`,
      input: [x, gamma, beta],
      output: [base, `${base}/mean`, `${base}/inv_std_dev`],
      attribute: [{ name: "axis", type: 2, i: -1 }, { name: "epsilon", type: 1, f: eps }],
    });
    for (const n of [sub, pow, variance, addEps, sqrt, div, scale, shift]) removed.add(n);
    fused++;
  }
  // Layer norms exported as one op get the statistics outputs too.
  for (const n of g.node) {
    if (n.opType === "LayerNormalization" && n.output.length === 1 && (!n.domain || n.domain === "ai.onnx")) {
      replacement.set(n, {
        ...n,
        output: [n.output[0], `${n.output[0]}/mean`, `${n.output[0]}/inv_std_dev`],
      });
      fused++;
    }
  }
  if (fused === 0) return model;
  const kept = g.node.flatMap((n) => removed.has(n) ? [] : [replacement.get(n) ?? n]);
  // Constants only the folded ops read (the exponent, ε) go too.
  const used = new Set(kept.flatMap((n) => n.input));
  for (const o of g.output) used.add(o.name!);
  const node = kept.filter((n) => n.opType !== "Constant" || n.output.some((o) => used.has(o)));
  const version = Math.max(opsetOf(model), LAYER_NORM_OPSET);
  return {
    ...model,
    opsetImport: model.opsetImport.map((o) => !o.domain || o.domain === "ai.onnx" ? { ...o, version } : o),
    graph: { ...g, node },
  };
}

// Reverse-mode autodiff over an ONNX graph: one walk, backwards over the nodes between the parameters and the
// loss, asking GRAD_RULES for each op's input gradients. The result is a new ONNX model that onnxruntime runs:
// the forward graph, the chosen initializers turned into inputs, and one gradient output per parameter.
import { GraphBuilder } from "./builder.ts";
import { GRAD_RULES, type GradContext } from "./grad_rules.ts";
import { type ProbedTensor, probeTensors } from "./probe.ts";
import { DataType, type ModelProto, type NodeProto, num, opsetOf, type ValueInfoProto } from "./proto.ts";
import type { Tensor } from "./session.ts";

export interface GradientSpec {
  /** The forward model; it is not modified. */
  model: ModelProto;
  /** Initializers to differentiate; they become graph inputs of the same name. */
  params: string[];
  /** A float tensor whose elements are summed into the scalar being differentiated. */
  loss: string;
  /** Example inputs: they fix every shape the gradient graph is built for. */
  feeds: Record<string, Tensor>;
  /**
   * Inputs of other sizes along the axes that may vary (e.g. a shorter sequence): the gradient graph then takes
   * any size along the axes that differ between the two examples, reading those sizes at run time.
   */
  otherFeeds?: Record<string, Tensor>;
  /** Forward tensors to expose as outputs besides the graph's own. */
  extraOutputs?: string[];
  /**
   * Parameters read only through one Gather along axis 0 (embedding tables): instead of a dense gradient, the
   * model outputs the gathered indices and the gradient of each gathered row, so a caller can update only the
   * rows that were used.
   */
  sparse?: string[];
}

export interface SparseGradient {
  /** int64 [n]: the row of each gradient row below. */
  indices: string;
  /** [n, row size]: rows to add into the table at those indices. */
  rows: string;
}

export interface GradientModel {
  model: ModelProto;
  /** Name of the gradient output of each parameter. */
  gradOf: Record<string, string>;
  /** Gradients of the `sparse` parameters, as gathered rows. */
  sparseOf: Record<string, SparseGradient>;
  /** Parameters the loss does not depend on (their gradient is zero and is not computed). */
  unused: string[];
}

const FLOATS = new Set<number>([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16]);
const MIN_OPSET = 16; // ScatterND with reduction="add", the gradient of Gather.

function valueInfo(name: string, t: ProbedTensor): ValueInfoProto {
  const dim = t.dims.map((d, i) => t.varies?.[i] ? { dimParam: `${name}_${i}` } : { dimValue: d });
  return { name, type: { tensorType: { elemType: t.dataType, shape: { dim } } } };
}

export async function buildGradientModel(spec: GradientSpec): Promise<GradientModel> {
  const { model } = spec;
  const graph = model.graph;
  const sourceOpset = opsetOf(model);
  // Raising the opset must not change what the forward ops mean: Softmax, Reduce*, Squeeze and Split changed
  // at 13, and nothing the forward graph uses changed between 13 and 16.
  if (sourceOpset < 13) {
    throw new Error(`models before opset 13 are not supported (this one is opset ${sourceOpset})`);
  }
  const opset = Math.max(sourceOpset, MIN_OPSET);
  const tensors = await probeTensors(model, spec.feeds, spec.otherFeeds);
  const initNames = new Set(graph.initializer.map((t) => t.name!));
  for (const p of spec.params) {
    if (!initNames.has(p)) throw new Error(`${p} is not an initializer of the model`);
    if (!FLOATS.has(tensors.get(p)!.dataType)) throw new Error(`${p} is not a float tensor`);
  }
  if (!tensors.has(spec.loss)) throw new Error(`the model computes no tensor named ${spec.loss}`);

  // Forward: which tensors depend on a parameter through float values.
  const requires = new Set(spec.params);
  const onPath: NodeProto[] = [];
  for (const node of graph.node) {
    if (!node.input.some((i) => requires.has(i))) continue;
    let any = false;
    for (const o of node.output) {
      if (o && FLOATS.has(tensors.get(o)?.dataType ?? 0)) {
        requires.add(o);
        any = true;
      }
    }
    if (any) onPath.push(node);
  }
  if (!requires.has(spec.loss)) throw new Error(`the loss ${spec.loss} does not depend on any parameter`);

  // Backward: only nodes whose outputs reach the loss.
  const reaches = new Set([spec.loss]);
  const backward: NodeProto[] = [];
  for (let i = onPath.length - 1; i >= 0; i--) {
    const node = onPath[i];
    if (!node.output.some((o) => reaches.has(o))) continue;
    backward.push(node);
    for (const inp of node.input) if (requires.has(inp)) reaches.add(inp);
  }

  const b = new GraphBuilder("grad");
  const created = new Map<string, ProbedTensor>();
  const shapeOf = (name: string): number[] => {
    const t = tensors.get(name) ?? created.get(name);
    if (!t) throw new Error(`no static shape known for ${name}`);
    return t.dims;
  };
  const variesOf = (name: string): boolean[] | undefined => (tensors.get(name) ?? created.get(name))?.varies;
  const ctx: GradContext = {
    b,
    opset,
    shape: shapeOf,
    varies: (name, axis) =>
      (axis === undefined ? variesOf(name)?.some((v) => v) : variesOf(name)?.[axis]) ?? false,
    dims: (name) => variesOf(name) ? b.op("Shape", [name]) : b.ints(shapeOf(name)),
    dtype: (name) => (tensors.get(name) ?? created.get(name))?.dataType ?? DataType.FLOAT,
    ints: (name) => {
      const t = tensors.get(name);
      if (!t?.ints) throw new Error(`${name} is not a constant integer tensor of the forward pass`);
      return t.ints;
    },
    unbroadcast: (g, target, gs) => {
      const ts = shapeOf(target);
      if (gs.length === ts.length && gs.every((d, i) => d === ts[i])) return g;
      const lead = gs.length - ts.length;
      const axes = gs.map((_, i) => i).filter((i) => i < lead || (ts[i - lead] === 1 && gs[i] !== 1));
      const summed = axes.length ? b.op("ReduceSum", [g, b.ints(axes)], { keepdims: 1 }) : g;
      return b.op("Reshape", [summed, ctx.dims(target)]);
    },
  };

  // Gradients flow with the shape of the tensor they belong to; record it for names the rules create.
  const grads = new Map<string, string[]>();
  const addGrad = (name: string, g: string) => {
    created.set(g, { dims: shapeOf(name), dataType: ctx.dtype(name), varies: variesOf(name) });
    const list = grads.get(name) ?? [];
    list.push(g);
    grads.set(name, list);
  };
  const gradOfTensor = (name: string): string | undefined => {
    const list = grads.get(name);
    if (!list) return undefined;
    if (list.length > 1) {
      const total = b.op("Sum", list);
      created.set(total, { dims: shapeOf(name), dataType: ctx.dtype(name), varies: variesOf(name) });
      grads.set(name, [total]);
      return total;
    }
    return list[0];
  };

  const sparse = new Set(spec.sparse ?? []);
  const sparseGathers = new Map<string, { indices: string; rows: string }>();
  const loss = tensors.get(spec.loss)!;
  if (loss.varies) throw new Error(`the shape of the loss ${spec.loss} changes with the input sizes`);
  addGrad(
    spec.loss,
    b.const(loss.dataType, loss.dims, new Array(loss.dims.reduce((p, d) => p * d, 1)).fill(1)),
  );
  for (const node of backward) {
    const sparseInput = node.input.find((i) => sparse.has(i));
    if (sparseInput) {
      const axis = node.attribute?.find((a) => a.name === "axis")?.i;
      if (node.opType !== "Gather" || node.input[0] !== sparseInput || num(axis) !== 0) {
        throw new Error(
          `${sparseInput} is read by ${node.opType} (${node.name}), not only by a Gather of its rows`,
        );
      }
      if (sparseGathers.has(sparseInput)) throw new Error(`${sparseInput} is gathered more than once`);
      const g = gradOfTensor(node.output[0]);
      if (g) sparseGathers.set(sparseInput, { indices: node.input[1], rows: g });
      continue;
    }
    const rule = GRAD_RULES[node.opType];
    if (!rule || (node.domain && node.domain !== "ai.onnx")) {
      throw new Error(
        `no gradient rule for ONNX op ${
          node.domain ? node.domain + "." : ""
        }${node.opType} (node ${node.name})`,
      );
    }
    const gy = node.output.map(gradOfTensor);
    const needs = node.input.map((i) => reaches.has(i));
    const gx = rule(node, gy, needs, ctx);
    node.input.forEach((inp, k) => {
      if (needs[k] && gx[k]) addGrad(inp, gx[k]!);
    });
  }

  const gradOf: Record<string, string> = {};
  const unused: string[] = [];
  const outputs: ValueInfoProto[] = [...graph.output];
  const outNames = new Set(outputs.map((o) => o.name));
  for (const name of spec.extraOutputs ?? []) {
    if (!outNames.has(name)) outputs.push(valueInfo(name, tensors.get(name)!));
  }
  const sparseOf: Record<string, SparseGradient> = {};
  for (const [p, { indices, rows }] of sparseGathers) {
    const rowSize = shapeOf(p).slice(1).reduce((a, d) => a * d, 1);
    const flatIdx = b.op("Reshape", [indices, b.ints([-1])]);
    const idx64 = ctx.dtype(indices) === DataType.INT64
      ? flatIdx
      : b.op("Cast", [flatIdx], { to: DataType.INT64 });
    const out = { indices: `grad:${p}:indices`, rows: `grad:${p}:rows` };
    b.nodes.push(
      { opType: "Identity", input: [idx64], output: [out.indices], name: `grad_out:${p}:indices` },
      {
        opType: "Reshape",
        input: [rows, b.ints([-1, rowSize])],
        output: [out.rows],
        name: `grad_out:${p}:rows`,
      },
    );
    outputs.push({ name: out.indices }, { name: out.rows });
    sparseOf[p] = out;
  }
  for (const p of spec.params) {
    if (sparse.has(p)) {
      if (!sparseOf[p]) unused.push(p);
      continue;
    }
    const g = gradOfTensor(p);
    if (!g) {
      unused.push(p);
      continue;
    }
    const out = `grad:${p}`;
    b.nodes.push({ opType: "Identity", input: [g], output: [out], name: `grad_out:${p}` });
    gradOf[p] = out;
    outputs.push(valueInfo(out, tensors.get(p)!));
  }

  const asInputs = initializersToInputs(model, spec.params);
  const newGraph = {
    ...asInputs.graph,
    node: [...graph.node, ...b.nodes],
    initializer: [...asInputs.graph.initializer, ...b.initializers],
    output: outputs,
  };
  const opsetImport = model.opsetImport.map((o) =>
    !o.domain || o.domain === "ai.onnx" ? { ...o, version: opset } : o
  );
  const irVersion = Math.max(num(model.irVersion), 8);
  return { model: { ...model, irVersion, opsetImport, graph: newGraph }, gradOf, sparseOf, unused };
}

/** The same model with the named initializers turned into inputs (fed per run instead of baked in). */
export function initializersToInputs(model: ModelProto, names: string[]): ModelProto {
  const set = new Set(names);
  const inits = model.graph.initializer.filter((t) => set.has(t.name!));
  if (inits.length !== set.size) throw new Error("some parameters are not initializers of the model");
  const inputs: ValueInfoProto[] = inits.map((t) => ({
    name: t.name!,
    type: {
      tensorType: { elemType: t.dataType, shape: { dim: (t.dims ?? []).map((d) => ({ dimValue: num(d) })) } },
    },
  }));
  return {
    ...model,
    graph: {
      ...model.graph,
      initializer: model.graph.initializer.filter((t) => !set.has(t.name!)),
      input: [...model.graph.input, ...inputs],
      valueInfo: [],
    },
  };
}

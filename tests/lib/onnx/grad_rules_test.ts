// Every gradient rule against central finite differences: a one-op graph, loss = Σ(y ⊙ r) with a fixed random r,
// analytic gradients from the built gradient graph, numeric ones from the forward graph.
import { ok } from "node:assert";
import { buildGradientModel, initializersToInputs } from "../../../lib/onnx/autodiff.ts";
import { attribute, type AttrValue } from "../../../lib/onnx/builder.ts";
import { DataType, encodeModel, type ModelProto, type TensorProto } from "../../../lib/onnx/proto.ts";
import { openSession, Tensor } from "../../../lib/onnx/session.ts";
import { makeTensor } from "../../../lib/onnx/tensor_data.ts";

interface Case {
  op: string;
  /** Differentiated inputs: name → shape. */
  params: Record<string, number[]>;
  /** Other inputs, in order with params by `inputs`. */
  consts?: Record<string, { type: number; dims: number[]; values: number[] }>;
  inputs: string[];
  attrs?: Record<string, AttrValue>;
  floatAttrs?: string[];
  outputs?: number;
  opset?: number;
  dtype?: number;
  /** Values for params (default: random in [-1, 1]); positive for Sqrt/Log/Pow. */
  positive?: boolean;
}

let seed = 12345;
function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648 * 2 - 1;
}

const F = DataType.FLOAT;
const D = DataType.DOUBLE;
const I64 = DataType.INT64;

function typed(type: number, values: number[]) {
  if (type === DataType.BOOL) return Uint8Array.from(values);
  return type === D
    ? Float64Array.from(values)
    : type === I64
    ? BigInt64Array.from(values.map(BigInt))
    : Float32Array.from(values);
}

async function check(c: Case) {
  const dtype = c.dtype ?? D;
  const opset = c.opset ?? 17;
  const inits: TensorProto[] = [];
  const values: Record<string, number[]> = {};
  for (const [name, dims] of Object.entries(c.params)) {
    const n = dims.reduce((p, d) => p * d, 1);
    values[name] = Array.from({ length: n }, () => (c.positive ? 0.5 + Math.abs(rand()) : rand()));
    inits.push(makeTensor(name, dtype, dims, typed(dtype, values[name])));
  }
  for (const [name, t] of Object.entries(c.consts ?? {})) {
    inits.push(makeTensor(name, t.type, t.dims, typed(t.type, t.values)));
  }
  const outs = Array.from({ length: c.outputs ?? 1 }, (_, i) => `y${i}`);
  const probeModel = (
    extraNodes: ModelProto["graph"]["node"],
    extraInits: TensorProto[],
    output: string,
  ): ModelProto => ({
    irVersion: 8,
    opsetImport: [{ domain: "", version: opset }],
    graph: {
      name: "t",
      node: [
        {
          opType: c.op,
          input: c.inputs,
          output: outs,
          name: "op",
          attribute: Object.entries(c.attrs ?? {}).map(([k, v]) =>
            attribute(k, v, (c.floatAttrs ?? []).includes(k))
          ),
        },
        ...extraNodes,
      ],
      initializer: [...inits, ...extraInits],
      input: [],
      output: [{ name: output }],
    },
  });
  // Learn the output shape, then weight it by a random r so every element matters.
  const shapeSession = await openSession(encodeModel(probeModel([], [], "y0")));
  const y = (await shapeSession.run({}))["y0"];
  const r = Array.from({ length: y.size }, rand);
  const loss = probeModel(
    [
      { opType: "Mul", input: ["y0", "r"], output: ["yr"], name: "w" },
      {
        opType: "ReduceSum",
        input: ["yr"],
        output: ["loss"],
        name: "s",
        attribute: [attribute("keepdims", 0)],
      },
    ],
    [makeTensor("r", y.type === "float64" ? D : F, [...y.dims], typed(y.type === "float64" ? D : F, r))],
    "loss",
  );
  const params = Object.keys(c.params);
  const grad = await buildGradientModel({ model: loss, params, loss: "loss", feeds: {} });
  const gs = await openSession(encodeModel(grad.model));
  const fs = await openSession(encodeModel(initializersToInputs(loss, params)));
  const feeds = (over: Record<string, number[]> = {}) =>
    Object.fromEntries(
      params.map((
        p,
      ) => [
        p,
        new Tensor(
          dtype === D ? "float64" : "float32",
          typed(dtype, over[p] ?? values[p]) as Float64Array,
          c.params[p],
        ),
      ]),
    );
  const analytic = await gs.run(feeds());
  const exact = dtype === D && y.type === "float64";
  const h = exact ? 1e-6 : 1e-2;
  const tol = exact ? 1e-6 : 2e-2;
  for (const p of params) {
    const got = analytic[grad.gradOf[p]].data as Float64Array;
    for (let i = 0; i < values[p].length; i++) {
      const plus = [...values[p]];
      const minus = [...values[p]];
      plus[i] += h;
      minus[i] -= h;
      const lp = Number((await fs.run(feeds({ [p]: plus }))).loss.data[0]);
      const lm = Number((await fs.run(feeds({ [p]: minus }))).loss.data[0]);
      const numeric = (lp - lm) / (2 * h);
      const err = Math.abs(numeric - got[i]) / Math.max(1, Math.abs(numeric));
      ok(err <= tol, `${c.op}: d/d${p}[${i}] analytic ${got[i]} numeric ${numeric}`);
    }
  }
}

const ints = (values: number[]) => ({ type: I64, dims: [values.length], values });

const CASES: Record<string, Case> = {
  "Add with broadcasting": { op: "Add", params: { a: [2, 3, 4], b: [3, 1] }, inputs: ["a", "b"] },
  "Sub with broadcasting": { op: "Sub", params: { a: [2, 3], b: [3] }, inputs: ["a", "b"] },
  "Mul with broadcasting": { op: "Mul", params: { a: [2, 1, 4], b: [3, 4] }, inputs: ["a", "b"] },
  "Div": { op: "Div", params: { a: [2, 3], b: [2, 3] }, inputs: ["a", "b"], positive: true },
  "Pow (both inputs)": { op: "Pow", params: { a: [5], b: [5] }, inputs: ["a", "b"], positive: true },
  "Pow by a constant 2": {
    op: "Pow",
    params: { a: [2, 3] },
    consts: { two: { type: D, dims: [], values: [2] } },
    inputs: ["a", "two"],
  },
  "Sqrt": { op: "Sqrt", params: { a: [6] }, inputs: ["a"], positive: true },
  "Neg": { op: "Neg", params: { a: [4] }, inputs: ["a"] },
  "Exp": { op: "Exp", params: { a: [4] }, inputs: ["a"] },
  "Log": { op: "Log", params: { a: [4] }, inputs: ["a"], positive: true },
  "Tanh": { op: "Tanh", params: { a: [4] }, inputs: ["a"] },
  "Relu": { op: "Relu", params: { a: [6] }, inputs: ["a"] },
  "Sigmoid": { op: "Sigmoid", params: { a: [2, 3] }, inputs: ["a"] },
  "Erf (float32)": { op: "Erf", params: { a: [6] }, inputs: ["a"], dtype: F },
  "ReduceSum (axes input)": {
    op: "ReduceSum",
    params: { a: [2, 3, 4] },
    consts: { ax: ints([1]) },
    inputs: ["a", "ax"],
    attrs: { keepdims: 0 },
  },
  "ReduceMean (axes attribute, opset 14)": {
    op: "ReduceMean",
    params: { a: [2, 3, 4] },
    inputs: ["a"],
    attrs: { axes: [-1], keepdims: 1 },
    opset: 14,
  },
  "ReduceMean (axes input, opset 18)": {
    op: "ReduceMean",
    params: { a: [2, 3, 4] },
    consts: { ax: ints([0, 2]) },
    inputs: ["a", "ax"],
    attrs: { keepdims: 0 },
    opset: 18,
  },
  "MatMul by a weight matrix": { op: "MatMul", params: { a: [2, 3, 4], w: [4, 5] }, inputs: ["a", "w"] },
  "MatMul batched (attention)": {
    op: "MatMul",
    params: { q: [1, 2, 3, 4], k: [1, 2, 4, 3] },
    inputs: ["q", "k"],
  },
  "Gemm transB with bias": {
    op: "Gemm",
    params: { a: [3, 4], b: [5, 4], c: [5] },
    inputs: ["a", "b", "c"],
    attrs: { transB: 1, alpha: 0.5, beta: 2 },
    floatAttrs: ["alpha", "beta"],
  },
  "Gemm transA": { op: "Gemm", params: { a: [4, 3], b: [4, 5] }, inputs: ["a", "b"], attrs: { transA: 1 } },
  "Transpose": { op: "Transpose", params: { a: [2, 3, 4] }, inputs: ["a"], attrs: { perm: [2, 0, 1] } },
  "Reshape": { op: "Reshape", params: { a: [2, 6] }, consts: { s: ints([3, -1]) }, inputs: ["a", "s"] },
  "Flatten": { op: "Flatten", params: { a: [2, 3, 2] }, inputs: ["a"], attrs: { axis: 1 } },
  "Squeeze": { op: "Squeeze", params: { a: [2, 1, 3] }, consts: { ax: ints([1]) }, inputs: ["a", "ax"] },
  "Unsqueeze": { op: "Unsqueeze", params: { a: [2, 3] }, consts: { ax: ints([0]) }, inputs: ["a", "ax"] },
  "Expand": { op: "Expand", params: { a: [3, 1] }, consts: { s: ints([2, 3, 4]) }, inputs: ["a", "s"] },
  "Cast double to float": { op: "Cast", params: { a: [5] }, inputs: ["a"], attrs: { to: F } },
  "Identity": { op: "Identity", params: { a: [5] }, inputs: ["a"] },
  "Where (mask)": {
    op: "Where",
    params: { x: [2, 3], y: [3] },
    consts: { c: { type: DataType.BOOL, dims: [2, 3], values: [1, 0, 1, 0, 0, 1] } },
    inputs: ["c", "x", "y"],
  },
  "Softmax (last axis)": { op: "Softmax", params: { a: [2, 5] }, inputs: ["a"], attrs: { axis: -1 } },
  "Softmax (middle axis)": { op: "Softmax", params: { a: [2, 4, 3] }, inputs: ["a"], attrs: { axis: 1 } },
  "Gather rows (embedding, repeated ids)": {
    op: "Gather",
    params: { w: [6, 3] },
    consts: { ids: { type: I64, dims: [1, 5], values: [2, 0, 2, 5, 5] } },
    inputs: ["w", "ids"],
  },
  "Gather one row (scalar index)": {
    op: "Gather",
    params: { w: [4, 3] },
    consts: { i: { type: I64, dims: [], values: [1] } },
    inputs: ["w", "i"],
  },
  "GatherND (EOS pooling)": {
    op: "GatherND",
    params: { h: [2, 4, 3] },
    consts: { i: { type: I64, dims: [2, 2], values: [0, 3, 1, 1] } },
    inputs: ["h", "i"],
  },
  "Slice": {
    op: "Slice",
    params: { a: [4, 6] },
    consts: { s: ints([1, -4]), e: ints([3, 100]), ax: ints([0, 1]) },
    inputs: ["a", "s", "e", "ax"],
  },
  "Concat": { op: "Concat", params: { a: [2, 3], b: [2, 1] }, inputs: ["a", "b"], attrs: { axis: 1 } },
  "Split": {
    op: "Split",
    params: { a: [2, 5] },
    consts: { sp: ints([2, 3]) },
    inputs: ["a", "sp"],
    attrs: { axis: 1 },
    outputs: 2,
  },
  "LayerNormalization (fused)": {
    op: "LayerNormalization",
    params: { x: [2, 3, 5], s: [5], b: [5] },
    inputs: ["x", "s", "b"],
    attrs: { axis: -1, epsilon: 1e-5 },
    floatAttrs: ["epsilon"],
  },
  "LayerNormalization (float32, from its saved mean and inverse deviation)": {
    op: "LayerNormalization",
    params: { x: [2, 3, 5], s: [5], b: [5] },
    inputs: ["x", "s", "b"],
    attrs: { axis: -1, epsilon: 1e-5 },
    floatAttrs: ["epsilon"],
    outputs: 3,
    dtype: F,
  },
};

for (const [name, c] of Object.entries(CASES)) {
  Deno.test(`gradient of ${name} matches finite differences`, () => check(c));
}

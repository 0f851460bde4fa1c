// What the gradient builder refuses, each with an error that names the problem.
import { ok, rejects } from "node:assert";
import { buildGradientModel } from "../../../lib/onnx/autodiff.ts";
import { DataType, encodeModel, type ModelProto } from "../../../lib/onnx/proto.ts";
import { openSession, Tensor } from "../../../lib/onnx/session.ts";
import { makeTensor } from "../../../lib/onnx/tensor_data.ts";

function model(op: string, opset = 17): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: opset }],
    graph: {
      name: "t",
      node: [
        { opType: op, input: ["w"], output: ["y"], name: "the_node" },
        { opType: "ReduceSum", input: ["y"], output: ["loss"], name: "sum" },
      ],
      initializer: [
        makeTensor("w", DataType.FLOAT, [3], Float32Array.of(0.1, 0.2, 0.3)),
        makeTensor("c", DataType.FLOAT, [3], Float32Array.of(1, 2, 3)),
      ],
      input: [],
      output: [{ name: "loss" }],
    },
  };
}

Deno.test("an op without a gradient rule is named in the error", () =>
  rejects(
    buildGradientModel({ model: model("Cos"), params: ["w"], loss: "loss", feeds: {} }),
    /ONNX op Cos \(node the_node\)/,
  ));

Deno.test("a parameter that is not an initializer is refused", () =>
  rejects(
    buildGradientModel({ model: model("Neg"), params: ["nope"], loss: "loss", feeds: {} }),
    /nope is not an initializer/,
  ));

Deno.test("a loss that does not depend on the parameters is refused", () =>
  rejects(
    buildGradientModel({ model: model("Neg"), params: ["c"], loss: "loss", feeds: {} }),
    /does not depend on any parameter/,
  ));

Deno.test("models before opset 13 are refused rather than reinterpreted", () =>
  rejects(
    buildGradientModel({ model: model("Neg", 12), params: ["w"], loss: "loss", feeds: {} }),
    /opset 12/,
  ));

Deno.test("an unknown loss tensor is refused", () =>
  rejects(
    buildGradientModel({ model: model("Neg"), params: ["w"], loss: "zzz", feeds: {} }),
    /no tensor named zzz/,
  ));

Deno.test("a sparse embedding gradient equals the dense one, row for row", async () => {
  const build = buildGradientModel;
  const table = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
  const m: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "t",
      node: [
        { opType: "Gather", input: ["w", "ids"], output: ["rows"], name: "g" },
        { opType: "Mul", input: ["rows", "rows"], output: ["sq"], name: "m" },
        { opType: "ReduceSum", input: ["sq"], output: ["loss"], name: "s" },
      ],
      initializer: [
        makeTensor("w", DataType.FLOAT, [4, 3], table),
        makeTensor("ids", DataType.INT64, [5], BigInt64Array.of(2n, 0n, 2n, 3n, 3n)),
      ],
      input: [],
      output: [{ name: "loss" }],
    },
  };
  const dense = await build({ model: m, params: ["w"], loss: "loss", feeds: {} });
  const sparse = await build({ model: m, params: ["w"], loss: "loss", feeds: {}, sparse: ["w"] });
  const w = new Tensor("float32", table, [4, 3]);
  const d = (await (await openSession(encodeModel(dense.model))).run({ w }))[dense.gradOf.w]
    .data as Float32Array;
  const out = await (await openSession(encodeModel(sparse.model))).run({ w });
  const idx = out[sparse.sparseOf.w.indices].data as BigInt64Array;
  const rows = out[sparse.sparseOf.w.rows].data as Float32Array;
  const scattered = new Float32Array(12);
  idx.forEach((i, r) => {
    for (let c = 0; c < 3; c++) scattered[Number(i) * 3 + c] += rows[r * 3 + c];
  });
  for (let i = 0; i < 12; i++) {
    ok(!(Math.abs(scattered[i] - d[i]) > 1e-6), `element ${i}: ${scattered[i]} vs ${d[i]}`);
  }
});

Deno.test("a sparse parameter read by anything but one row Gather is refused", () =>
  rejects(
    buildGradientModel({ model: model("Neg"), params: ["w"], loss: "loss", feeds: {}, sparse: ["w"] }),
    /w is read by Neg \(the_node\), not only by a Gather of its rows/,
  ));

/** A float model of the given nodes whose loss is `loss`, with float inputs of the given shapes (strings vary). */
function graphModel(
  node: ModelProto["graph"]["node"],
  initializer: ModelProto["graph"]["initializer"],
  inputs: Record<string, (number | string)[]>,
): ModelProto {
  const dim = (d: number | string) => typeof d === "number" ? { dimValue: d } : { dimParam: d };
  return {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "t",
      node,
      initializer,
      input: Object.entries(inputs).map(([name, dims]) => ({
        name,
        type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map(dim) } } },
      })),
      output: [{ name: "loss" }],
    },
  };
}

/** A node with integer (or integer-list) attributes. */
function op(opType: string, input: string[], output: string, attrs: Record<string, number | number[]> = {}) {
  const attribute = Object.entries(attrs).map(([name, v]) =>
    Array.isArray(v) ? { name, type: 7, ints: v } : { name, type: 2, i: v }
  );
  return { opType, input, output: [output], name: output, attribute };
}

Deno.test("a gradient graph probed at two lengths takes a third, with the gradients of one built for it", async () => {
  const w = Float32Array.from({ length: 12 }, (_, i) => Math.cos(i + 1) / 2);
  const bias = Float32Array.of(0.1, -0.2, 0.3);
  const m = graphModel(
    [
      op("MatMul", ["x", "w"], "h"),
      op("Add", ["h", "bias"], "hb"),
      op("Softmax", ["hb"], "p", { axis: 1 }),
      op("Reshape", ["p", "flat"], "f"),
      op("Transpose", ["f"], "ft", { perm: [1, 0] }),
      op("ReduceMean", ["ft"], "mean", { axes: [0] }),
      op("Mul", ["ft", "mean"], "y"),
      op("ReduceSum", ["y"], "loss", { keepdims: 0 }),
    ],
    [
      makeTensor("w", DataType.FLOAT, [4, 3], w),
      makeTensor("bias", DataType.FLOAT, [3], bias),
      makeTensor("flat", DataType.INT64, [2], BigInt64Array.of(-1n, 3n)),
    ],
    { x: [1, "L", 4] },
  );
  const x = (n: number) =>
    new Tensor("float32", Float32Array.from({ length: n * 4 }, (_, i) => Math.sin(i)), [1, n, 4]);
  const spec = { model: m, params: ["w", "bias"], loss: "loss" };
  const variable = await buildGradientModel({ ...spec, feeds: { x: x(5) }, otherFeeds: { x: x(3) } });
  const fixed = await buildGradientModel({ ...spec, feeds: { x: x(7) } });
  const run = async (g: typeof fixed) => {
    const out = await (await openSession(encodeModel(g.model))).run({
      x: x(7),
      w: new Tensor("float32", w, [4, 3]),
      bias: new Tensor("float32", bias, [3]),
    });
    return ["w", "bias"].map((p) => out[g.gradOf[p]].data as Float32Array);
  };
  const [a, b] = [await run(variable), await run(fixed)];
  a.forEach((grad, k) =>
    grad.forEach((v, i) => ok(Math.abs(v - b[k][i]) <= 1e-6, `${k}[${i}]: ${v} vs ${b[k][i]}`))
  );
});

Deno.test("a gradient rule that needs a size varying with the inputs is refused", () => {
  const m = graphModel(
    [op("Mul", ["x", "w"], "h"), op("ReduceMean", ["h"], "loss", { keepdims: 0 })],
    [makeTensor("w", DataType.FLOAT, [1], Float32Array.of(2))],
    { x: ["L"] },
  );
  const x = (n: number) => new Tensor("float32", new Float32Array(n).fill(1), [n]);
  return rejects(
    buildGradientModel({
      model: m,
      params: ["w"],
      loss: "loss",
      feeds: { x: x(4) },
      otherFeeds: { x: x(2) },
    }),
    /ReduceMean over an axis whose size varies \(loss\)/,
  );
});

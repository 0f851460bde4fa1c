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

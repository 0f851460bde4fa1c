// What the gradient builder refuses, each with an error that names the problem.
import { buildGradientModel } from "../../../lib/onnx/autodiff.ts";
import { DataType, type ModelProto } from "../../../lib/onnx/proto.ts";
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

async function rejects(p: Promise<unknown>, pattern: RegExp) {
  try {
    await p;
  } catch (e) {
    if (!pattern.test((e as Error).message)) throw new Error(`wrong message: ${(e as Error).message}`);
    return;
  }
  throw new Error("expected an error");
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

// Writes a built network as `<dir>/model.onnx` (opset 17) with its weights in `<dir>/model.onnx_data`, the
// external-data layout large exports use, so onnxruntime and the models registry open it as any export.
import { join } from "node:path";
import { encodeModel, type ModelProto, type ValueInfoProto } from "../proto.ts";
import type { Net } from "./layers.ts";

export type Dim = number | string;

export interface GraphIO {
  name: string;
  /** ONNX element type (DataType). */
  type: number;
  dims: Dim[];
}

export const OPSET = 17;
export const DATA_FILE = "model.onnx_data";

export function valueInfo(io: GraphIO): ValueInfoProto {
  return {
    name: io.name,
    type: {
      tensorType: {
        elemType: io.type,
        shape: { dim: io.dims.map((d) => typeof d === "number" ? { dimValue: d } : { dimParam: d }) },
      },
    },
  };
}

/** Streams the weights, then writes the graph; `progress` gets bytes of weights written. */
export async function writeNet(
  net: Net,
  dir: string,
  inputs: GraphIO[],
  outputs: { io: GraphIO; value: string }[],
  progress?: (bytes: number) => void,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  net.w.writeData(join(dir, DATA_FILE), DATA_FILE, progress);
  const nodes = [...net.b.nodes];
  for (const o of outputs) nodes.push({ opType: "Identity", input: [o.value], output: [o.io.name] });
  const model: ModelProto = {
    irVersion: 8,
    producerName: "aesthetic-gradients",
    producerVersion: "single-file import",
    opsetImport: [{ domain: "", version: OPSET }],
    graph: {
      name: "main",
      node: nodes,
      initializer: net.b.initializers,
      input: inputs.map(valueInfo),
      output: outputs.map((o) => valueInfo(o.io)),
    },
  };
  await Deno.writeFile(join(dir, "model.onnx"), encodeModel(model));
}

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

// protobuf's limit on one message; graphs under it may keep their weights inside.
const INLINE_LIMIT = 2_000_000_000;

/**
 * Streams the weights into model.onnx_data, then writes the graph; `progress` gets bytes of weights written.
 * `inline` keeps weights inside model.onnx instead when they fit under protobuf's 2 GB (as optimum does for
 * text encoders), for graphs that are read into memory and rewritten (personalization of the text encoder).
 */
export async function writeNet(
  net: Net,
  dir: string,
  inputs: GraphIO[],
  outputs: { io: GraphIO; value: string }[],
  progress?: (bytes: number) => void,
  inline = false,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  if (inline && net.w.bytes < INLINE_LIMIT) {
    net.w.inline();
    progress?.(net.w.bytes);
  } else net.w.writeData(join(dir, DATA_FILE), DATA_FILE, progress);
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

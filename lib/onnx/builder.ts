// Emits new ONNX nodes and constants with names that cannot collide with the graph they extend.
import { type AttributeProto, AttrType, DataType, type NodeProto, type TensorProto } from "./proto.ts";
import { makeTensor } from "./tensor_data.ts";

export type AttrValue = number | number[] | string | TensorProto;

export function attribute(name: string, value: AttrValue, float = false): AttributeProto {
  if (typeof value === "string") return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) {
    return float
      ? { name, type: AttrType.FLOATS, floats: value }
      : { name, type: AttrType.INTS, ints: value };
  }
  if (typeof value === "number") {
    return float || !Number.isInteger(value)
      ? { name, type: AttrType.FLOAT, f: value }
      : { name, type: AttrType.INT, i: value };
  }
  return { name, type: AttrType.TENSOR, t: value };
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  #count = 0;

  constructor(private readonly prefix: string) {}

  fresh(hint: string): string {
    return `${this.prefix}/${hint}_${this.#count++}`;
  }

  /** Adds a node and returns its outputs' names. Float-valued attributes are named in floatAttrs. */
  node(
    opType: string,
    inputs: string[],
    outputs: number,
    attrs: Record<string, AttrValue> = {},
    floatAttrs: string[] = [],
  ): string[] {
    const out = Array.from({ length: outputs }, () => this.fresh(opType));
    this.nodes.push({
      opType,
      input: inputs,
      output: out,
      name: this.fresh(`${opType}_node`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v, floatAttrs.includes(k))),
    });
    return out;
  }

  op(
    opType: string,
    inputs: string[],
    attrs: Record<string, AttrValue> = {},
    floatAttrs: string[] = [],
  ): string {
    return this.node(opType, inputs, 1, attrs, floatAttrs)[0];
  }

  const(dataType: number, dims: number[], values: number[]): string {
    const name = this.fresh("const");
    const data = dataType === DataType.DOUBLE
      ? Float64Array.from(values)
      : dataType === DataType.INT64
      ? BigInt64Array.from(values.map(BigInt))
      : Float32Array.from(values);
    this.initializers.push(makeTensor(name, dataType, dims, data));
    return name;
  }

  ints(values: number[]): string {
    return this.const(DataType.INT64, [values.length], values);
  }

  scalar(dataType: number, value: number): string {
    return this.const(dataType, [], [value]);
  }
}

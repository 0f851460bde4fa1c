// ONNX's protobuf messages, declared field by field for protobufjs (the field numbers are the ONNX IR spec's).
// Declaring the schema here, rather than shipping a generated copy of onnx.proto, keeps to the messages a graph
// rewrite touches; protobufjs does the wire format.
import pb from "protobufjs";

const F = (id: number, type: string, rule?: "repeated") => ({ id, type, ...(rule ? { rule } : {}) });

const schema = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: F(1, "string"), value: F(2, "string") } },
        OperatorSetIdProto: { fields: { domain: F(1, "string"), version: F(2, "int64") } },
        TensorShapeProto: {
          fields: { dim: F(1, "Dimension", "repeated") },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ["dimValue", "dimParam"] } },
              fields: { dimValue: F(1, "int64"), dimParam: F(2, "string"), denotation: F(3, "string") },
            },
          },
        },
        TypeProto: {
          fields: {
            tensorType: F(1, "Tensor"),
            sequenceType: F(4, "Sequence"),
            mapType: F(5, "Map"),
            denotation: F(6, "string"),
            sparseTensorType: F(8, "Tensor"),
            optionalType: F(9, "Sequence"),
          },
          nested: {
            Tensor: { fields: { elemType: F(1, "int32"), shape: F(2, "TensorShapeProto") } },
            Sequence: { fields: { elemType: F(1, "TypeProto") } },
            Map: { fields: { keyType: F(1, "int32"), valueType: F(2, "TypeProto") } },
          },
        },
        ValueInfoProto: {
          fields: { name: F(1, "string"), type: F(2, "TypeProto"), docString: F(3, "string") },
        },
        TensorProto: {
          fields: {
            dims: F(1, "int64", "repeated"),
            dataType: F(2, "int32"),
            floatData: F(4, "float", "repeated"),
            int32Data: F(5, "int32", "repeated"),
            stringData: F(6, "bytes", "repeated"),
            int64Data: F(7, "int64", "repeated"),
            name: F(8, "string"),
            rawData: F(9, "bytes"),
            doubleData: F(10, "double", "repeated"),
            uint64Data: F(11, "uint64", "repeated"),
            docString: F(12, "string"),
            externalData: F(13, "StringStringEntryProto", "repeated"),
            dataLocation: F(14, "int32"),
          },
        },
        AttributeProto: {
          fields: {
            name: F(1, "string"),
            f: F(2, "float"),
            i: F(3, "int64"),
            s: F(4, "bytes"),
            t: F(5, "TensorProto"),
            g: F(6, "GraphProto"),
            floats: F(7, "float", "repeated"),
            ints: F(8, "int64", "repeated"),
            strings: F(9, "bytes", "repeated"),
            tensors: F(10, "TensorProto", "repeated"),
            graphs: F(11, "GraphProto", "repeated"),
            docString: F(13, "string"),
            tp: F(14, "TypeProto"),
            typeProtos: F(15, "TypeProto", "repeated"),
            type: F(20, "int32"),
            refAttrName: F(21, "string"),
          },
        },
        NodeProto: {
          fields: {
            input: F(1, "string", "repeated"),
            output: F(2, "string", "repeated"),
            name: F(3, "string"),
            opType: F(4, "string"),
            attribute: F(5, "AttributeProto", "repeated"),
            docString: F(6, "string"),
            domain: F(7, "string"),
          },
        },
        GraphProto: {
          fields: {
            node: F(1, "NodeProto", "repeated"),
            name: F(2, "string"),
            initializer: F(5, "TensorProto", "repeated"),
            docString: F(10, "string"),
            input: F(11, "ValueInfoProto", "repeated"),
            output: F(12, "ValueInfoProto", "repeated"),
            valueInfo: F(13, "ValueInfoProto", "repeated"),
          },
        },
        FunctionProto: {
          fields: {
            name: F(1, "string"),
            input: F(4, "string", "repeated"),
            output: F(5, "string", "repeated"),
            attribute: F(6, "string", "repeated"),
            node: F(7, "NodeProto", "repeated"),
            docString: F(8, "string"),
            opsetImport: F(9, "OperatorSetIdProto", "repeated"),
            domain: F(10, "string"),
            attributeProto: F(11, "AttributeProto", "repeated"),
          },
        },
        ModelProto: {
          fields: {
            irVersion: F(1, "int64"),
            producerName: F(2, "string"),
            producerVersion: F(3, "string"),
            domain: F(4, "string"),
            modelVersion: F(5, "int64"),
            docString: F(6, "string"),
            graph: F(7, "GraphProto"),
            opsetImport: F(8, "OperatorSetIdProto", "repeated"),
            metadataProps: F(14, "StringStringEntryProto", "repeated"),
            functions: F(25, "FunctionProto", "repeated"),
          },
        },
      },
    },
  },
};

const root = pb.Root.fromJSON(schema);
const ModelType = root.lookupType("onnx.ModelProto");

/** protobufjs decodes int64 as Long objects (or numbers when small); both convert with Number(). */
export type Int64 = number | { toNumber(): number };

export const enum DataType {
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  INT32 = 6,
  INT64 = 7,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  BFLOAT16 = 16,
}

export const enum AttrType {
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  GRAPH = 5,
  FLOATS = 6,
  INTS = 7,
  STRINGS = 8,
}

export interface TensorProto {
  name?: string;
  dims?: Int64[];
  dataType?: number;
  rawData?: Uint8Array;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: Int64[];
  doubleData?: number[];
  externalData?: { key: string; value: string }[];
  dataLocation?: number;
}

export interface AttributeProto {
  name: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: AttributeProto[];
}

export interface TypeProto {
  tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: Int64; dimParam?: string }[] } };
}

export interface ValueInfoProto {
  name: string;
  type?: TypeProto;
}

export interface GraphProto {
  name?: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

export interface ModelProto {
  irVersion?: Int64;
  producerName?: string;
  producerVersion?: string;
  graph: GraphProto;
  opsetImport: { domain?: string; version: Int64 }[];
  metadataProps?: { key: string; value: string }[];
}

export function decodeModel(bytes: Uint8Array): ModelProto {
  const msg = ModelType.decode(bytes) as unknown as ModelProto;
  if (!msg.graph) throw new Error("not an ONNX model: no graph in the protobuf");
  msg.graph.node ??= [];
  msg.graph.initializer ??= [];
  msg.graph.input ??= [];
  msg.graph.output ??= [];
  return msg;
}

export function encodeModel(model: ModelProto): Uint8Array {
  return ModelType.encode(model as unknown as Record<string, unknown>).finish();
}

export function num(x: Int64 | undefined): number {
  return x === undefined ? 0 : typeof x === "number" ? x : x.toNumber();
}

/** The default-domain opset the model declares. */
export function opsetOf(model: ModelProto): number {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === "ai.onnx");
  if (!entry) throw new Error("model declares no ai.onnx opset");
  return num(entry.version);
}

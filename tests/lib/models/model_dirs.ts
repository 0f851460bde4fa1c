// Test helpers: model folders in temp dirs built from symlinks to the fixtures, so one part can be removed or
// replaced without copying megabytes; and a tiny ONNX model whose weights live in an external data file.
import { dirname, join, relative } from "node:path";
import { DataType, encodeModel, type ModelProto } from "../../../lib/onnx/proto.ts";
import { makeTensor } from "../../../lib/onnx/tensor_data.ts";
import { MODELS } from "../../fixtures.ts";

/** Mirrors fixture `name` into `dest` with one symlink per file. */
export async function linkFixture(name: string, dest: string): Promise<string> {
  const src = join(MODELS, name);
  async function walk(dir: string) {
    for await (const e of Deno.readDir(dir)) {
      const from = join(dir, e.name);
      const to = join(dest, relative(src, from));
      if (e.isDirectory) {
        await Deno.mkdir(to, { recursive: true });
        await walk(from);
      } else {
        await Deno.mkdir(dirname(to), { recursive: true });
        await Deno.symlink(from, to);
      }
    }
  }
  await Deno.mkdir(dest, { recursive: true });
  await walk(src);
  return dest;
}

/** Replaces a (symlinked) JSON file by an edited copy. */
export async function editJson(path: string, edit: (v: Record<string, unknown>) => void) {
  const v = JSON.parse(await Deno.readTextFile(path));
  edit(v);
  await Deno.remove(path);
  await Deno.writeTextFile(path, JSON.stringify(v, null, 2));
}

/** A 4×4 MatMul model `y = x · W` whose W sits in `dataFile` next to the .onnx, as >2 GB exports store it. */
export function externalDataModel(
  dataFile: string,
  w: Float32Array,
): { model: Uint8Array; data: Uint8Array } {
  const padding = 64; // a non-zero offset checks offsets are honoured
  const data = new Uint8Array(padding + w.byteLength);
  data.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), padding);
  const weight = makeTensor("W", DataType.FLOAT, [4, 4], new Float32Array(0));
  delete weight.rawData;
  weight.dataLocation = 1;
  weight.externalData = [
    { key: "location", value: dataFile },
    { key: "offset", value: String(padding) },
    { key: "length", value: String(w.byteLength) },
  ];
  const f32 = (name: string, dims: number[]) => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "external",
      node: [{ opType: "MatMul", input: ["x", "W"], output: ["y"], name: "mm" }],
      initializer: [weight],
      input: [f32("x", [1, 4])],
      output: [f32("y", [1, 4])],
    },
  };
  return { model: encodeModel(model), data };
}

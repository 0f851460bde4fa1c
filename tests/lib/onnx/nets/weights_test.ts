// Weights streamed from a checkpoint into an external-data file: layout changes (transpose, fused rows, a
// declared view) and dtypes (fp16 kept with a Cast, bf16/fp64 widened to float32) come out as exporters write them.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { encodeFloats } from "../../../../lib/io/float_codec.ts";
import { GraphBuilder } from "../../../../lib/onnx/builder.ts";
import { DataType } from "../../../../lib/onnx/proto.ts";
import { Weights, type WeightSource } from "../../../../lib/onnx/nets/weights.ts";

const m = Float32Array.of(1, 2, 3, 4, 5, 6); // 3 × 2
const bf16 = (values: number[]) => {
  const f = new Uint32Array(Float32Array.from(values).buffer);
  return new Uint8Array(Uint16Array.from(f, (b) => b >>> 16).buffer);
};
const source: WeightSource = {
  info: (k) =>
    ({
      half: { shape: [3, 2], dtype: "float16" },
      single: { shape: [3, 2], dtype: "float32" },
      brain: { shape: [2], dtype: "bfloat16" },
      double: { shape: [2], dtype: "float64" },
    } as Record<string, { shape: number[]; dtype: string }>)[k],
  read: (k) =>
    k === "half"
      ? encodeFloats(m, "float16")
      : k === "single"
      ? encodeFloats(m, "float32")
      : k === "brain"
      ? bf16([1.5, -2])
      : new Uint8Array(Float64Array.of(0.25, 8).buffer),
};

Deno.test("Weights: transposed, row-sliced and viewed tensors; fp16 kept behind a Cast, the rest float32", async () => {
  const b = new GraphBuilder("t");
  const w = new Weights(b, source, true);
  const halfT = w.take("half", { transpose: true, name: "halfT" });
  w.take("single", { rows: [1, 3], transpose: true, name: "rowsT" });
  w.take("single", { dims: [6], name: "flat" });
  w.take("brain");
  w.take("double");
  assertEquals(b.nodes.map((n) => n.opType), ["Cast"]);
  assertEquals(b.nodes[0].output[0], halfT);
  const dir = await Deno.makeTempDir();
  try {
    w.writeData(join(dir, "data"), "data");
    const bytes = await Deno.readFile(join(dir, "data"));
    const value = (name: string) => {
      const t = b.initializers.find((i) => i.name === name)!;
      const e = Object.fromEntries(t.externalData!.map((x) => [x.key, x.value]));
      const raw = bytes.slice(Number(e.offset), Number(e.offset) + Number(e.length));
      const view = new DataView(raw.buffer);
      const n = raw.length / (t.dataType === DataType.FLOAT16 ? 2 : 4);
      return {
        dims: t.dims,
        values: Array.from(
          { length: n },
          (_, i) =>
            t.dataType === DataType.FLOAT16 ? view.getFloat16(i * 2, true) : view.getFloat32(i * 4, true),
        ),
      };
    };
    assertEquals(value("halfT"), { dims: [2, 3], values: [1, 3, 5, 2, 4, 6] });
    assertEquals(value("rowsT"), { dims: [2, 2], values: [3, 5, 4, 6] });
    assertEquals(value("flat"), { dims: [6], values: [1, 2, 3, 4, 5, 6] });
    assertEquals(value("brain"), { dims: [2], values: [1.5, -2] });
    assertEquals(value("double"), { dims: [2], values: [0.25, 8] });
    assertEquals(w.bytes, 6 * 2 + 4 * 4 + 6 * 4 + 2 * 4 + 2 * 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

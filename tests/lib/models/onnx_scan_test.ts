// scanOnnx reads the same interface and initializers as a full decode, without loading weights, and resolves
// external data; onnxruntime opens a model whose weights live in an external file.
import { join } from "node:path";
import { readInitializerPrefix, scanOnnx, UnsafeModelFileError } from "../../../lib/models/onnx_scan.ts";
import { InputError } from "../../../lib/io/input_error.ts";
import { mkfifo, within } from "../../hostile_files.ts";
import { decodeModel, num } from "../../../lib/onnx/proto.ts";
import { openSession, Tensor } from "../../../lib/onnx/session.ts";
import { MODELS } from "../../fixtures.ts";
import { externalDataModel } from "./model_dirs.ts";

function assertEquals(a: unknown, b: unknown, what: string) {
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    throw new Error(`${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
  }
}

for (
  const rel of [
    "tiny-sd1/text_encoder/model.onnx",
    "tiny-sdxl/unet/model.onnx",
    "tiny-sd1-clip/onnx/vision_model.onnx",
  ]
) {
  Deno.test(`scanOnnx ${rel}: same inputs, outputs and initializer bytes as a full decode`, async () => {
    const path = join(MODELS, rel);
    const bytes = await Deno.readFile(path);
    const full = decodeModel(bytes);
    const scan = await scanOnnx(path);
    assertEquals(scan.inputs.map((i) => i.name), full.graph.input.map((i) => i.name), "inputs");
    assertEquals(scan.outputs.map((o) => o.name), full.graph.output.map((o) => o.name), "outputs");
    assertEquals(scan.initializers.length, full.graph.initializer.length, "initializer count");
    full.graph.initializer.forEach((t, i) => {
      const s = scan.initializers[i];
      assertEquals([s.name, s.dims, s.dataType], [t.name, (t.dims ?? []).map(num), t.dataType], `init ${i}`);
      if (t.rawData && t.rawData.length) {
        const span = bytes.subarray(s.raw!.offset, s.raw!.offset + s.raw!.length);
        if (span.length !== t.rawData.length || span.some((b, j) => b !== t.rawData![j])) {
          throw new Error(`raw data span of ${t.name} is wrong`);
        }
      }
    });
  });
}

Deno.test("scanOnnx reports static and symbolic dims", async () => {
  const scan = await scanOnnx(join(MODELS, "tiny-sd1/unet/model.onnx"));
  const ehs = scan.inputs.find((i) => i.name === "encoder_hidden_states")!;
  assertEquals(ehs.dims, ["batch_size", "sequence_length", 16], "encoder_hidden_states");
});

Deno.test("a model with external weight data loads in onnxruntime and scans with its data file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = Float32Array.from({ length: 16 }, (_, i) => i + 1);
    const { model, data } = externalDataModel("model.onnx_data", w);
    await Deno.writeFile(join(dir, "model.onnx"), model);
    await Deno.writeFile(join(dir, "model.onnx_data"), data);
    const session = await openSession(join(dir, "model.onnx"));
    const y = (await session.run({ x: new Tensor("float32", Float32Array.of(1, 0, 0, 1), [1, 4]) })).y;
    // Rows 0 and 3 of W summed: [1..4] + [13..16].
    assertEquals(Array.from(y.data as Float32Array), [14, 16, 18, 20], "x·W");
    await session.release();

    const scan = await scanOnnx(join(dir, "model.onnx"));
    assertEquals(scan.externalFiles, [join(dir, "model.onnx_data")], "external files");
    const [init] = scan.initializers;
    assertEquals(init.external, {
      path: join(dir, "model.onnx_data"),
      location: "model.onnx_data",
      offset: 64,
      length: 64,
    }, "external");
    const head = await readInitializerPrefix(join(dir, "model.onnx"), init, 8);
    assertEquals(Array.from(new Float32Array(head!.slice().buffer)), [1, 2], "prefix");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scanOnnx names the file when it is not ONNX", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "model.onnx");
    await Deno.writeTextFile(path, "this is not a protobuf at all, just text");
    let msg = "";
    await scanOnnx(path).catch((e) => msg = (e as Error).message);
    if (!msg.includes(path) || !msg.includes("not a readable ONNX model")) throw new Error(`got "${msg}"`);
    await Deno.writeFile(path, new Uint8Array(0));
    msg = "";
    await scanOnnx(path).catch((e) => msg = (e as Error).message);
    if (!msg.includes("no graph")) throw new Error(`got "${msg}"`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scanOnnx confines external data to the model's folder, links resolved, and reads only regular files", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = join(root, "unet");
    await Deno.mkdir(join(dir, "sub"), { recursive: true });
    await Deno.writeFile(join(root, "outside.bin"), new Uint8Array(128));
    await Deno.writeFile(join(dir, "sub", "w.bin"), new Uint8Array(128));
    await Deno.symlink(join(dir, "sub", "w.bin"), join(dir, "inner-link.bin"));
    await Deno.symlink(join(root, "outside.bin"), join(dir, "outer-link.bin"));
    await Deno.symlink("/dev/zero", join(dir, "zero.bin"));
    await mkfifo(join(dir, "fifo.bin"));
    const w = new Float32Array(16);
    const scanWith = async (location: string) => {
      await Deno.writeFile(join(dir, "model.onnx"), externalDataModel(location, w).model);
      return await within(5000, location, scanOnnx(join(dir, "model.onnx")));
    };
    // Allowed: a file in the folder or below it, a link that stays inside, a file not there yet.
    for (const location of ["sub/w.bin", "inner-link.bin", "./sub/w.bin", "not-yet.bin"]) {
      const scan = await scanWith(location);
      assertEquals(scan.externalFiles, [join(dir, location)], location);
    }
    const refused: [string, string][] = [
      ["../outside.bin", "is not a path inside the model's folder"],
      ["sub/../../outside.bin", "is not a path inside the model's folder"],
      [join(root, "outside.bin"), "is not a path inside the model's folder"],
      ["outer-link.bin", `resolves to ${await Deno.realPath(join(root, "outside.bin"))}, outside`],
      ["zero.bin", "resolves to /dev/zero, outside the model's folder"],
      ["fifo.bin", "is not a regular file"],
    ];
    for (const [location, why] of refused) {
      let err: unknown;
      await scanWith(location).catch((e) => err = e);
      if (!(err instanceof UnsafeModelFileError) || !(err instanceof InputError)) {
        throw new Error(`${location}: expected UnsafeModelFileError, got ${err}`);
      }
      const msg = (err as Error).message;
      if (!msg.includes(`tensor W's external data "${location}" ${why}`)) {
        throw new Error(`${location}: ${msg}`);
      }
    }
    // The model file itself: a FIFO is refused before it is opened (opening would block).
    let msg = "";
    await within(
      5000,
      "FIFO model",
      scanOnnx(join(dir, "fifo.bin")).catch((e) => msg = (e as Error).message),
    );
    if (!msg.endsWith("fifo.bin is not a regular file")) throw new Error(msg);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

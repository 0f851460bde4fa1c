// The C API session gives onnxruntime-node's results bit for bit, writes preallocated outputs in place (the
// point of it), and refuses what it cannot run with a message that names it.
import { deepStrictEqual as assertEquals, equal, ok, rejects } from "node:assert";
import { join } from "node:path";
import { ffiAvailable, FfiSession } from "../../../lib/onnx/ffi_session.ts";
import { openSession, Tensor } from "../../../lib/onnx/session.ts";
import { MODELS } from "../../fixtures.ts";

const MODEL = join(MODELS, "tiny-sd1-clip", "onnx", "text_model.onnx");
const ids = () =>
  new Tensor(
    "int64",
    BigInt64Array.from([49406, 320, 1125, 539, 49407, ...new Array(72).fill(49407)], BigInt),
    [1, 77],
  );

Deno.test("the C API is reachable here (onnxruntime-node's own library, FFI allowed)", () => {
  ok(ffiAvailable());
});

Deno.test("outputs equal onnxruntime-node's bit for bit, by name or preallocated", async () => {
  const bytes = Deno.readFileSync(MODEL);
  const node = await openSession(MODEL, { threads: 1 });
  const ffi = FfiSession.open(bytes, 1);
  try {
    assertEquals(ffi.inputNames, node.inputNames);
    assertEquals(ffi.outputNames, node.outputNames);
    const want = await node.run({ input_ids: ids() });
    const byName = await ffi.run({ input_ids: ids() }, ["last_hidden_state", "text_embeds"]);
    for (const name of ["last_hidden_state", "text_embeds"]) {
      assertEquals(byName[name].dims, want[name].dims);
      assertEquals(byName[name].data, want[name].data);
    }
    const pre = new Tensor(
      "float32",
      new Float32Array(want.last_hidden_state.data.length),
      want.last_hidden_state.dims,
    );
    const out = await ffi.run({ input_ids: ids() }, { last_hidden_state: pre, text_embeds: null });
    ok(out.last_hidden_state === pre, "a preallocated output comes back as the same tensor");
    assertEquals(pre.data, want.last_hidden_state.data);
    assertEquals(out.text_embeds.data, want.text_embeds.data);
  } finally {
    await node.release();
    await ffi.release();
  }
});

Deno.test("unknown names, missing inputs and wrong shapes are errors that say so", async () => {
  const ffi = FfiSession.open(Deno.readFileSync(MODEL), 1);
  try {
    await rejects(ffi.run({ nope: ids() }, ["text_embeds"]), /no input nope/);
    await rejects(ffi.run({ input_ids: ids() }, ["nope"]), /no output nope/);
    await rejects(ffi.run({}, ["text_embeds"]), /onnxruntime: .*input_ids/i);
    const wrong = new Tensor("float32", new Float32Array(77), [1, 77]);
    await rejects(ffi.run({ input_ids: wrong }, ["text_embeds"]), /onnxruntime: .*(type|tensor)/i);
    await ffi.release();
    await rejects(ffi.run({ input_ids: ids() }, ["text_embeds"]), /released/);
  } finally {
    await ffi.release();
  }
});

Deno.test("a model onnxruntime cannot load is refused with its message", () => {
  let message = "";
  try {
    FfiSession.open(new TextEncoder().encode("not a model"), 1);
  } catch (e) {
    message = (e as Error).message;
  }
  ok(/^onnxruntime: /.test(message), message);
  equal(typeof message, "string");
});

Deno.test("personalization gives the same bits through the C API and through onnxruntime-node", async () => {
  const script = `
    import { TextPersonalizer } from ${
    JSON.stringify(new URL("../../../lib/personalize/engine.ts", import.meta.url).href)
  };
    const engine = await TextPersonalizer.load(${JSON.stringify(MODEL)}, { threads: 1 });
    // deno-lint-ignore no-explicit-any
    const kind = (engine as any).grad.constructor.name;
    const e = Float32Array.from({ length: engine.info.embedDim }, (_, i) => Math.sin(i + 1));
    const ids = [49406, 320, 1125, 539, 49407, ...new Array(72).fill(49407)];
    const r = await engine.personalize(ids, e, { steps: 3, lr: 1e-2 });
    console.log(JSON.stringify({ kind, similarity: r.similarity, conditioning: Array.from(r.conditioning.get(3)!.slice(0, 64)) }));
    await engine.release();
  `;
  const run = async (ffi: string) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-check", script],
      env: { AG_ORT_FFI: ffi },
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  };
  const [viaC, viaNode] = [await run("1"), await run("0")];
  equal(viaC.kind, "FfiSession");
  equal(viaNode.kind, "InferenceSession");
  assertEquals(viaC.similarity, viaNode.similarity);
  assertEquals(viaC.conditioning, viaNode.conditioning);
});

// --device/--threads parsing, and openSession's CPU fallback: on this CPU-only machine, cuda (and the
// platform providers) fall back with one clear line, and the session still runs.
import { deepStrictEqual as assertEquals, ok, throws } from "node:assert";
import { join } from "node:path";
import { deviceFromArgs, parseDevice, parseThreads, sessionOptions } from "../../../lib/models/device.ts";
import { openSession, Tensor } from "../../../lib/onnx/session.ts";
import { MODELS } from "../../fixtures.ts";

const decoder = join(MODELS, "tiny-sd1", "vae_decoder", "model.onnx");

function throwsWith(f: () => unknown, text: string) {
  throws(f, (e: Error) => e.message.includes(text));
}

Deno.test("parseDevice and parseThreads accept the documented values and name bad ones", () => {
  assertEquals([parseDevice(undefined), parseDevice("CUDA"), parseDevice("dml")], ["cpu", "cuda", "dml"]);
  throwsWith(() => parseDevice("gpu"), `unknown --device "gpu": use cpu, cuda, coreml, dml`);
  assertEquals([parseThreads(undefined), parseThreads("4")], [0, 4]);
  throwsWith(() => parseThreads("-1"), "--threads must be a whole number");
  throwsWith(() => parseThreads("2.5"), "--threads must be a whole number");
  const c = deviceFromArgs({ device: "coreml", threads: "2" });
  assertEquals([c.device, c.threads], ["coreml", 2]);
});

Deno.test("cuda on a CPU-only machine falls back to the CPU with one line, once per options object", async () => {
  const lines: string[] = [];
  const opts = sessionOptions({ device: "cuda", threads: 1 }, (l) => lines.push(l));
  const a = await openSession(decoder, opts);
  const b = await openSession(decoder, opts);
  const out = await a.run({
    latent_sample: new Tensor("float32", new Float32Array(4 * 8 * 8), [1, 4, 8, 8]),
  });
  assertEquals(out.sample.dims.join(), "1,3,64,64", `ran wrong: ${out.sample.dims}`);
  await a.release();
  await b.release();
  assertEquals(lines.length, 1, `expected one line, got ${JSON.stringify(lines)}`);
  ok(
    /^cuda is not available \(.+\); running on the CPU instead$/.test(lines[0]) && !lines[0].includes("\n"),
    `unclear message: ${lines[0]}`,
  );
});

Deno.test("coreml and dml fall back too; without onFallback a failing provider is an error as before", async () => {
  for (const device of ["coreml", "dml"] as const) {
    const lines: string[] = [];
    await (await openSession(decoder, sessionOptions({ device, threads: 1 }, (l) => lines.push(l))))
      .release();
    ok(lines[0]?.startsWith(`${device} is not available`), `${device}: ${lines}`);
  }
  let msg = "";
  await openSession(decoder, { device: "cuda" }).catch((e) => msg = (e as Error).message);
  ok(msg.startsWith(`onnxruntime could not load ${decoder}`), `got "${msg}"`);
});

Deno.test("a broken model is an error, not a fallback", async () => {
  const lines: string[] = [];
  let msg = "";
  await openSession(
    new Uint8Array([1, 2, 3]),
    sessionOptions({ device: "cuda", threads: 1 }, (l) => lines.push(l)),
  )
    .catch((e) => msg = (e as Error).message);
  ok(
    msg.startsWith("onnxruntime could not load an in-memory model") && lines.length === 0,
    `got "${msg}" and ${JSON.stringify(lines)}`,
  );
});

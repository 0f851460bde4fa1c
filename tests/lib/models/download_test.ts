// downloadFile's part-file rules: a complete part is only verified, an oversized or corrupt part never becomes
// the file, and the file appears only under its final name when verified.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { downloadFile, IntegrityError } from "../../../lib/models/download.ts";
import { startFakeHub } from "./fake_hub.ts";

const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 31) % 251);
const sha256 = createHash("sha256").update(bytes).digest("hex");
const file = { path: "unet/model.onnx", size: bytes.length, sha256 };
const commit = "2".repeat(40);

async function setup(f: (url: string, endpoint: string, dir: string, log: string[]) => Promise<void>) {
  const hub = await startFakeHub({ "o/r": { commit, refs: ["main"], files: new Map([[file.path, bytes]]) } });
  const dir = await Deno.makeTempDir();
  try {
    await f(`${hub.endpoint}/o/r/resolve/${commit}/${file.path}`, hub.endpoint, dir, hub.log);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
const opts = { repo: "o/r", revision: "main" };

Deno.test("a complete part from an earlier run is verified and renamed without a request", async () => {
  await setup(async (url, endpoint, dir, log) => {
    const dest = join(dir, "model.onnx");
    await Deno.writeFile(`${dest}.part`, bytes);
    await downloadFile(url, file, dest, { endpoint }, opts);
    if (log.length) throw new Error(`requested: ${log}`);
    if (!same(await Deno.readFile(dest), bytes)) throw new Error("wrong bytes");
  });
});

Deno.test("a part longer than the file is discarded and the file downloaded again", async () => {
  await setup(async (url, endpoint, dir) => {
    const dest = join(dir, "model.onnx");
    await Deno.writeFile(`${dest}.part`, new Uint8Array(bytes.length + 10));
    await downloadFile(url, file, dest, { endpoint }, opts);
    if (!same(await Deno.readFile(dest), bytes)) throw new Error("wrong bytes");
  });
});

Deno.test("a resumed part whose first bytes are wrong fails the sha256 and is removed", async () => {
  await setup(async (url, endpoint, dir, log) => {
    const dest = join(dir, "model.onnx");
    await Deno.writeFile(`${dest}.part`, new Uint8Array(1000)); // zeros, not the file's first bytes
    let err: unknown;
    await downloadFile(url, file, dest, { endpoint }, opts).catch((e) => err = e);
    if (!(err instanceof IntegrityError)) throw new Error(`expected IntegrityError, got ${err}`);
    if (!log.some((l) => l.endsWith("bytes=1000-"))) throw new Error("did not resume from the part");
    for (const p of [dest, `${dest}.part`]) {
      if (await Deno.stat(p).then(() => true, () => false)) throw new Error(`${p} left behind`);
    }
  });
});

Deno.test("progress reports reach the file size", async () => {
  await setup(async (url, endpoint, dir) => {
    const seen: number[] = [];
    await downloadFile(url, file, join(dir, "m"), { endpoint }, { ...opts, onProgress: (d) => seen.push(d) });
    if (seen.at(-1) !== bytes.length || seen[0] !== 0) throw new Error(`progress ${seen}`);
  });
});

// The models CLI end to end: list (the embedded demo by default), pull from a fake hub named by HF_ENDPOINT,
// rm, and its error messages and exit codes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { MODELS } from "./fixtures.ts";
import { readTree, startFakeHub } from "./lib/models/fake_hub.ts";
import { runCli } from "./run_cli.ts";

function run(args: string[], env: Record<string, string> = {}) {
  return runCli("models.ts", args, { env });
}

Deno.test("models list: the embedded demo and its CLIP pair, usable, with the demo's hash", async () => {
  const r = await run(["list", "--json"]);
  if (r.code !== 0) throw new Error(r.stderr);
  const { models } = JSON.parse(r.stdout);
  const demo = models.find((m: { name: string }) => m.name === "tiny-demo");
  const clip = models.find((m: { name: string }) => m.name === "tiny-demo-clip");
  if (demo?.kind !== "sd1" || demo.problems.length || demo.clip !== "tiny-demo-clip" || !demo.default) {
    throw new Error(JSON.stringify(demo));
  }
  if (!/^[0-9a-f]{10}$/.test(demo.hash)) throw new Error(`hash ${demo.hash}`);
  if (clip?.kind !== "clip" || clip.dims.projection !== 16) throw new Error(JSON.stringify(clip));
});

Deno.test("models pull / list / rm against a fake hub from HF_ENDPOINT", async () => {
  const files = await readTree(join(MODELS, "tiny-sd1-clip"));
  const commit = "89abcdef0123456789abcdef0123456789abcdef";
  const hub = await startFakeHub({ "someone/clip-tiny": { commit, refs: ["main"], files, token: "hf_ok" } });
  const dir = await Deno.makeTempDir();
  try {
    const env = { HF_ENDPOINT: hub.endpoint, HF_TOKEN: "hf_ok" };
    const pulled = await run(["pull", "someone/clip-tiny", "--models-dir", dir], env);
    if (pulled.code !== 0) throw new Error(pulled.stderr);
    if (!pulled.stdout.includes(`pulled someone/clip-tiny@main (commit ${commit.slice(0, 12)})`)) {
      throw new Error(pulled.stdout);
    }
    if (!pulled.stderr.includes("onnx/text_model.onnx")) {
      throw new Error(`no per-file progress: ${pulled.stderr}`);
    }
    const listed = await run(["list", "--models-dir", dir]);
    if (!/clip-tiny {2}clip {2}text 16, proj 16 {2} {2}ok/.test(listed.stdout)) {
      throw new Error(listed.stdout);
    }

    const again = await run(["pull", "someone/clip-tiny", "--models-dir", dir], env);
    if (again.code !== 1 || !again.stderr.includes("already exists")) throw new Error(again.stderr);
    const noToken = await run(["pull", "someone/clip-tiny", "--models-dir", dir, "--name", "x"], {
      HF_ENDPOINT: hub.endpoint,
    });
    if (noToken.code !== 1 || !noToken.stderr.includes("set HF_TOKEN")) throw new Error(noToken.stderr);
    const missing = await run(["pull", "someone/nothing", "--models-dir", dir], env);
    if (missing.code !== 1 || !missing.stderr.includes("no such repo someone/nothing")) {
      throw new Error(missing.stderr);
    }

    const removed = await run(["rm", "clip-tiny", "--models-dir", dir]);
    if (removed.code !== 0 || [...Deno.readDirSync(dir)].some((e) => e.name === "clip-tiny")) {
      throw new Error(removed.stderr);
    }
    const gone = await run(["rm", "clip-tiny", "--models-dir", dir]);
    if (gone.code !== 1 || !gone.stderr.includes("no model named clip-tiny")) throw new Error(gone.stderr);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("models rm refuses the embedded demo; bad usage exits 2", async () => {
  const demo = await run(["rm", "tiny-demo"]);
  if (demo.code !== 1 || !demo.stderr.includes("embedded demo")) throw new Error(demo.stderr);
  const bad = await run(["frobnicate"]);
  if (bad.code !== 2 || !bad.stderr.includes("usage:")) throw new Error(bad.stderr);
  const noRepo = await run(["pull"]);
  if (noRepo.code !== 2) throw new Error(noRepo.stderr);
});

Deno.test("models providers: the CPU is usable; install-cuda --dry-run shows the plan and changes nothing", async () => {
  const providers = await run(["providers", "--json"]);
  assert.equal(providers.code, 0, providers.stderr);
  const rows: { name: string; state: string }[] = JSON.parse(providers.stdout).providers;
  assert.equal(rows.find((r) => r.name === "cpu")?.state, "usable");
  const list = await run(["list", "--json"]);
  assert.ok(JSON.parse(list.stdout).devices.includes("cpu"));
  if (process.platform !== "linux" || process.arch !== "x64") return;
  const dry = await run(["install-cuda", "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /libonnxruntime_providers_cuda\.so/);
  assert.match(dry.stdout, /--onnxruntime-node-install$/m);
  assert.deepEqual(
    JSON.parse((await run(["providers", "--json"])).stdout).providers,
    JSON.parse(providers.stdout).providers,
  );
});

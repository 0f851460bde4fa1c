// The models CLI end to end: list (the embedded demo by default), pull from a fake hub named by HF_ENDPOINT,
// rm, and its error messages and exit codes.
import { deepStrictEqual as assertEquals, match as assertMatch, ok } from "node:assert";
import { join } from "node:path";
import { MODELS } from "./fixtures.ts";
import { readTree, startFakeHub } from "./lib/models/fake_hub.ts";
import { runCli } from "./run_cli.ts";

function run(args: string[], env: Record<string, string> = {}) {
  return runCli("models.ts", args, { env });
}

Deno.test("models list: the embedded demos and their CLIP pairs, usable, with hashes; the demo world is the default", async () => {
  const r = await run(["list", "--json"]);
  ok(r.code === 0, r.stderr);
  const { models } = JSON.parse(r.stdout);
  for (const [name, projection, isDefault] of [["demo-world", 32, true], ["tiny-demo", 16, false]] as const) {
    const demo = models.find((m: { name: string }) => m.name === name);
    const clip = models.find((m: { name: string }) => m.name === `${name}-clip`);
    ok(
      !(demo?.kind !== "sd1" || demo.problems.length || demo.clip !== `${name}-clip` ||
        demo.default !== isDefault),
      JSON.stringify(demo),
    );
    ok(/^[0-9a-f]{10}$/.test(demo.hash), `hash ${demo.hash}`);
    ok(!(clip?.kind !== "clip" || clip.dims.projection !== projection), JSON.stringify(clip));
  }
});

Deno.test("models pull / list / rm against a fake hub from HF_ENDPOINT", async () => {
  const files = await readTree(join(MODELS, "tiny-sd1-clip"));
  const commit = "89abcdef0123456789abcdef0123456789abcdef";
  const hub = await startFakeHub({ "someone/clip-tiny": { commit, refs: ["main"], files, token: "hf_ok" } });
  const dir = await Deno.makeTempDir();
  try {
    const env = { HF_ENDPOINT: hub.endpoint, HF_TOKEN: "hf_ok" };
    const pulled = await run(["pull", "someone/clip-tiny", "--models-dir", dir], env);
    ok(pulled.code === 0, pulled.stderr);
    ok(
      pulled.stdout.includes(`pulled someone/clip-tiny@main (commit ${commit.slice(0, 12)})`),
      pulled.stdout,
    );
    ok(pulled.stderr.includes("onnx/text_model.onnx"), `no per-file progress: ${pulled.stderr}`);
    const listed = await run(["list", "--models-dir", dir]);
    ok(/clip-tiny {2}clip {2}text 16, proj 16 {2} {2}ok/.test(listed.stdout), listed.stdout);

    const again = await run(["pull", "someone/clip-tiny", "--models-dir", dir], env);
    ok(!(again.code !== 1 || !again.stderr.includes("already exists")), again.stderr);
    const noToken = await run(["pull", "someone/clip-tiny", "--models-dir", dir, "--name", "x"], {
      HF_ENDPOINT: hub.endpoint,
    });
    ok(!(noToken.code !== 1 || !noToken.stderr.includes("set HF_TOKEN")), noToken.stderr);
    const missing = await run(["pull", "someone/nothing", "--models-dir", dir], env);
    ok(!(missing.code !== 1 || !missing.stderr.includes("no such repo someone/nothing")), missing.stderr);

    const removed = await run(["rm", "clip-tiny", "--models-dir", dir]);
    ok(
      !(removed.code !== 0 || [...Deno.readDirSync(dir)].some((e) => e.name === "clip-tiny")),
      removed.stderr,
    );
    const gone = await run(["rm", "clip-tiny", "--models-dir", dir]);
    ok(!(gone.code !== 1 || !gone.stderr.includes("no model named clip-tiny")), gone.stderr);
  } finally {
    await hub.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("models rm refuses the embedded demo; bad usage exits 2", async () => {
  const demo = await run(["rm", "tiny-demo"]);
  ok(!(demo.code !== 1 || !demo.stderr.includes("embedded demo")), demo.stderr);
  const bad = await run(["frobnicate"]);
  ok(!(bad.code !== 2 || !bad.stderr.includes("usage:")), bad.stderr);
  const noRepo = await run(["pull"]);
  ok(noRepo.code === 2, noRepo.stderr);
});

Deno.test("models providers: the CPU is usable; install-cuda --dry-run shows the plan and changes nothing", async () => {
  const providers = await run(["providers", "--json"]);
  assertEquals(providers.code, 0, providers.stderr);
  const rows: { name: string; state: string }[] = JSON.parse(providers.stdout).providers;
  assertEquals(rows.find((r) => r.name === "cpu")?.state, "usable");
  const list = await run(["list", "--json"]);
  ok(JSON.parse(list.stdout).devices.includes("cpu"));
  if (process.platform !== "linux" || process.arch !== "x64") return;
  const dry = await run(["install-cuda", "--dry-run"]);
  assertEquals(dry.code, 0, dry.stderr);
  assertMatch(dry.stdout, /libonnxruntime_providers_cuda\.so/);
  assertMatch(dry.stdout, /--onnxruntime-node-install$/m);
  assertEquals(
    JSON.parse((await run(["providers", "--json"])).stdout).providers,
    JSON.parse(providers.stdout).providers,
  );
});

// pullModel against a fake hub on loopback: the tiny SD 1.x pipeline arrives whole and valid; an interrupted
// file resumes with a Range request; a file whose sha256 differs is refused and no partial model is left;
// 401 and 404 are reported clearly.
import { join } from "node:path";
import { inspectModelDir } from "../../../lib/models/inspect.ts";
import { matchesGlob, pullModel } from "../../../lib/models/pull.ts";
import { MODELS } from "../../fixtures.ts";
import { type FakeHub, type FakeRepo, type Faults, readTree, startFakeHub } from "./fake_hub.ts";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const files = await readTree(join(MODELS, "tiny-sd1"));
const clipFiles = await readTree(join(MODELS, "tiny-sd1-clip"));
// The repo also holds PyTorch weights and a quantized duplicate, which default filters skip.
const withExtras = new Map([...files, ["unet/diffusion_pytorch_model.safetensors", new Uint8Array(10)]]);
const nested = new Map([...clipFiles].map(([k, v]) => [`clip/${k}`, v]));
nested.set("clip/onnx/text_model_quantized.onnx", new Uint8Array(5));

async function withRepos(
  repos: Record<string, FakeRepo>,
  faults: Faults,
  f: (hub: FakeHub, modelsDir: string) => Promise<void>,
) {
  const hub = await startFakeHub(repos, faults);
  const modelsDir = await Deno.makeTempDir();
  try {
    await f(hub, modelsDir);
  } finally {
    await hub.close();
    await Deno.remove(modelsDir, { recursive: true });
  }
}

function withHub(faults: Faults, f: (hub: FakeHub, modelsDir: string) => Promise<void>) {
  return withRepos(
    {
      "demo/tiny-sd": { commit: COMMIT, refs: ["main", "v1"], files: withExtras },
      "demo/private": { commit: COMMIT, refs: ["main"], files: nested, token: "hf_good" },
    },
    faults,
    f,
  );
}

async function rejects(p: Promise<unknown>, text: string): Promise<string> {
  try {
    await p;
  } catch (e) {
    const msg = (e as Error).message;
    if (!msg.includes(text)) throw new Error(`expected "${text}" in: ${msg}`);
    return msg;
  }
  throw new Error(`expected a failure with "${text}"`);
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return [...(await readTree(dir)).keys()].sort();
  } catch {
    return [];
  }
}

Deno.test("pull: the whole pipeline arrives byte for byte, paged listing, LFS through the CDN redirect", async () => {
  await withHub({ pageSize: 5 }, async (hub, modelsDir) => {
    const started: string[] = [];
    const r = await pullModel("demo/tiny-sd@v1", {
      hub: { endpoint: hub.endpoint },
      modelsDir,
      onFileStart: (f) => started.push(f.path),
    });
    if (r.commit !== COMMIT || r.name !== "tiny-sd" || r.files !== files.size) {
      throw new Error(JSON.stringify(r));
    }
    const got = await readTree(join(modelsDir, "tiny-sd"));
    for (const [path, bytes] of files) {
      const g = got.get(path);
      if (!g || g.length !== bytes.length || g.some((b, i) => b !== bytes[i])) {
        throw new Error(`${path} differs`);
      }
    }
    if (got.has("unet/diffusion_pytorch_model.safetensors")) {
      throw new Error("PyTorch weights were not skipped");
    }
    const source = JSON.parse(new TextDecoder().decode(got.get(".hub.json")));
    if (source.commit !== COMMIT || source.revision !== "v1") throw new Error(JSON.stringify(source));
    if (!hub.log.some((l) => l.includes("cursor="))) throw new Error("pagination not followed");
    if (!hub.log.some((l) => l.startsWith("GET /cdn/"))) throw new Error("no CDN redirect followed");
    if (!hub.log.some((l) => l.startsWith(`GET /demo/tiny-sd/resolve/${COMMIT}/`))) {
      throw new Error("not pinned to the commit");
    }
    const entry = await inspectModelDir(join(modelsDir, "tiny-sd"));
    if (entry?.kind !== "sd1" || entry.problems.length) throw new Error(JSON.stringify(entry));
    if (await Deno.stat(join(modelsDir, ".staging")).then(() => true, () => false)) {
      throw new Error("staging left");
    }
  });
});

Deno.test("pull: a subfolder of a private repo with HF_TOKEN; the token never reaches the CDN", async () => {
  await withHub({}, async (hub, modelsDir) => {
    const r = await pullModel("demo/private", {
      hub: { endpoint: hub.endpoint, token: "hf_good" },
      modelsDir,
      subfolder: "clip",
      name: "vit",
    });
    const got = await listDir(r.path);
    if (got.includes("onnx/text_model_quantized.onnx")) throw new Error("quantized duplicate not skipped");
    if (!got.includes("onnx/text_model.onnx") || !got.includes("config.json")) throw new Error(got.join());
    const entry = await inspectModelDir(r.path);
    if (entry?.kind !== "clip" || entry.problems.length) throw new Error(JSON.stringify(entry));
  });
});

Deno.test("pull: a cut connection resumes with a Range request from the part's size", async () => {
  const path = "unet/model.onnx";
  await withHub({ cut: { path, bytes: 100_000, times: 1 } }, async (hub, modelsDir) => {
    await pullModel("demo/tiny-sd", { hub: { endpoint: hub.endpoint }, modelsDir });
    const cdn = hub.log.filter((l) => l.startsWith("GET /cdn/") && l.includes("bytes="));
    if (!cdn.some((l) => l.endsWith("bytes=100000-"))) throw new Error(`no resume: ${hub.log.join("\n")}`);
    const got = await Deno.readFile(join(modelsDir, "tiny-sd", path));
    if (got.length !== files.get(path)!.length) throw new Error("wrong size after resume");
  });
});

Deno.test("pull: interrupted with no retries keeps the part; the next run resumes and completes", async () => {
  // The last large file in listing order, so earlier files finish in the first run.
  const path = [...files].filter(([p, b]) => p.endsWith(".onnx") && b.length > 65_536).at(-1)![0];
  await withHub({ cut: { path, bytes: 65_536, times: 1 } }, async (hub, modelsDir) => {
    const opts = { hub: { endpoint: hub.endpoint }, modelsDir, retries: 0 };
    await rejects(pullModel("demo/tiny-sd", opts), "run the same command again to resume");
    if (await Deno.stat(join(modelsDir, "tiny-sd")).then(() => true, () => false)) {
      throw new Error("partial model");
    }
    const staged = await listDir(join(modelsDir, ".staging"));
    const part = staged.find((p) => p.endsWith(`${path}.part`));
    if (!part) throw new Error(`no part kept: ${staged}`);
    const finished = staged.filter((p) => !p.endsWith(".part")).map((p) => p.split("/").slice(1).join("/"));
    if (finished.length === 0) throw new Error("the first run finished no file; reorder the cut");
    const before = hub.log.length;
    await pullModel("demo/tiny-sd", opts);
    const second = hub.log.slice(before);
    if (!second.some((l) => l.startsWith("GET /cdn/") && l.includes("bytes="))) {
      throw new Error("did not resume");
    }
    // Files finished in the first run are not fetched again.
    const refetched = finished.filter((f) => second.some((l) => l.endsWith(`/resolve/${COMMIT}/${f}`)));
    if (refetched.length) throw new Error(`refetched ${refetched}`);
    if ((await inspectModelDir(join(modelsDir, "tiny-sd")))?.problems.length) {
      throw new Error("invalid model");
    }
  });
});

Deno.test("pull: a file whose sha256 differs is refused and nothing of the model is left", async () => {
  await withHub({ corrupt: "unet/model.onnx" }, async (hub, modelsDir) => {
    await rejects(
      pullModel("demo/tiny-sd", { hub: { endpoint: hub.endpoint }, modelsDir }),
      "unet/model.onnx: sha256",
    );
    const left = [...Deno.readDirSync(modelsDir)].map((e) => e.name);
    if (left.length) throw new Error(`left behind: ${left}`);
  });
});

Deno.test("pull: a small file that differs from its git blob id is refused too", async () => {
  await withHub({ corrupt: "unet/config.json" }, async (hub, modelsDir) => {
    await rejects(
      pullModel("demo/tiny-sd", { hub: { endpoint: hub.endpoint }, modelsDir }),
      "unet/config.json: git blob id",
    );
  });
});

Deno.test("pull: 401 and 404 are explained", async () => {
  await withHub({}, async (hub, modelsDir) => {
    const endpoint = hub.endpoint;
    await rejects(
      pullModel("demo/private", { hub: { endpoint }, modelsDir }),
      "needs a token for demo/private (401)",
    );
    await rejects(
      pullModel("demo/private", { hub: { endpoint, token: "hf_bad" }, modelsDir }),
      "refused HF_TOKEN for demo/private (401)",
    );
    await rejects(pullModel("demo/nothing", { hub: { endpoint }, modelsDir }), "no such repo demo/nothing");
    await rejects(
      pullModel("demo/tiny-sd@v9", { hub: { endpoint }, modelsDir }),
      `demo/tiny-sd has no revision "v9" (404)`,
    );
    await rejects(
      pullModel("demo/tiny-sd", { hub: { endpoint }, modelsDir, subfolder: "nope" }),
      "nope is not in demo/tiny-sd",
    );
    await rejects(pullModel("not a repo", { hub: { endpoint }, modelsDir }), "is not a hub repo id");
    if ([...Deno.readDirSync(modelsDir)].length) throw new Error("a failed pull left files");
  });
});

Deno.test("pull: refuses to replace an existing model folder, and an unreachable hub is named", async () => {
  await withHub({}, async (hub, modelsDir) => {
    await Deno.mkdir(join(modelsDir, "tiny-sd"));
    await rejects(
      pullModel("demo/tiny-sd", { hub: { endpoint: hub.endpoint }, modelsDir }),
      "already exists",
    );
  });
  await rejects(
    pullModel("demo/x", { hub: { endpoint: "http://127.0.0.1:9" }, modelsDir: await Deno.makeTempDir() }),
    "cannot reach the hub at http://127.0.0.1:9",
  );
});

Deno.test("glob filters: names without a slash match file names anywhere; ** spans folders", () => {
  const cases: [string, string, boolean][] = [
    ["unet/model.safetensors", "*.safetensors", true],
    ["onnx/text_model_fp16.onnx", "onnx/*_fp16.onnx", true],
    ["onnx/text_model.onnx", "onnx/*_fp16.onnx", false],
    ["a/b/c.onnx", "**/*.onnx", true],
    ["c.onnx", "**/*.onnx", true],
    ["unet/model.onnx", "unet/*", true],
    ["unet/x/model.onnx", "unet/*", false],
  ];
  for (const [path, pattern, want] of cases) {
    if (matchesGlob(path, pattern) !== want) throw new Error(`${pattern} on ${path}: expected ${want}`);
  }
});

// ---------------------------------------------------------------------------------------- a hostile hub

const small = (text: string) => new TextEncoder().encode(text);

function withRepo(
  repoFiles: Map<string, Uint8Array>,
  faults: Faults,
  f: (hub: FakeHub, modelsDir: string) => Promise<void>,
) {
  return withRepos({ "evil/repo": { commit: COMMIT, refs: ["main"], files: repoFiles } }, faults, f);
}

/** Nothing of a refused pull may stay: no model folder, no staging, no part files. */
function assertNothingLeft(modelsDir: string) {
  const left = [...Deno.readDirSync(modelsDir)].map((e) => e.name);
  if (left.length) throw new Error(`left behind: ${left}`);
}

Deno.test("hostile hub: an endless or overlong answer stops at the listed size and is discarded", async () => {
  for (
    const [faults, text] of [
      [{ endless: "model_index.json" }, "model_index.json: the hub sent more than the 17 bytes it lists"],
      [
        { overlong: { path: "model_index.json", extra: 1 << 20 } },
        "sends 1048593 bytes from byte 0, past the 17",
      ],
    ] as [Faults, string][]
  ) {
    await withRepo(
      new Map([["a.json", small("{}")], ["model_index.json", small('{"_class_name":1}')]]),
      faults,
      async (hub, modelsDir) => {
        await rejects(pullModel("evil/repo", { hub: { endpoint: hub.endpoint }, modelsDir }), text);
        assertNothingLeft(modelsDir);
      },
    );
  }
});

Deno.test("hostile hub: redirects to file: URLs and other schemes are refused, nothing kept", async () => {
  for (const location of ["file:///etc/passwd", "data:,hello", "ftp://127.0.0.1/x"]) {
    const repoFiles = new Map([["a.json", small("{}")], ["unet/model.onnx", new Uint8Array(64)]]);
    await withRepo(repoFiles, { redirect: { path: "unet/model.onnx", location } }, async (hub, modelsDir) => {
      const scheme = new URL(location).protocol;
      await rejects(
        pullModel("evil/repo", { hub: { endpoint: hub.endpoint }, modelsDir }),
        `to a ${scheme} URL; only http(s) is followed`,
      );
      assertNothingLeft(modelsDir);
    });
  }
});

Deno.test("hostile hub: a tree Link that loops is refused", async () => {
  const repoFiles = new Map([["a.json", small("{}")], ["b.json", small("{}")]]);
  await withRepo(repoFiles, { pageSize: 1, pages: "loop" }, async (hub, modelsDir) => {
    await rejects(pullModel("evil/repo", { hub: { endpoint: hub.endpoint }, modelsDir }), "links back to");
    assertNothingLeft(modelsDir);
  });
});

Deno.test("hostile hub: --subfolder matches whole path segments (onnx does not hold onnxevil/)", async () => {
  const repoFiles = new Map([
    ["onnx/config.json", small("{}")],
    ["onnxevil/x.json", small("evil")],
    ["onnx.json", small("evil")],
  ]);
  await withRepo(repoFiles, { treeIgnoresFolder: true }, async (hub, modelsDir) => {
    const r = await pullModel("evil/repo", { hub: { endpoint: hub.endpoint }, modelsDir, subfolder: "onnx" });
    const got = await listDir(r.path);
    if (got.join() !== ".hub.json,config.json") throw new Error(`got ${got}`);
    if (hub.log.some((l) => l.includes("onnxevil"))) throw new Error("fetched a file outside the subfolder");
  });
});

Deno.test("hostile hub: every listed path is checked before anything is downloaded", async () => {
  const unsafe = [
    "../evil.json",
    "a/../../evil.json",
    "/etc/evil.json",
    "a//b.json",
    "./a.json",
    "a\\..\\b",
    "a\nb",
  ];
  for (const path of [...unsafe, "conflict"]) {
    // Safe files first: the old loop downloaded them and left them in staging before reaching the bad one.
    const repoFiles = new Map([["a.json", small("{}")], ["b.json", small("{}")]]);
    if (path === "conflict") repoFiles.set("a.json/c.json", small("{}"));
    else repoFiles.set(path, small("x"));
    await withRepo(repoFiles, {}, async (hub, modelsDir) => {
      await rejects(
        pullModel("evil/repo", { hub: { endpoint: hub.endpoint }, modelsDir }),
        "the hub listed an unsafe path",
      );
      if (hub.log.some((l) => l.includes("/resolve/"))) {
        throw new Error(`${path}: downloaded before checking`);
      }
      assertNothingLeft(modelsDir);
    });
  }
});

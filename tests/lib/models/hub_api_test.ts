// Repo specs, endpoint/token from the environment, token scoping, and the paginated file listing.
import {
  authHeaders,
  endpointFromEnv,
  listFiles,
  parseRepoSpec,
  redirectTarget,
  resolveRevision,
  UnsafeHubError,
} from "../../../lib/models/hub_api.ts";
import { startFakeHub } from "./fake_hub.ts";

const eq = (a: unknown, b: unknown, what: string) => {
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    throw new Error(`${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`);
  }
};

Deno.test("parseRepoSpec: owner/name[@revision]; bad ids are named", () => {
  eq(parseRepoSpec("Xenova/clip-vit-large-patch14"), {
    repo: "Xenova/clip-vit-large-patch14",
    revision: "main",
  }, "plain");
  eq(parseRepoSpec("a/b@refs/pr/3"), { repo: "a/b", revision: "refs/pr/3" }, "revision");
  for (const bad of ["noslash", "a/b/c", "../x", "a/..", "a/b@"]) {
    let threw = false;
    try {
      parseRepoSpec(bad);
    } catch {
      threw = true;
    }
    if (!threw) throw new Error(`accepted ${bad}`);
  }
});

Deno.test("endpointFromEnv honours HF_ENDPOINT and HF_TOKEN; the token goes to the endpoint's origin only", () => {
  const env = (m: Record<string, string>) => ({ get: (k: string) => m[k] });
  eq(endpointFromEnv(env({})), { endpoint: "https://huggingface.co", token: undefined }, "defaults");
  const c = endpointFromEnv(env({ HF_ENDPOINT: "http://mirror.local:8080/", HF_TOKEN: "hf_x" }));
  eq(c, { endpoint: "http://mirror.local:8080", token: "hf_x" }, "env");
  eq(
    authHeaders(c, "http://mirror.local:8080/a/b/resolve/main/x"),
    { authorization: "Bearer hf_x" },
    "same origin",
  );
  eq(authHeaders(c, "https://cdn-lfs.example/x"), {}, "other origin");
});

Deno.test("listFiles follows pagination, gives LFS files their sha256 and small files their git id", async () => {
  const files = new Map([
    ["a/model.onnx", new Uint8Array([1, 2, 3])],
    ["a/config.json", new TextEncoder().encode("{}")],
    ["b/other.json", new Uint8Array(1)],
  ]);
  const commit = "1".repeat(40);
  const hub = await startFakeHub({ "o/r": { commit, refs: ["main"], files } }, { pageSize: 1 });
  try {
    const config = { endpoint: hub.endpoint };
    eq(await resolveRevision(config, "o/r", "main"), commit, "commit");
    const listed = await listFiles(config, "o/r", commit, "a");
    eq(listed.map((f) => [f.path, f.size]), [["a/model.onnx", 3], ["a/config.json", 2]], "files");
    eq(
      listed[0].sha256,
      "039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81",
      "sha256 of 1,2,3",
    );
    // git hash-object of "{}"
    eq(listed[1].gitOid, "9e26dfeeb6e641a33dae4961196235bdb965b21b", "git blob id");
    if (hub.log.filter((l) => l.includes("/tree/")).length !== 2) throw new Error("pagination not followed");
  } finally {
    await hub.close();
  }
});

Deno.test("redirectTarget: http(s) only, never https → http", () => {
  eq(redirectTarget("https://hub.test/a/resolve/x", "/cdn/1"), "https://hub.test/cdn/1", "relative");
  eq(
    redirectTarget("https://hub.test/a", "https://cdn.test/x?s=1"),
    "https://cdn.test/x?s=1",
    "cross-origin https",
  );
  eq(redirectTarget("http://127.0.0.1:1/a", "http://127.0.0.1:2/b"), "http://127.0.0.1:2/b", "http → http");
  eq(redirectTarget("http://127.0.0.1:1/a", "https://x.test/b"), "https://x.test/b", "http → https");
  const refused: [string, string, string][] = [
    ["https://hub.test/a", "http://cdn.test/x", "from https to http"],
    ["https://hub.test/a", "file:///etc/passwd", "to a file: URL"],
    ["http://hub.test/a", "file:///etc/passwd", "to a file: URL"],
    ["https://hub.test/a", "data:,x", "to a data: URL"],
    ["https://hub.test/a", "javascript:alert(1)", "to a javascript: URL"],
    ["https://hub.test/a", "http://[::1", "invalid URL"],
  ];
  for (const [from, to, text] of refused) {
    try {
      redirectTarget(from, to);
    } catch (e) {
      if (e instanceof UnsafeHubError && (e as Error).message.includes(text)) continue;
      throw e;
    }
    throw new Error(`followed ${from} → ${to}`);
  }
});

Deno.test("listFiles: pagination is capped and a self-referencing Link is refused", async () => {
  const files = new Map([["a.json", new Uint8Array(1)], ["b.json", new Uint8Array(1)]]);
  const commit = "3".repeat(40);
  for (const [pages, text] of [["endless", "runs past 5 pages"], ["loop", "links back to"]] as const) {
    const hub = await startFakeHub({ "o/r": { commit, refs: ["main"], files } }, { pageSize: 1, pages });
    try {
      let err: unknown;
      await listFiles({ endpoint: hub.endpoint }, "o/r", commit, "", 5).catch((e) => err = e);
      if (!(err instanceof UnsafeHubError) || !(err as Error).message.includes(text)) {
        throw err ?? new Error(pages);
      }
      if (hub.log.length > 5) throw new Error(`${pages}: ${hub.log.length} requests`);
    } finally {
      await hub.close();
    }
  }
});

Deno.test("the API calls follow redirects by the same rules: a file: URL is refused, a same-hub one followed", async () => {
  const commit = "4".repeat(40);
  const repos = { "o/r": { commit, refs: ["main"], files: new Map([["a.json", new Uint8Array(1)]]) } };
  for (const location of ["file:///etc/passwd", "data:application/json,{}"]) {
    const hub = await startFakeHub(repos, { apiRedirect: location });
    try {
      let err: unknown;
      await resolveRevision({ endpoint: hub.endpoint }, "o/r", "main").catch((e) => err = e);
      if (!(err instanceof UnsafeHubError) || !(err as Error).message.includes("only http(s) is followed")) {
        throw err ?? new Error(`followed ${location}`);
      }
    } finally {
      await hub.close();
    }
  }
  const target = await startFakeHub(repos);
  const hub = await startFakeHub(repos, { apiRedirect: `${target.endpoint}/api/models/o/r/revision/main` });
  try {
    eq(await resolveRevision({ endpoint: hub.endpoint }, "o/r", "main"), commit, "followed to the other hub");
  } finally {
    await hub.close();
    await target.close();
  }
});

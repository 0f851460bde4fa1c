// A Hugging Face hub stand-in on loopback with the real URL shapes and headers: the revision and tree APIs
// (paginated), /resolve/ answering LFS files with a 302 to a "CDN" path (X-Linked-Etag, X-Linked-Size,
// X-Repo-Commit, ETag) and small files directly, Range support (206, Accept-Ranges), tokens, X-Error-Code 404s,
// and faults: a stream cut after N bytes, corrupted bytes; and a hostile hub's tricks: endless bodies, redirects
// to other schemes, looping or endless pagination, a tree that ignores the folder asked for.
import { createHash } from "node:crypto";

export interface FakeRepo {
  commit: string;
  /** Branch or tag names that resolve to the commit. */
  refs: string[];
  files: Map<string, Uint8Array>;
  /** Token the repo requires (private). */
  token?: string;
}

export interface Faults {
  /** Cut the CDN stream of this path after `bytes`, for the first `times` requests. */
  cut?: { path: string; bytes: number; times: number };
  /** Serve this path with one byte flipped (the listing keeps the true sha256). */
  corrupt?: string;
  /** Tree API page size (forces the Link header). */
  pageSize?: number;
  /** Answer this path with an endless stream of bytes (no Content-Length). */
  endless?: string;
  /** Answer this path with a declared Content-Length this much larger than the file. */
  overlong?: { path: string; extra: number };
  /** Answer /resolve/ of this path with a 302 to this location (e.g. file:///etc/passwd). */
  redirect?: { path: string; location: string };
  /** Answer the revision API with a 302 to this location. */
  apiRedirect?: string;
  /** Tree pages link to themselves ("loop") or to one more empty page forever ("endless"). */
  pages?: "loop" | "endless";
  /** The tree API lists every file of the repo whatever folder was asked for. */
  treeIgnoresFolder?: boolean;
}

export interface FakeHub {
  endpoint: string;
  /** "GET <path> [range]" for every request. */
  log: string[];
  close(): Promise<void>;
}

const isLfs = (path: string) => path.endsWith(".onnx") || path.endsWith(".onnx_data");
const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const gitOid = (b: Uint8Array) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");

export function startFakeHub(repos: Record<string, FakeRepo>, faults: Faults = {}): Promise<FakeHub> {
  const log: string[] = [];
  let cuts = 0;
  const byHash = new Map<string, { repo: string; path: string; bytes: Uint8Array }>();
  for (const [repo, r] of Object.entries(repos)) {
    for (const [path, bytes] of r.files) if (isLfs(path)) byHash.set(sha256(bytes), { repo, path, bytes });
  }

  /** The hub's answer when `r` is missing (404) or its token is not presented (401); undefined to go on. */
  function refuse(r: FakeRepo | undefined, req: Request): Response | undefined {
    if (!r) {
      return new Response("Repository not found", {
        status: 404,
        headers: { "x-error-code": "RepoNotFound" },
      });
    }
    if (!r.token) return undefined;
    const auth = req.headers.get("authorization");
    if (auth !== `Bearer ${r.token}`) {
      return new Response("Unauthorized", {
        status: 401,
        headers: { "x-error-code": auth ? "" : "RepoNotFound" },
      });
    }
  }

  function serveBytes(
    req: Request,
    bytes: Uint8Array,
    path: string,
    extra: Record<string, string>,
  ): Response {
    if (faults.endless === path) {
      const block = new Uint8Array(1 << 16).fill(0x41);
      const endless = new ReadableStream<Uint8Array>({ pull: (c) => c.enqueue(block) });
      return new Response(endless, { headers: { "content-type": "application/octet-stream", ...extra } });
    }
    if (faults.overlong?.path === path) {
      const declared = bytes.length + faults.overlong.extra;
      return new Response(new Uint8Array(declared), {
        headers: { "content-length": String(declared), ...extra },
      });
    }
    if (faults.corrupt === path) {
      bytes = bytes.slice();
      bytes[bytes.length >> 1] ^= 0xff;
    }
    const range = req.headers.get("range")?.match(/^bytes=(\d+)-$/);
    const start = range ? Number(range[1]) : 0;
    if (start > bytes.length || (range && start === bytes.length)) {
      return new Response(null, { status: 416, headers: { "content-range": `bytes */${bytes.length}` } });
    }
    const body = bytes.subarray(start);
    const headers: Record<string, string> = {
      "accept-ranges": "bytes",
      "content-length": String(body.length),
      "content-type": "application/octet-stream",
      ...extra,
    };
    if (range) headers["content-range"] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    const status = range ? 206 : 200;
    if (faults.cut?.path === path && cuts < faults.cut.times) {
      cuts++;
      const n = Math.max(0, faults.cut.bytes - start);
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(body.slice(0, n));
        },
        pull(c) {
          c.error(new Error("connection cut by the fake hub"));
        },
      });
      return new Response(stream, { status, headers });
    }
    return new Response(body.slice(), { status, headers });
  }

  let cdnOrigin = "";
  function handle(req: Request): Response {
    const url = new URL(req.url);
    const p = decodeURIComponent(url.pathname);
    log.push(
      `${req.method} ${url.pathname}${url.search}${
        req.headers.get("range") ? ` ${req.headers.get("range")}` : ""
      }`,
    );
    let m = p.match(/^\/api\/models\/([^/]+\/[^/]+)\/revision\/(.+)$/);
    if (m) {
      if (faults.apiRedirect) {
        return new Response(null, { status: 302, headers: { location: faults.apiRedirect } });
      }
      const r = repos[m[1]];
      const refused = refuse(r, req);
      if (refused) return refused;
      if (m[2] !== r.commit && !r.refs.includes(m[2])) {
        return new Response("Invalid rev id", {
          status: 404,
          headers: { "x-error-code": "RevisionNotFound" },
        });
      }
      return Response.json({
        id: m[1],
        sha: r.commit,
        siblings: [...r.files.keys()].map((rfilename) => ({ rfilename })),
      });
    }
    m = p.match(/^\/api\/models\/([^/]+\/[^/]+)\/tree\/([0-9a-f]{40})(?:\/(.*))?$/);
    if (m) {
      const r = repos[m[1]];
      const refused = refuse(r, req);
      if (refused) return refused;
      const prefix = m[3] && !faults.treeIgnoresFolder ? `${m[3]}/` : "";
      const all = [...r.files].filter(([path]) => path.startsWith(prefix)).map(([path, bytes]) => ({
        type: "file",
        path,
        size: bytes.length,
        oid: gitOid(bytes),
        ...(isLfs(path) ? { lfs: { oid: sha256(bytes), size: bytes.length, pointerSize: 130 } } : {}),
      }));
      if (prefix && all.length === 0) {
        return new Response("Entry not found", { status: 404, headers: { "x-error-code": "EntryNotFound" } });
      }
      const size = faults.pageSize ?? all.length;
      const at = Number(url.searchParams.get("cursor") ?? 0);
      const headers: Record<string, string> = {};
      if (faults.pages === "loop") headers.link = `<${url}>; rel="next"`;
      else if (faults.pages === "endless") {
        const next = new URL(url);
        next.searchParams.set("cursor", String(at + size));
        headers.link = `<${next}>; rel="next"`;
      } else if (at + size < all.length) {
        const next = new URL(url);
        next.searchParams.set("cursor", String(at + size));
        headers.link = `<${next}>; rel="next"`;
      }
      return Response.json(all.slice(at, at + size), { headers });
    }
    m = p.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    if (m) {
      const r = repos[m[1]];
      const refused = refuse(r, req);
      if (refused) return refused;
      const bytes = r.files.get(m[3]);
      if (faults.redirect?.path === m[3]) {
        return new Response(null, { status: 302, headers: { location: faults.redirect.location } });
      }
      if (!bytes) {
        return new Response("Entry not found", { status: 404, headers: { "x-error-code": "EntryNotFound" } });
      }
      if (isLfs(m[3])) {
        const hash = sha256(bytes);
        return new Response(null, {
          status: 302,
          headers: {
            location: `${cdnOrigin}/cdn/${hash}?signature=fake`,
            "x-linked-etag": `"${hash}"`,
            "x-linked-size": String(bytes.length),
            "x-repo-commit": r.commit,
            etag: `"${gitOid(bytes)}"`,
          },
        });
      }
      return serveBytes(req, bytes, m[3], { etag: `"${gitOid(bytes)}"`, "x-repo-commit": r.commit });
    }
    m = p.match(/^\/cdn\/([0-9a-f]{64})$/);
    if (m) {
      if (req.headers.get("authorization")) {
        return new Response("the CDN rejects extra credentials", { status: 400 });
      }
      const f = byHash.get(m[1]);
      if (!f) return new Response("NoSuchKey", { status: 404 });
      return serveBytes(req, f.bytes, f.path, { etag: `"${m[1]}"` });
    }
    return new Response("not found", { status: 404 });
  }

  // The CDN is a second server: another origin, as on the real hub, so tokens must not follow the redirect.
  const listen = () =>
    new Promise<{ origin: string; server: Deno.HttpServer }>((resolve) => {
      const server: Deno.HttpServer = Deno.serve({
        hostname: "127.0.0.1",
        port: 0,
        // The server object exists only after serve() returns, so resolve on the next tick.
        onListen: (addr) =>
          queueMicrotask(() => resolve({ origin: `http://127.0.0.1:${addr.port}`, server })),
        onError: () => new Response("fake hub error", { status: 500 }),
      }, handle);
    });
  return Promise.all([listen(), listen()]).then(([hub, cdn]) => {
    cdnOrigin = cdn.origin;
    return {
      endpoint: hub.origin,
      log,
      close: async () => {
        await hub.server.shutdown();
        await cdn.server.shutdown();
      },
    };
  });
}

/** Every file of a folder, keyed by relative path. */
export async function readTree(dir: string, prefix = ""): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(dir)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) { for (const [k, v] of await readTree(`${dir}/${e.name}`, rel)) files.set(k, v); }
    else files.set(rel, await Deno.readFile(`${dir}/${e.name}`));
  }
  return files;
}

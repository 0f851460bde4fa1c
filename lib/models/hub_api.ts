// The few Hugging Face hub endpoints a pull needs: resolve a revision to a commit and list the files at that
// commit with their sizes and checksums. Hand-written on fetch rather than @huggingface/hub because its
// downloads write into the HF cache layout (blobs + symlinked snapshots) or return Blobs, with no resumable
// .part files in our staging folder, and recent versions route LFS downloads through the Xet protocol, which an
// offline fake endpoint would have to emulate; the listing itself is two GETs.

export interface HubConfig {
  /** e.g. https://huggingface.co (HF_ENDPOINT), no trailing slash needed. */
  endpoint: string;
  /** HF_TOKEN; sent only to the endpoint's own origin. */
  token?: string;
}

export interface HubFile {
  /** Path in the repo. */
  path: string;
  size: number;
  /** sha256 of the content, for LFS files (the hub's lfs.oid). */
  sha256?: string;
  /** The git blob id (sha1 of "blob <size>\0" + content): the checksum of small non-LFS files. */
  gitOid?: string;
}

export class HubError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = "HubError";
  }
}

/**
 * The hub (or whatever answers at its address) did something a well-behaved hub never does: a redirect to a
 * non-http(s) URL or from https to http, more bytes than it listed, a file list that loops or never ends, an
 * unsafe path. Never retried; the pull is discarded.
 */
export class UnsafeHubError extends HubError {
  constructor(message: string) {
    super(message, 0);
    this.name = "UnsafeHubError";
  }
}

/** Most pages of the tree API a listing follows (the hub pages by 1000 files or so). */
export const MAX_TREE_PAGES = 1000;

/**
 * Where a redirect from `from` to `location` leads, refused unless it is http(s) and does not downgrade https
 * to http: fetch would otherwise follow `file:` URLs (copying local files into a model) or send the download
 * in the clear.
 */
export function redirectTarget(from: string, location: string): string {
  let to: URL;
  try {
    to = new URL(location, from);
  } catch {
    throw new UnsafeHubError(`the hub redirected ${from} to an invalid URL ${JSON.stringify(location)}`);
  }
  if (to.protocol !== "https:" && to.protocol !== "http:") {
    throw new UnsafeHubError(`the hub redirected ${from} to a ${to.protocol} URL; only http(s) is followed`);
  }
  if (new URL(from).protocol === "https:" && to.protocol === "http:") {
    throw new UnsafeHubError(`the hub redirected ${from} from https to http (${to.origin}); refused`);
  }
  return to.toString();
}

export function endpointFromEnv(env: { get(key: string): string | undefined } = Deno.env): HubConfig {
  const endpoint = (env.get("HF_ENDPOINT") || "https://huggingface.co").replace(/\/+$/, "");
  const token = env.get("HF_TOKEN") || env.get("HUGGING_FACE_HUB_TOKEN") || undefined;
  return { endpoint, token };
}

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

/** Splits `org/name[@revision]`; the revision defaults to main. */
export function parseRepoSpec(spec: string): { repo: string; revision: string } {
  const at = spec.indexOf("@");
  const repo = at < 0 ? spec : spec.slice(0, at);
  const revision = at < 0 ? "main" : spec.slice(at + 1);
  if (!REPO_ID.test(repo) || repo.includes("..")) {
    throw new Error(
      `"${repo}" is not a hub repo id; expected owner/name, e.g. Xenova/clip-vit-large-patch14`,
    );
  }
  if (!revision) throw new Error(`"${spec}" has an empty revision after @`);
  return { repo, revision };
}

export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export function authHeaders(config: HubConfig, url: string): Record<string, string> {
  return config.token && new URL(url).origin === new URL(config.endpoint).origin
    ? { authorization: `Bearer ${config.token}` }
    : {};
}

/** A clear message for a failed hub response; `what` names the repo, revision or file asked for. */
export async function hubError(
  res: Response,
  config: HubConfig,
  what: { repo: string; revision?: string; path?: string },
) {
  await res.body?.cancel();
  const code = res.headers.get("x-error-code") ?? "";
  const repo = what.repo;
  if (res.status === 401) {
    return new HubError(
      config.token
        ? `the hub refused HF_TOKEN for ${repo} (401): the token is invalid or has no read access to this repo`
        : `the hub needs a token for ${repo} (401): it is private or gated, or does not exist; ` +
          `set HF_TOKEN to a token with read access`,
      401,
    );
  }
  if (res.status === 403) {
    return new HubError(
      `access to ${repo} is restricted (403): accept its conditions on its hub page with the account ` +
        `whose HF_TOKEN you use`,
      403,
    );
  }
  if (res.status === 404) {
    if (code === "RevisionNotFound") {
      return new HubError(`${repo} has no revision "${what.revision}" (404)`, 404);
    }
    if (code === "EntryNotFound" || (what.path && code !== "RepoNotFound")) {
      return new HubError(`${what.path} is not in ${repo}@${what.revision} (404)`, 404);
    }
    return new HubError(
      `no such repo ${repo}${
        what.revision ? ` or revision "${what.revision}"` : ""
      } on ${config.endpoint} (404)`,
      404,
    );
  }
  return new HubError(`the hub answered ${res.status} ${res.statusText} for ${repo}`, res.status);
}

/** Most redirects one request follows. */
const MAX_REDIRECTS = 10;
/** Most bytes one JSON answer (a revision, a page of the tree) may have. */
const MAX_JSON_BYTES = 64 << 20;

/**
 * fetch, following redirects by hand: only to http(s) URLs and never from https to http (redirectTarget), and
 * the token sent to the hub's own origin only, never to the CDN it redirects to. `onHop` sees every answer,
 * the redirects included (the hub's X-Linked-Etag is on its redirect).
 */
export async function hubFetch(
  url: string,
  config: HubConfig,
  headers: Record<string, string>,
  onHop?: (res: Response) => void,
): Promise<Response> {
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const res = await fetch(url, {
      headers: { ...headers, ...authHeaders(config, url) },
      redirect: "manual",
    });
    onHop?.(res);
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || !location) return res;
    await res.body?.cancel();
    url = redirectTarget(url, location);
  }
  throw new UnsafeHubError(`more than ${MAX_REDIRECTS} redirects for ${url}`);
}

/** The body as JSON, refused past `max` bytes (a hostile hub could stream forever). */
async function cappedJson(res: Response, max: number, url: string): Promise<unknown> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += chunk.length;
    if (total > max) {
      await res.body?.cancel().catch(() => {});
      throw new UnsafeHubError(`the hub's answer for ${url} runs past ${max} bytes; refused`);
    }
    parts.push(chunk);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) bytes.set(p, (at += p.length) - p.length);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new HubError(`the hub's answer for ${url} is not JSON (${(e as Error).message})`, 0);
  }
}

async function getJson(
  url: string,
  config: HubConfig,
  what: { repo: string; revision?: string; path?: string },
) {
  let res: Response;
  try {
    res = await hubFetch(url, config, { accept: "application/json" });
  } catch (e) {
    if (e instanceof HubError) throw e;
    throw new HubError(`cannot reach the hub at ${config.endpoint}: ${(e as Error).message}`, 0);
  }
  if (!res.ok) throw await hubError(res, config, what);
  return { body: await cappedJson(res, MAX_JSON_BYTES, url), res };
}

/** The commit a branch, tag or commit id names. */
export async function resolveRevision(config: HubConfig, repo: string, revision: string): Promise<string> {
  const url = `${config.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`;
  const { body } = await getJson(url, config, { repo, revision });
  const sha = (body as { sha?: unknown }).sha;
  if (typeof sha !== "string" || !/^[0-9a-f]{40}$/.test(sha)) {
    throw new HubError(`the hub's answer for ${repo}@${revision} has no commit id`, 0);
  }
  return sha;
}

interface TreeEntry {
  type?: string;
  path?: string;
  size?: number;
  oid?: string;
  lfs?: { oid?: string; size?: number };
}

/** Every file under `subfolder` (or the whole repo) at a commit, following the tree API's pagination. */
export async function listFiles(
  config: HubConfig,
  repo: string,
  commit: string,
  subfolder = "",
  maxPages = MAX_TREE_PAGES,
): Promise<HubFile[]> {
  const files: HubFile[] = [];
  const sub = subfolder.replace(/^\/+|\/+$/g, "");
  let url: string | undefined = `${config.endpoint}/api/models/${repo}/tree/${commit}` +
    (sub ? `/${encodePath(sub)}` : "") + "?recursive=true";
  const seen = new Set<string>();
  while (url) {
    if (seen.has(url)) {
      throw new UnsafeHubError(`the hub's file list for ${repo} links back to ${url}; refused`);
    }
    if (seen.size >= maxPages) {
      throw new UnsafeHubError(`the hub's file list for ${repo} runs past ${maxPages} pages; refused`);
    }
    seen.add(url);
    const { body, res }: { body: unknown; res: Response } = await getJson(url, config, {
      repo,
      revision: commit,
      path: sub || undefined,
    });
    if (!Array.isArray(body)) throw new HubError(`the hub's file list for ${repo} is not a list`, 0);
    for (const e of body as TreeEntry[]) {
      if (e.type !== "file" || typeof e.path !== "string") continue;
      const size = e.lfs?.size ?? e.size ?? 0;
      if (!Number.isSafeInteger(size) || size < 0) {
        throw new UnsafeHubError(`the hub lists ${e.path} in ${repo} with size ${JSON.stringify(size)}`);
      }
      files.push({
        path: e.path,
        size,
        ...(e.lfs?.oid ? { sha256: e.lfs.oid } : { gitOid: e.oid }),
      });
    }
    url = nextLink(res.headers.get("link"), res.url || url, config);
  }
  return files;
}

/** The next page, which must stay on the hub's own origin (the token goes there). */
function nextLink(header: string | null, base: string, config: HubConfig): string | undefined {
  const m = header?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
  if (!m) return undefined;
  const next = new URL(m[1], base);
  if (next.origin !== new URL(config.endpoint).origin) {
    throw new UnsafeHubError(`the hub's file list continues on another origin (${next.origin}); refused`);
  }
  return next.toString();
}

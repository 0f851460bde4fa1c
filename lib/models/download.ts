// One file from the hub into a staging folder: bytes go to `<file>.part`, an interrupted transfer resumes with
// an HTTP Range from the part's size, and the file takes its final name only once its checksum matches (sha256
// for LFS files, the git blob id for small ones).
import { createHash, type Hash } from "node:crypto";
import { type HubConfig, HubError, hubError, hubFetch, type HubFile, UnsafeHubError } from "./hub_api.ts";

export class IntegrityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IntegrityError";
  }
}

export interface DownloadOptions {
  /** Attempts after an interruption within this call (each resumes); default 3. */
  retries?: number;
  onProgress?: (done: number, total: number) => void;
  /** For messages: repo and revision. */
  repo: string;
  revision: string;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** The file's answer (after the hub's redirects) and the hub's X-Linked-Etag from any of them. */
async function request(
  url: string,
  config: HubConfig,
  range: number,
): Promise<{ res: Response; linkedEtag?: string }> {
  let linkedEtag: string | undefined;
  const headers: Record<string, string> = { "accept-encoding": "identity" };
  if (range > 0) headers.range = `bytes=${range}-`;
  const res = await hubFetch(url, config, headers, (r) => {
    linkedEtag ??= r.headers.get("x-linked-etag") ?? undefined;
  });
  return { res, linkedEtag };
}

function gitBlobHasher(size: number): Hash {
  return createHash("sha1").update(`blob ${size}\0`);
}

/** The expected checksum, preferring the listing's sha256, then the hub's X-Linked-Etag. */
function expected(
  file: HubFile,
  linkedEtag: string | undefined,
): { algo: "sha256" | "git"; hex: string } | undefined {
  if (file.sha256) return { algo: "sha256", hex: file.sha256.toLowerCase() };
  const etag = linkedEtag?.replace(/^W\//, "").replace(/"/g, "").toLowerCase();
  if (etag && /^[0-9a-f]{64}$/.test(etag)) return { algo: "sha256", hex: etag };
  if (file.gitOid && /^[0-9a-f]{40}$/.test(file.gitOid)) {
    return { algo: "git", hex: file.gitOid.toLowerCase() };
  }
  return undefined;
}

async function hashPrefix(hash: Hash, path: string, length: number) {
  if (length === 0) return;
  using f = await Deno.open(path, { read: true });
  let left = length;
  for await (const chunk of f.readable) {
    const part = chunk.subarray(0, Math.min(chunk.length, left));
    hash.update(part);
    left -= part.length;
    if (left === 0) break;
  }
}

/** Removes the part file and returns the error to throw: what was received is not the listed file. */
async function discard(part: string, message: string): Promise<UnsafeHubError> {
  await Deno.remove(part).catch(() => {});
  return new UnsafeHubError(`${message}; discarded it`);
}

/**
 * Downloads `file` from `url` to `dest` (which appears only when complete and verified). A corrupt result
 * throws IntegrityError, more bytes than listed or an unsafe redirect UnsafeHubError; both leave nothing behind; an interruption that outlasts the retries throws and keeps
 * `dest.part` for the next run to resume.
 */
export async function downloadFile(
  url: string,
  file: HubFile,
  dest: string,
  config: HubConfig,
  opts: DownloadOptions,
): Promise<void> {
  const part = `${dest}.part`;
  const retries = opts.retries ?? 3;
  let lastError: Error | undefined;
  for (let attempt = 0; attempt <= retries; attempt++) {
    let have = await sizeOf(part);
    if (have > file.size) {
      await Deno.truncate(part, 0);
      have = 0;
    }
    let linkedEtag: string | undefined;
    let hash: Hash | undefined;
    let want: ReturnType<typeof expected>;
    try {
      if (have < file.size || file.size === 0) {
        const r = await request(url, config, have);
        const res = r.res;
        linkedEtag = r.linkedEtag;
        if (res.status === 416) {
          // The server has no bytes past ours: start over rather than trust an odd part file.
          await res.body?.cancel();
          await Deno.truncate(part, 0);
          continue;
        }
        if (!res.ok) {
          throw await hubError(res, config, { repo: opts.repo, revision: opts.revision, path: file.path });
        }
        const ranged = res.status === 206;
        if (ranged) {
          const start = Number(res.headers.get("content-range")?.match(/bytes (\d+)-/)?.[1]);
          if (start !== have) {
            await res.body?.cancel();
            throw new Error(`the server resumed ${file.path} at byte ${start}, not ${have}`);
          }
        } else have = 0; // a full answer: the Range was ignored
        want = expected(file, linkedEtag);
        hash = want?.algo === "git" ? gitBlobHasher(file.size) : want ? createHash("sha256") : undefined;
        if (hash && have > 0) await hashPrefix(hash, part, have);
        const declared = Number(res.headers.get("content-length") ?? NaN);
        if (declared > file.size - have) {
          await res.body?.cancel();
          throw await discard(
            part,
            `${file.path}: the hub sends ${declared} bytes from byte ${have}, past the ${file.size} it lists`,
          );
        }
        using out = await Deno.open(part, { write: true, create: true, append: ranged, truncate: !ranged });
        let done = have;
        opts.onProgress?.(done, file.size);
        if (res.body) {
          for await (const chunk of res.body) {
            // Stop at the listed size (leaving the loop cancels the stream): an endless answer must not fill
            // the disk.
            if (done + chunk.length > file.size) {
              throw await discard(
                part,
                `${file.path}: the hub sent more than the ${file.size} bytes it lists`,
              );
            }
            hash?.update(chunk);
            for (let off = 0; off < chunk.length;) off += await out.write(chunk.subarray(off));
            done += chunk.length;
            opts.onProgress?.(done, file.size);
          }
        }
        if (done < file.size) throw new Error(`the connection closed after ${done} of ${file.size} bytes`);
      } else {
        // A complete part from an earlier run: only its checksum is left to check.
        want = expected(file, undefined);
        hash = want?.algo === "git" ? gitBlobHasher(file.size) : want ? createHash("sha256") : undefined;
        if (hash) await hashPrefix(hash, part, have);
      }
    } catch (e) {
      if (e instanceof HubError) throw e;
      lastError = e as Error;
      continue;
    }
    const size = await sizeOf(part);
    if (size !== file.size) {
      await Deno.remove(part).catch(() => {});
      throw new IntegrityError(`${file.path} is ${size} bytes but the hub lists ${file.size}; removed it`);
    }
    if (want && hash) {
      const got = hash.digest("hex");
      if (got !== want.hex) {
        await Deno.remove(part).catch(() => {});
        const label = want.algo === "git" ? "git blob id" : "sha256";
        throw new IntegrityError(
          `${file.path}: ${label} ${got} does not match the hub's ${want.hex}; the download was corrupted ` +
            `or altered, so it was discarded`,
        );
      }
    }
    await Deno.rename(part, dest);
    return;
  }
  throw new Error(
    `${file.path}: download interrupted (${lastError?.message ?? "unknown error"}); ` +
      `run the same command again to resume`,
  );
}

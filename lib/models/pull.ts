// `models pull`: a whole model from the hub into models/<name>, all or nothing. Files land in a staging folder
// (models/.staging/<repo>--<commit>…), kept across runs so an interrupted pull resumes, and the folder is
// renamed into place only when every file is complete and verified.
import { dirname, join } from "node:path";
import { downloadFile, IntegrityError } from "./download.ts";
import {
  encodePath,
  type HubConfig,
  type HubFile,
  listFiles,
  parseRepoSpec,
  resolveRevision,
  UnsafeHubError,
} from "./hub_api.ts";

/** Framework weights and transformers.js's quantized duplicates: not needed to run the ONNX export. */
export const DEFAULT_EXCLUDES = [
  "*.bin",
  "*.safetensors",
  "*.ckpt",
  "*.pth",
  "*.msgpack",
  "*.h5",
  "*.ot",
  ".gitattributes",
  "onnx/*_quantized.onnx",
  "onnx/*_fp16.onnx",
  "onnx/*_int8.onnx",
  "onnx/*_uint8.onnx",
  "onnx/*_q4*.onnx",
  "onnx/*_bnb4.onnx",
];

export interface PullOptions {
  hub: HubConfig;
  modelsDir: string;
  /** Only this folder of the repo (its contents become the model folder). */
  subfolder?: string;
  /** Folder name under modelsDir; default the repo's name. */
  name?: string;
  /** Glob patterns (`*`, `**`, `?`; without a slash they match the file name): keep only matches. */
  include?: string[];
  /** Glob patterns to skip; default DEFAULT_EXCLUDES. */
  exclude?: string[];
  /** Resumed attempts per file within one run; default 3. */
  retries?: number;
  onFileStart?: (file: HubFile, index: number, count: number) => void;
  onProgress?: (file: HubFile, done: number, total: number) => void;
  onFileDone?: (file: HubFile) => void;
}

export interface PullResult {
  name: string;
  path: string;
  repo: string;
  revision: string;
  commit: string;
  files: number;
  bytes: number;
}

function globRegex(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      re += ".*";
      i++;
      if (pattern[i + 1] === "/") i++, re += "(?:.*/)?";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export function matchesGlob(path: string, pattern: string): boolean {
  const target = pattern.includes("/") ? path : path.slice(path.lastIndexOf("/") + 1);
  return globRegex(pattern).test(target);
}

const SAFE_NAME = /^[A-Za-z0-9][\w.-]*$/;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses (UnsafeHubError) a listing with any path that could leave the model folder or cannot be a file there:
 * empty, "." or ".." segments, absolute, backslashes or control characters, a path that is also a folder of
 * another.
 */
function checkListedPaths(files: HubFile[], repo: string): void {
  const paths = new Set(files.map((f) => f.path));
  for (const { path } of files) {
    const segments = path.split("/");
    const bad = segments.some((s) => s === "" || s === "." || s === "..") || path.includes("\\") ||
      [...path].some((c) => c.charCodeAt(0) < 0x20);
    // "a" listed as a file and "a/b" too: one of them cannot be written.
    const prefix = segments.slice(1).some((_, i) => paths.has(segments.slice(0, i + 1).join("/")));
    if (bad || prefix) {
      throw new UnsafeHubError(
        `the hub listed an unsafe path ${JSON.stringify(path)} in ${repo}; nothing was downloaded`,
      );
    }
  }
}

/** Downloads `spec` (`owner/name[@revision]`) into `modelsDir/<name>`. */
export async function pullModel(spec: string, opts: PullOptions): Promise<PullResult> {
  const { repo, revision } = parseRepoSpec(spec);
  const name = opts.name ?? repo.slice(repo.indexOf("/") + 1);
  if (!SAFE_NAME.test(name) || name.includes("..")) {
    throw new Error(`"${name}" cannot name a model folder; use letters, digits, ".", "_" and "-"`);
  }
  const dest = join(opts.modelsDir, name);
  if (await exists(dest)) {
    throw new Error(`${dest} already exists; remove it (deno task models rm ${name}) or pass --name`);
  }
  const sub = (opts.subfolder ?? "").replace(/^\/+|\/+$/g, "");
  if (sub.split("/").includes("..")) throw new Error(`--subfolder "${sub}" must stay inside the repo`);

  const commit = await resolveRevision(opts.hub, repo, revision);
  // Every path is checked before anything is downloaded; only those inside the subfolder (by whole path
  // segments: "onnx" does not hold "onnxevil/x") are kept.
  const all = await listFiles(opts.hub, repo, commit, sub);
  checkListedPaths(all, repo);
  const listed = all.filter((f) => !sub || f.path.startsWith(`${sub}/`));
  const excludes = opts.exclude ?? DEFAULT_EXCLUDES;
  const files = listed.filter((f) => {
    const rel = sub ? f.path.slice(sub.length + 1) : f.path;
    if (opts.include?.length && !opts.include.some((p) => matchesGlob(rel, p))) return false;
    return !excludes.some((p) => matchesGlob(rel, p));
  });
  const where = `${repo}@${revision}${sub ? ` (${sub}/)` : ""}`;
  if (files.length === 0) {
    throw new Error(
      `nothing to download in ${where}: ${listed.length} files listed, none kept by the filters`,
    );
  }

  const stagingRoot = join(opts.modelsDir, ".staging");
  const staging = join(
    stagingRoot,
    `${repo.replace("/", "--")}--${commit.slice(0, 12)}${sub ? `--${sub.replaceAll("/", "_")}` : ""}`,
  );
  let bytes = 0;
  try {
    for (const [i, file] of files.entries()) {
      const rel = sub ? file.path.slice(sub.length + 1) : file.path;
      const target = join(staging, rel);
      await Deno.mkdir(dirname(target), { recursive: true });
      opts.onFileStart?.(file, i, files.length);
      if (!await exists(target)) {
        const url = `${opts.hub.endpoint}/${repo}/resolve/${commit}/${encodePath(file.path)}`;
        await downloadFile(url, file, target, opts.hub, {
          repo,
          revision,
          retries: opts.retries,
          onProgress: (done, total) => opts.onProgress?.(file, done, total),
        });
      }
      bytes += file.size;
      opts.onFileDone?.(file);
    }
    const source = { repo, revision, commit, subfolder: sub || undefined, endpoint: opts.hub.endpoint };
    await Deno.writeTextFile(join(staging, ".hub.json"), JSON.stringify(source, null, 2) + "\n");
    if (await exists(dest)) {
      throw new Error(`${dest} appeared while downloading; the download stays in ${staging}`);
    }
    await Deno.rename(staging, dest);
  } catch (e) {
    // A corrupt file or a misbehaving hub poisons the whole pull: nothing of it is kept. Interruptions keep
    // the staging folder, to resume.
    if (e instanceof IntegrityError || e instanceof UnsafeHubError) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      await Deno.remove(stagingRoot).catch(() => {}); // only when empty
    }
    throw e;
  }
  await Deno.remove(stagingRoot).catch(() => {}); // only when empty
  return { name, path: dest, repo, revision, commit, files: files.length, bytes };
}

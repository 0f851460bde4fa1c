// deno task models list | pull <owner/name>[@revision] | import <file> | rm <name> | providers | install-cuda:
// the model folders under models/, and the execution providers they run on.
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  DEFAULT_CLIP_DIR,
  DEFAULT_MODEL_DIR,
  MODELS_DIR,
  TINY_DEMO_CLIP_DIR,
  TINY_DEMO_MODEL_DIR,
} from "./lib/models/defaults.ts";
import { endpointFromEnv } from "./lib/models/hub_api.ts";
import { DEFAULT_EXCLUDES, pullModel } from "./lib/models/pull.ts";
import { chooseClip, listModels, type ModelEntry } from "./lib/models/registry.ts";
import { formatBytes, formatTransfer } from "./lib/models/transfer_bar.ts";
import { InputError } from "./lib/io/input_error.ts";
import { IMPORT_USAGE, importCommand } from "./lib/models/single_file/cli.ts";
import { DroppedCheckpoints, type DroppedFile, singleFileSources } from "./lib/models/single_file/dropped.ts";
import {
  cudaInstallPlan,
  installCudaProvider,
  probeProvider,
  providerReport,
} from "./lib/models/providers.ts";

const USAGE = `usage:
  deno task models list [--json] [--models-dir DIR] [--dir EXTRA_DIR]... [--a1111-dir DIR]
  deno task models pull <owner/name>[@revision] [--subfolder S] [--name NAME] [--include GLOB]...
                        [--exclude GLOB]... [--all-files] [--retries N] [--models-dir DIR]
${IMPORT_USAGE}
  deno task models rm <name> [--models-dir DIR]
  deno task models providers [--json]          which execution providers (--device) work here
  deno task models install-cuda [--dry-run]    fetch onnxruntime's CUDA provider (Linux x64, NVIDIA GPU)

pull reads HF_ENDPOINT (default https://huggingface.co) and HF_TOKEN from the environment.`;

class UsageError extends Error {}

/** The demos shipped in the repository: `models rm` refuses them. */
const EMBEDDED = [DEFAULT_MODEL_DIR, DEFAULT_CLIP_DIR, TINY_DEMO_MODEL_DIR, TINY_DEMO_CLIP_DIR];

function dimsText(m: ModelEntry): string {
  const d = m.dims;
  const parts = [];
  if (d.textHidden !== undefined) {
    parts.push(`text ${d.textHidden}${d.textHidden2 ? `+${d.textHidden2}` : ""}`);
  }
  if (d.projection !== undefined) parts.push(`proj ${d.projection}`);
  if (d.crossAttention !== undefined) parts.push(`xattn ${d.crossAttention}`);
  return parts.join(", ");
}

async function list(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "boolean" },
      "models-dir": { type: "string" },
      dir: { type: "string", multiple: true },
      "a1111-dir": { type: "string" },
    },
  });
  const modelsDir = values["models-dir"] ?? MODELS_DIR;
  const { models, skipped } = await listModels([modelsDir, ...(values.dir ?? [])]);
  // Single files (here and in an A1111 installation), hashed as the server lists them (cached).
  const dropped = new DroppedCheckpoints({
    sources: singleFileSources(modelsDir, values["a1111-dir"]),
    cacheDir: join(modelsDir, ".imported"),
    log: (line) => console.error(`models: ${line}`),
  });
  await dropped.scan();
  await dropped.hashAll();
  // A file `models import` made a folder of goes by that folder; otherwise the server imports it on first use.
  const importedAs = (f: DroppedFile) =>
    f.folder ?? models.find((m) => f.hashes && m.hash === f.hashes.shortHash)?.path;
  const singleFiles = dropped.files().map((f) => ({
    name: f.name,
    path: f.path,
    family: f.family ?? null,
    hash: f.hashes?.shortHash ?? null,
    sha256: f.hashes?.sha256 ?? null,
    vae: f.vae ?? null,
    problem: f.problem ?? null,
    imported: importedAs(f) ?? null,
  }));
  const clipFor = (m: ModelEntry) => m.kind === "clip" ? undefined : chooseClip(m, models)?.name;
  const devices = (await providerReport()).filter((p) => p.state === "usable").map((p) => p.name);
  if (values.json) {
    const out = models.map((m) => ({
      name: m.name,
      path: m.path,
      kind: m.kind,
      dims: m.dims,
      hash: m.hash ?? null,
      problems: m.problems,
      warnings: m.warnings,
      ...(m.kind === "clip" ? {} : { clip: clipFor(m) ?? null }),
      default: resolve(m.path) === DEFAULT_MODEL_DIR || resolve(m.path) === DEFAULT_CLIP_DIR,
    }));
    console.log(JSON.stringify({ models: out, single_files: singleFiles, skipped, devices }, null, 2));
    return;
  }
  if (models.length === 0 && singleFiles.length === 0) console.log(`no models in ${modelsDir}`);
  for (const m of models) {
    const status = m.problems.length ? "NOT USABLE" : "ok";
    const clip = m.kind === "clip" ? "" : `  clip: ${clipFor(m) ?? "none matches"}`;
    console.log(
      `${m.name}  ${m.kind}${m.refiner ? " refiner" : ""}  ${dimsText(m)}  ${
        m.hash ? `[${m.hash}]` : ""
      }  ${status}${clip}`,
    );
    for (const p of m.problems) console.log(`    problem: ${p}`);
    for (const w of m.warnings) console.log(`    note: ${w}`);
  }
  for (const f of singleFiles) {
    const status = f.problem
      ? "NOT USABLE"
      : f.imported
      ? `ok  imported: ${f.imported}`
      : `ok  imported on first use by \`deno task serve\` (or now: \`deno task models import ${f.path}\`)`;
    console.log(`${f.name}  ${f.family ?? "?"} single file  ${f.hash ? `[${f.hash}]` : ""}  ${status}`);
    if (f.vae) console.log(`    vae: ${f.vae}`);
    if (f.problem) console.log(`    problem: ${f.problem}`);
  }
  for (const s of skipped) console.log(`skipped ${s.path}: ${s.reason}`);
  console.log(`devices: ${devices.join(", ")} (\`deno task models providers\` says why not others)`);
}

async function pull(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      subfolder: { type: "string" },
      name: { type: "string" },
      include: { type: "string", multiple: true },
      exclude: { type: "string", multiple: true },
      "all-files": { type: "boolean" },
      retries: { type: "string" },
      "models-dir": { type: "string" },
    },
  });
  if (positionals.length !== 1) {
    throw new UsageError("pull takes one repo id, e.g. Xenova/clip-vit-large-patch14");
  }
  const retries = values.retries === undefined ? 3 : Number(values.retries);
  if (!Number.isInteger(retries) || retries < 0) throw new UsageError(`--retries must be a whole number`);
  const modelsDir = values["models-dir"] ?? MODELS_DIR;
  const interactive = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const write = (s: string) => Deno.stderr.writeSync(encoder.encode(s));
  let started = 0, last = 0;
  const result = await pullModel(positionals[0], {
    hub: endpointFromEnv(),
    modelsDir,
    subfolder: values.subfolder,
    name: values.name,
    include: values.include,
    exclude: values["all-files"] ? [] : [...DEFAULT_EXCLUDES, ...(values.exclude ?? [])],
    retries,
    onFileStart: (f, i, n) => {
      started = performance.now();
      if (!interactive) write(`(${i + 1}/${n}) ${f.path} ${formatBytes(f.size)}\n`);
    },
    onProgress: (f, done, total) => {
      const now = performance.now();
      if (!interactive || (now - last < 100 && done < total)) return;
      last = now;
      const bytesPerSecond = done / Math.max(1e-3, (now - started) / 1000);
      write(`\r${formatTransfer({ file: f.path, done, total, bytesPerSecond })}\x1b[K`);
    },
    onFileDone: () => {
      if (interactive) write("\n");
    },
  });
  console.log(
    `pulled ${result.repo}@${result.revision} (commit ${
      result.commit.slice(0, 12)
    }): ${result.files} files, ` +
      `${formatBytes(result.bytes)} → ${result.path}`,
  );
  const { models } = await listModels([modelsDir], { hash: false });
  const entry = models.find((m) => m.name === result.name);
  if (!entry) {
    console.log("note: this folder is not a model the app recognizes (see `deno task models list`)");
  } else for (const p of entry.problems) console.log(`problem: ${p}`);
}

async function rm(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { "models-dir": { type: "string" } },
  });
  if (positionals.length !== 1) throw new UsageError("rm takes one model name");
  const name = positionals[0];
  const modelsDir = values["models-dir"] ?? MODELS_DIR;
  if (!/^[A-Za-z0-9][\w.-]*$/.test(name) || name.includes("..")) {
    throw new Error(`"${name}" is not a model folder name`);
  }
  const path = join(modelsDir, name);
  if (EMBEDDED.includes(resolve(path))) {
    throw new Error(`${name} is an embedded demo; it is part of the repository`);
  }
  const info = await Deno.lstat(path).catch(() => undefined);
  if (!info) throw new Error(`no model named ${name} in ${modelsDir}`);
  if (!info.isDirectory && !info.isSymlink) throw new Error(`${path} is not a model folder`);
  await Deno.remove(path, { recursive: true });
  console.log(`removed ${path}`);
}

async function providers(args: string[]) {
  const { values } = parseArgs({ args, options: { json: { type: "boolean" } } });
  const rows = await providerReport();
  if (values.json) console.log(JSON.stringify({ providers: rows }, null, 2));
  else for (const r of rows) console.log(`${r.name}  ${r.state}${r.reason ? `  (${r.reason})` : ""}`);
}

async function installCuda(args: string[]) {
  const { values } = parseArgs({ args, options: { "dry-run": { type: "boolean" } } });
  const plan = cudaInstallPlan();
  console.log(`from ${plan.source} into ${plan.target}:`);
  for (const f of plan.files) console.log(`  ${f.name}${f.present ? " (present)" : ""}`);
  console.log(`command: ${plan.command.join(" ")}`);
  if (values["dry-run"]) return;
  const missing = await installCudaProvider(plan);
  if (missing.length) throw new Error(`still missing after the install step: ${missing.join(", ")}`);
  const probe = await probeProvider("cuda");
  console.log(
    probe.usable
      ? "CUDA provider installed and usable: pass --device cuda"
      : `CUDA provider installed, but no session opens on it: ${probe.reason} (CUDA 12 and cuDNN 9 must be installed)`,
  );
}

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  try {
    if (command === "list") await list(rest);
    else if (command === "pull") await pull(rest);
    else if (command === "import") await importCommand(rest, MODELS_DIR);
    else if (command === "rm") await rm(rest);
    else if (command === "providers") await providers(rest);
    else if (command === "install-cuda") await installCuda(rest);
    else if (command === undefined || command === "help" || command === "--help") console.log(USAGE);
    else throw new UsageError(`unknown command "${command}"`);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`models: ${(e as Error).message}\n${USAGE}`);
      Deno.exit(2);
    }
    console.error(`models: ${(e as Error).message}`);
    if (e instanceof InputError) Deno.exit(2);
    Deno.exit(1);
  }
}

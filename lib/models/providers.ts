// Which onnxruntime execution providers this machine can use, and the one-time download of the CUDA provider.
// npm ships onnxruntime-node with its CPU binary only; its postinstall script fetches the CUDA provider
// libraries, but Deno never runs lifecycle scripts without a node_modules folder, so `--device cuda` would
// always fall back to the CPU. `installCudaProvider` runs the package's own install step on request.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as ort from "onnxruntime-node";
import { DataType } from "../onnx/proto.ts";
import { encodeModel } from "../onnx/proto.ts";
import { type Device, openSession } from "../onnx/session.ts";
import { DEVICES } from "./device.ts";

const require = createRequire(import.meta.url);

/**
 * The package's install-step flag that forces installing this platform's extra files (CUDA 12 on linux/x64).
 * Its "=cuda12" form is parsed as no flag at all by onnxruntime-node 1.30's script.
 */
export const CUDA_INSTALL_FLAG = "--onnxruntime-node-install";

export interface ProviderStatus {
  /** onnxruntime's name: cpu, cuda, tensorrt, webgpu, coreml, dml. */
  name: string;
  /** Shipped inside the npm package (no download needed). */
  bundled: boolean;
  /** Provider library files this platform needs that are not on disk (empty when installed or bundled). */
  missing: string[];
}

/** The installed onnxruntime-node package folder (in Deno's npm cache). */
export function onnxruntimePackageDir(): string {
  return dirname(dirname(require.resolve("onnxruntime-node")));
}

/** Where the package keeps this platform's native libraries. */
export function nativeDir(pkgDir = onnxruntimePackageDir()): string {
  return join(pkgDir, "bin", "napi-v6", process.platform, process.arch);
}

interface InstallMetadata {
  requirements: Record<string, string[]>;
  manifests: Record<string, Record<string, { package: string; path: string }>>;
  packages: Record<string, { name: string; versions: unknown }>;
}

function installMetadata(pkgDir: string): InstallMetadata {
  return require(join(pkgDir, "script", "install-metadata.js")) as InstallMetadata;
}

/** The files the package's install step would put beside the binding for a manifest (e.g. "cuda12"). */
function manifestFiles(pkgDir: string, manifest: string): { files: string[]; nugetPackage?: string } {
  const meta = installMetadata(pkgDir);
  const entry = meta.manifests[`${process.platform}/${process.arch}:${manifest}`];
  if (!entry) return { files: [] };
  const files = Object.keys(entry).map((f) => f.replace(/^\.\//, ""));
  const pkg = Object.values(entry)[0]?.package;
  return { files, nugetPackage: pkg ? meta.packages[pkg]?.name : undefined };
}

/** What onnxruntime-node offers here, and which provider files are missing for the ones it does not bundle. */
export function providerStatuses(pkgDir = onnxruntimePackageDir()): ProviderStatus[] {
  const bin = nativeDir(pkgDir);
  const cuda = manifestFiles(pkgDir, "cuda12").files;
  return ort.listSupportedBackends().map(({ name, bundled }) => {
    // One download brings both; TensorRT's provider also needs CUDA's libraries, CUDA's not TensorRT's.
    const needed = bundled || (name !== "cuda" && name !== "tensorrt")
      ? []
      : cuda.filter((f) => name === "tensorrt" || !f.includes("tensorrt"));
    return { name, bundled, missing: needed.filter((f) => !existsSync(join(bin, f))) };
  });
}

/** A one-node model, so that opening a session tests the provider and nothing else. */
function identityModel(): Uint8Array {
  const io = (name: string) => ({
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 1 }] } } },
  });
  return encodeModel({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "probe",
      node: [{ opType: "Identity", input: ["x"], output: ["y"], name: "probe/identity" }],
      initializer: [],
      input: [io("x")],
      output: [io("y")],
    },
  });
}

/** Whether a session really opens on `device` (a GPU provider may be installed but find no GPU or driver). */
export async function probeProvider(device: Device): Promise<{ usable: boolean; reason?: string }> {
  try {
    const session = await openSession(identityModel(), { device });
    await session.release();
    return { usable: true };
  } catch (e) {
    return {
      usable: false,
      reason: (e as Error).message.split("\n")[0].replace(
        /^onnxruntime could not load an in-memory model: /,
        "",
      ),
    };
  }
}

/**
 * The device a long-running process (a queue worker) should use: `device` when a session really opens on it,
 * else the CPU, said once through `report` in the words a session's own fallback uses.
 */
export async function usableDevice(device: Device, report: (line: string) => void): Promise<Device> {
  if (device === "cpu") return device;
  const probe = await probeProvider(device);
  if (probe.usable) return device;
  report(`${device} is not available (${probe.reason}); running on the CPU instead`);
  return "cpu";
}

export interface CudaInstallPlan {
  packageDir: string;
  /** Where the files go. */
  target: string;
  /** The NuGet package the install step downloads them from. */
  source: string;
  files: { name: string; present: boolean }[];
  /** The command that runs the package's own install step. */
  command: string[];
}

/** What `installCudaProvider` would do; throws a plain sentence on platforms without a CUDA provider. */
export function cudaInstallPlan(pkgDir = onnxruntimePackageDir()): CudaInstallPlan {
  const { files, nugetPackage } = manifestFiles(pkgDir, "cuda12");
  if (files.length === 0 || !nugetPackage) {
    throw new Error(
      `onnxruntime-node has no CUDA provider to install on ${process.platform}/${process.arch} ` +
        `(it is offered for linux/x64; Windows builds bundle DirectML instead: use --device dml)`,
    );
  }
  const target = nativeDir(pkgDir);
  return {
    packageDir: pkgDir,
    target,
    source: `NuGet ${nugetPackage}`,
    files: files.map((name) => ({ name, present: existsSync(join(target, name)) })),
    command: ["node", join(pkgDir, "script", "install.js"), CUDA_INSTALL_FLAG],
  };
}

/** The folder of the package.json that names the package a file belongs to (nested ones only set a type). */
function packageRoot(file: string): string {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && JSON.parse(Deno.readTextFileSync(manifest)).name) return dir;
  }
  throw new Error(`no package.json above ${file}`);
}

/**
 * The runtime dependencies of a package in Deno's npm cache, by name, found with Deno's own resolver. Deno's
 * cache has no node_modules tree, so Node.js can only find them through NODE_PATH.
 */
export function dependencyDirs(pkgDir: string): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (dir: string) => {
    const manifest = JSON.parse(Deno.readTextFileSync(join(dir, "package.json")));
    const from = createRequire(join(dir, "package.json"));
    for (const name of Object.keys(manifest.dependencies ?? {})) {
      if (found.has(name)) continue;
      let root: string;
      try {
        root = packageRoot(from.resolve(name));
      } catch {
        continue; // types-only packages have nothing to require
      }
      found.set(name, root);
      visit(root);
    }
  };
  visit(pkgDir);
  return found;
}

/**
 * Runs the package's install step with Node.js (which every user of `npx` has) and needs network access to
 * NuGet. Returns the files still missing afterwards (empty on success).
 */
export async function installCudaProvider(plan: CudaInstallPlan): Promise<string[]> {
  const [cmd, ...args] = plan.command;
  const modules = await Deno.makeTempDir({ prefix: "ort-install-" });
  try {
    for (const [name, dir] of dependencyDirs(plan.packageDir)) {
      await Deno.mkdir(dirname(join(modules, name)), { recursive: true });
      await Deno.symlink(dir, join(modules, name));
    }
    // npm's variables (set when Deno runs under npx) would make the script take this for a local build.
    const env = Object.fromEntries(
      Object.entries(Deno.env.toObject()).filter(([k]) => !k.startsWith("npm_")),
    );
    env.NODE_PATH = modules;
    const child = new Deno.Command(cmd, {
      args,
      cwd: plan.packageDir,
      env,
      clearEnv: true,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
    const { code } = await child.status;
    if (code !== 0) {
      throw new Error(
        `the onnxruntime-node install step failed (exit code ${code}); it downloads ${plan.source}, ` +
          `so this machine must reach NuGet`,
      );
    }
  } finally {
    await Deno.remove(modules, { recursive: true });
  }
  return plan.files.filter((f) => !existsSync(join(plan.target, f.name))).map((f) => f.name);
}

export interface ProviderReport {
  name: string;
  bundled: boolean;
  state: "usable" | "installed, not usable" | "not installed" | "not used by this app";
  reason?: string;
}

/** Each provider onnxruntime-node knows here, and whether a session really opens on it. */
export async function providerReport(pkgDir = onnxruntimePackageDir()): Promise<ProviderReport[]> {
  const rows: ProviderReport[] = [];
  for (const { name, bundled, missing } of providerStatuses(pkgDir)) {
    const device = DEVICES.find((d) => d === name);
    if (missing.length) {
      const reason = `${missing.join(", ")} missing: run \`deno task models install-cuda\``;
      rows.push({ name, bundled, state: "not installed", reason });
    } else if (!device) {
      rows.push({ name, bundled, state: "not used by this app" });
    } else {
      const probe = await probeProvider(device);
      rows.push({
        name,
        bundled,
        state: probe.usable ? "usable" : "installed, not usable",
        reason: probe.reason,
      });
    }
  }
  return rows;
}

// Execution providers: what onnxruntime-node offers here, whether a session opens on each, and the CUDA
// provider's install step, run against a stand-in package so the test needs no network or GPU.
import { deepStrictEqual as assertEquals, match as assertMatch, ok, rejects } from "node:assert";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  CUDA_INSTALL_FLAG,
  cudaInstallPlan,
  dependencyDirs,
  installCudaProvider,
  nativeDir,
  onnxruntimePackageDir,
  probeProvider,
  providerStatuses,
} from "../../../lib/models/providers.ts";

const linuxX64 = process.platform === "linux" && process.arch === "x64";

Deno.test("the CPU provider is bundled and a session opens on it", async () => {
  const cpu = providerStatuses().find((p) => p.name === "cpu");
  assertEquals(cpu, { name: "cpu", bundled: true, missing: [] });
  assertEquals(await probeProvider("cpu"), { usable: true });
});

Deno.test("CUDA without its provider files is reported missing and unusable, with the reason", async () => {
  const cuda = providerStatuses().find((p) => p.name === "cuda");
  if (!cuda || cuda.missing.length === 0) return; // a machine where the provider is installed
  ok(cuda.missing.includes("libonnxruntime_providers_cuda.so"));
  ok(!cuda.missing.includes("libonnxruntime_providers_tensorrt.so"), "CUDA does not need TensorRT");
  const probe = await probeProvider("cuda");
  assertEquals(probe.usable, false);
  assertMatch(probe.reason ?? "", /\S/);
});

Deno.test("the install step's dependencies are found in Deno's npm cache by their package roots", () => {
  const deps = dependencyDirs(onnxruntimePackageDir());
  for (const name of ["global-agent", "adm-zip"]) {
    const dir = deps.get(name);
    ok(dir, `${name} found`);
    assertEquals(JSON.parse(Deno.readTextFileSync(join(dir, "package.json"))).name, name);
  }
});

/** A stand-in for onnxruntime-node: the real install metadata and a script that records how it was run. */
async function fakePackage(script: string): Promise<string> {
  const dir = await Deno.makeTempDir();
  const real = onnxruntimePackageDir();
  await Deno.mkdir(join(dir, "script"));
  for (const f of ["install-metadata.js", "install-metadata-versions.js"]) {
    await Deno.copyFile(join(real, "script", f), join(dir, "script", f));
  }
  await Deno.writeTextFile(join(dir, "package.json"), JSON.stringify({ name: "fake-ort", dependencies: {} }));
  await Deno.writeTextFile(join(dir, "script", "install.js"), script);
  await Deno.mkdir(nativeDir(dir), { recursive: true });
  return dir;
}

Deno.test({
  name: "install-cuda runs the package's own install step with the forcing flag, outside npm's variables",
  ignore: !linuxX64,
  fn: async () => {
    const dir = await fakePackage(`
      const fs = require("fs"), path = require("path");
      const meta = require("./install-metadata.js");
      if (!process.argv.includes(${JSON.stringify(CUDA_INSTALL_FLAG)})) process.exit(3);
      if (process.env.npm_package_json || !process.env.NODE_PATH) process.exit(4);
      const bin = path.join(__dirname, "..", "bin", "napi-v6", process.platform, process.arch);
      for (const f of Object.keys(meta.manifests["linux/x64:cuda12"])) fs.writeFileSync(path.join(bin, f), "");
    `);
    try {
      const plan = cudaInstallPlan(dir);
      assertEquals(plan.target, nativeDir(dir));
      assertMatch(plan.source, /OnnxRuntime\.Gpu\.Linux/);
      ok(plan.files.some((f) => f.name === "libonnxruntime_providers_cuda.so" && !f.present));
      Deno.env.set("npm_package_json", "/somewhere/package.json"); // as under npx
      try {
        assertEquals(await installCudaProvider(plan), []);
      } finally {
        Deno.env.delete("npm_package_json");
      }
      ok(existsSync(join(nativeDir(dir), "libonnxruntime_providers_cuda.so")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a failing install step is an error that says where the files come from",
  ignore: !linuxX64,
  fn: async () => {
    const dir = await fakePackage(`process.exit(1);`);
    try {
      await rejects(installCudaProvider(cudaInstallPlan(dir)), /exit code 1.*NuGet/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

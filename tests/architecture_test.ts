// The import structure, checked from the source text: imports run down the layers only, nothing in lib/
// imports a top-level folder, and the web service does not reach into the aesthetic engine (extensions do, through
// the seam in lib/personalize/aesthetic_session.ts). Run alone: deno test -A tests/architecture_test.ts
import { deepStrictEqual as assertEquals } from "node:assert";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SKIP = new Set([
  "tests",
  "models",
  "embeddings",
  "artifacts",
  "outputs",
  "node_modules",
  ".venv",
  ".git",
]);

/** Top-level layers, lowest first: a file may import its own layer or a lower one. Root files are the top. */
const LAYERS = ["lib", "extension", "islands", "routes", "bench"];
/** lib/ folders, lowest first, by the same rule; folders on one rank may not import each other. */
const LIB_RANKS = [["io"], ["onnx", "demo"], ["clip", "models"], ["embed", "personalize"], ["diffusion"], [
  "extensions",
  "eval",
], [
  "server",
], ["queue"]];
/** Imports that must never be, whatever the ranks say: [from folder, to folder, why]. */
const NEVER: [string, string, string][] = [
  [
    "lib/server",
    "lib/personalize",
    "the web service runs extensions; the aesthetic engine belongs to the extension",
  ],
];

export interface Import {
  from: string;
  to: string;
}

function sourceFiles(dir = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const path = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory && !SKIP.has(e.name) && !e.name.startsWith(".")) out.push(...sourceFiles(path));
    else if (e.isFile && /\.tsx?$/.test(e.name)) out.push(path);
  }
  return out;
}

/** Relative imports, re-exports, dynamic imports and worker URLs of every source file, as repo paths. */
export function projectImports(): Import[] {
  const out: Import[] = [];
  const spec = /(?:\bfrom\s*|\bimport\s*\(?\s*|new URL\(\s*)["'](\.{1,2}\/[^"']+)["']/g;
  for (const file of sourceFiles()) {
    const text = Deno.readTextFileSync(join(ROOT, file));
    for (const m of text.matchAll(spec)) {
      out.push({ from: file, to: relative(ROOT, normalize(join(ROOT, dirname(file), m[1]))) });
    }
  }
  return out;
}

function layer(path: string): number {
  const i = LAYERS.indexOf(path.split("/")[0]);
  return i >= 0 ? i : LAYERS.length; // root files (main.ts, the CLIs) sit on top
}

function libRank(path: string): number {
  return LIB_RANKS.findIndex((r) => r.includes(path.split("/")[1]));
}

/** Every import that breaks a rule, as "from -> to: why". */
export function violations(imports: Import[]): string[] {
  const bad: string[] = [];
  for (const { from, to } of imports) {
    const say = (why: string) => bad.push(`${from} -> ${to}: ${why}`);
    if (from.startsWith("lib/") && !to.startsWith("lib/")) say("lib/ imports a top-level folder");
    else if (layer(to) > layer(from)) say("runs back up the layers");
    if (from.startsWith("lib/") && to.startsWith("lib/")) {
      const [a, b] = [libRank(from), libRank(to)];
      if (a < 0 || b < 0) say("a lib/ folder without a rank in tests/architecture_test.ts");
      else if (b > a) say("runs back up the lib/ folders");
      else if (b === a && from.split("/")[1] !== to.split("/")[1]) {
        say("imports a lib/ folder of the same rank");
      }
    }
    for (const [a, b, why] of NEVER) if (from.startsWith(`${a}/`) && to.startsWith(`${b}/`)) say(why);
  }
  return bad;
}

Deno.test("imports run down the layers; lib/ imports nothing above it", () => {
  const imports = projectImports();
  assertEquals(imports.length > 100, true, "the imports were read");
  assertEquals(violations(imports), []);
});

Deno.test("the check sees an upward import", () => {
  assertEquals(violations([{ from: "lib/server/service.ts", to: "extension/adapter.ts" }]), [
    "lib/server/service.ts -> extension/adapter.ts: lib/ imports a top-level folder",
  ]);
  assertEquals(violations([{ from: "extension/aesthetic.ts", to: "islands/island.tsx" }]).length, 1);
  assertEquals(violations([{ from: "lib/io/png.ts", to: "lib/server/job.ts" }]).length, 1);
  assertEquals(violations([{ from: "lib/server/service.ts", to: "lib/personalize/aesthetic.ts" }]).length, 1);
});

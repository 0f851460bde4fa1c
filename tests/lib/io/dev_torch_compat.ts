// Dev-only check (not part of the test suite, needs a Python with torch and safetensors):
// what writeEmbedding produces loads in `torch.load(..., weights_only=True)` / safetensors with the same values,
// and every .pt in an optional directory of real-world files reads the same here as in torch.
//   deno run -A tests/lib/io/dev_torch_compat.ts [python] [dir-of-real-pt-files]
import { join } from "node:path";
import { embeddingNorm, readEmbedding, writeEmbedding } from "../../../lib/io/embedding.ts";

const python = Deno.args[0] ?? "/work/pyenv/bin/python";
const realDir = Deno.args[1];

const PY = `
import sys, json, torch
from safetensors import safe_open
out = {}
for path in sys.argv[1:]:
    if path.endswith(".safetensors"):
        with safe_open(path, "pt") as f:
            t = f.get_tensor(f.keys()[0]); meta = f.metadata()
    else:
        t = torch.load(path, map_location="cpu", weights_only=True); meta = None
    out[path] = {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch."),
                 "values": t.float().flatten().tolist(), "metadata": meta}
print(json.dumps(out))
`;

const dir = await Deno.makeTempDir({ prefix: "torch_compat_" });
const paths: string[] = [];
const data = Float32Array.from({ length: 768 }, (_, i) => Math.sin(i * 1.3) * 0.05);
for (const format of ["pt", "safetensors"] as const) {
  for (const dtype of ["float32", "float16"] as const) {
    for (const shape of [[768], [1, 768]]) {
      const path = join(dir, `${dtype}_${shape.length}d.${format}`);
      await writeEmbedding(path, data, {
        dtype,
        shape,
        metadata: { source_model: "check", image_count: "1" },
      });
      paths.push(path);
    }
  }
}
if (realDir) {
  for (const e of Deno.readDirSync(realDir)) if (e.name.endsWith(".pt")) paths.push(join(realDir, e.name));
}

const run = new Deno.Command(python, { args: ["-c", PY, ...paths], stdout: "piped", stderr: "inherit" })
  .outputSync();
if (!run.success) throw new Error(`${python} failed`);
const torch: Record<string, { shape: number[]; dtype: string; values: number[] }> = JSON.parse(
  new TextDecoder().decode(run.stdout),
);

let failures = 0;
for (const path of paths) {
  const ours = await readEmbedding(path);
  const theirs = torch[path];
  const same = JSON.stringify(ours.shape) === JSON.stringify(theirs.shape) && ours.dtype === theirs.dtype &&
    ours.data.every((v, i) => v === theirs.values[i]) && ours.data.length === theirs.values.length;
  if (!same) failures++;
  console.log(
    `${same ? "ok  " : "FAIL"} ${path}: [${ours.shape}] ${ours.dtype} norm ${
      embeddingNorm(ours).toFixed(4)
    } ` +
      `(torch: [${theirs.shape}] ${theirs.dtype})`,
  );
}
await Deno.remove(dir, { recursive: true });
if (failures) Deno.exit(1);

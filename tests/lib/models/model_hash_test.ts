// The short hash is the first 10 hex digits of the sha256 of the weight files in order; the cache is used
// while the files are unchanged and ignored once they change.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { modelSha256, sha256Files, shortHash } from "../../../lib/models/model_hash.ts";

Deno.test("sha256Files hashes the files' concatenation; shortHash keeps 10 digits", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = join(dir, "model.onnx"), b = join(dir, "model.onnx_data");
    await Deno.writeTextFile(a, "graph bytes");
    await Deno.writeTextFile(b, "x".repeat(200_000));
    const expected = createHash("sha256").update("graph bytes" + "x".repeat(200_000)).digest("hex");
    assertEquals(await sha256Files([a, b]), expected, "wrong sha256");
    assertEquals(shortHash(expected), expected.slice(0, 10), "wrong short hash");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("modelSha256 reuses the cache while files are unchanged, recomputes when they change", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const f = join(dir, "model.onnx"), cacheFile = join(dir, "cache", "hashes.json");
    await Deno.writeTextFile(f, "one");
    const first = await modelSha256([f], { cacheFile });
    // Plant a different value under the same stamp: a cache hit returns it, proving no re-hash happened.
    const cache = JSON.parse(await Deno.readTextFile(cacheFile));
    const key = Object.keys(cache)[0];
    cache[key].sha256 = "f".repeat(64);
    await Deno.writeTextFile(cacheFile, JSON.stringify(cache));
    assertEquals(await modelSha256([f], { cacheFile }), "f".repeat(64), "cache not used");
    await Deno.writeTextFile(f, "two!");
    const changed = await modelSha256([f], { cacheFile });
    ok(changed !== "f".repeat(64) && changed !== first, "stale cache entry used");
    await Deno.writeTextFile(cacheFile, "{ corrupt");
    assertEquals(await modelSha256([f], { cacheFile }), changed, "a corrupt cache must only re-hash");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// The on-disk cache of personalization graphs: a second load reads the entry and personalizes exactly as a
// fresh build does; a changed model file, another rewrite key or a damaged entry never reuses a wrong graph.
import { deepStrictEqual as assertEquals, notStrictEqual, ok } from "node:assert";
import { join } from "node:path";
import { PENULTIMATE, withPenultimateOutput } from "../../../lib/clip/clip_skip.ts";
import { TextPersonalizer } from "../../../lib/personalize/engine.ts";
import { graphCacheEntry } from "../../../lib/personalize/graph_cache.ts";
import { MODELS } from "../../fixtures.ts";

const SOURCE = join(MODELS, "tiny-sd1-clip", "onnx", "text_model.onnx");
const IDS = [49406, 320, 1125, 539, 320, 2368, 49407, ...new Array(70).fill(49407)];

async function withModelCopy(fn: (model: string, cacheDir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const model = join(dir, "text_model.onnx");
    await Deno.copyFile(SOURCE, model);
    await fn(model, join(dir, "cache"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function run(engine: TextPersonalizer) {
  const e = Float32Array.from({ length: engine.info.embedDim }, (_, i) => Math.sin(i + 1));
  try {
    const r = await engine.personalize(IDS, e, { steps: 3, lr: 1e-3 });
    return { similarity: r.similarity, conditioning: [...r.conditioning.get(3)!] };
  } finally {
    await engine.release();
  }
}

Deno.test("a second load reads the cached graphs and personalizes exactly as a fresh build", async () => {
  await withModelCopy(async (model, dir) => {
    const cache = { dir, key: "" };
    const built = await run(await TextPersonalizer.load(model, { cache }));
    const entry = (await graphCacheEntry(dir, model, "|last_hidden_state"))!;
    const files = [];
    for await (const f of Deno.readDir(entry)) files.push(f.name);
    assertEquals(files.sort(), ["forward.onnx", "gradient.onnx", "meta.json"]);
    assertEquals(await run(await TextPersonalizer.load(model, { cache })), built);
    assertEquals(await run(await TextPersonalizer.load(model)), built);

    // The entry is what the second load used: a mark put into it shows up.
    const meta = JSON.parse(await Deno.readTextFile(join(entry, "meta.json")));
    await Deno.writeTextFile(join(entry, "meta.json"), JSON.stringify({ ...meta, hiddenSize: 4242 }));
    const marked = await TextPersonalizer.load(model, { cache });
    assertEquals(marked.info.hiddenSize, 4242);
    await marked.release();
  });
});

Deno.test("a touched model file or another rewrite key gets its own entry", async () => {
  await withModelCopy(async (model, dir) => {
    const plain = await graphCacheEntry(dir, model, "|last_hidden_state");
    const skip = await graphCacheEntry(dir, model, `|${PENULTIMATE}`);
    notStrictEqual(plain, skip);
    const penultimate = await TextPersonalizer.load(model, {
      cache: { dir, key: "" },
      transform: withPenultimateOutput,
      conditioningOutput: PENULTIMATE,
    });
    await penultimate.release();
    ok(await Deno.stat(skip!).then(() => true, () => false), "the CLIP-skip graphs were cached");
    await Deno.utime(model, new Date(), new Date(Date.now() + 5000));
    notStrictEqual(await graphCacheEntry(dir, model, "|last_hidden_state"), plain);
  });
});

Deno.test("a damaged entry is rebuilt, not used", async () => {
  await withModelCopy(async (model, dir) => {
    const cache = { dir, key: "" };
    const built = await run(await TextPersonalizer.load(model, { cache }));
    const entry = (await graphCacheEntry(dir, model, "|last_hidden_state"))!;
    const meta = JSON.parse(await Deno.readTextFile(join(entry, "meta.json")));
    meta.slots[0].dims = [1, 2, 3];
    await Deno.writeTextFile(join(entry, "meta.json"), JSON.stringify(meta));
    assertEquals(await run(await TextPersonalizer.load(model, { cache })), built);
    await Deno.writeFile(join(entry, "gradient.onnx"), new Uint8Array([1, 2, 3]));
    assertEquals(await run(await TextPersonalizer.load(model, { cache })), built);
    await Deno.remove(join(entry, "meta.json"));
    assertEquals(await run(await TextPersonalizer.load(model, { cache })), built);
  });
});

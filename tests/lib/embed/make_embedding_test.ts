import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { join } from "node:path";
import { makeEmbedding, NoImagesError, type Progress } from "../../../lib/embed/make_embedding.ts";
import { assertClose, FIXTURES, readRef, refs } from "../../fixtures.ts";

Deno.test("makeEmbedding: mean of the reference image_embeds, whatever the batch size, with progress", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const c of refs().images.cases) {
      await Deno.copyFile(join(FIXTURES, "images", c.file), join(dir, c.file));
    }
    await Deno.writeFile(join(dir, "empty.png"), new Uint8Array(0));
    const mean = readRef(refs().images.mean_image_embeds);
    for (const batchSize of [1, 3, 32]) {
      const seen: Progress[] = [];
      const r = await makeEmbedding({ src: dir, batchSize, workers: 2, onProgress: (p) => seen.push(p) });
      assertEquals([r.used, r.dim], [11, 16]);
      assertEquals(r.skipped.map((s) => [s.path, s.skip.code]), [[join(dir, "empty.png"), "empty"]]);
      assertClose(r.embedding, mean, 1e-5, `batch size ${batchSize}`);
      const last = seen[seen.length - 1];
      assertEquals([last.done, last.total, last.used, last.skipped], [12, 12, 11, 1]);
      assert(seen.every((p, i) => i === 0 || p.done >= seen[i - 1].done), "progress is monotonic");
      assertEquals(last.etaSeconds, 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("makeEmbedding: an empty folder throws NoImagesError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await rejects(makeEmbedding({ src: dir }), (e: unknown) => e instanceof NoImagesError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert";
import { join } from "node:path";
import { makeEmbedding, NoImagesError, type Progress } from "../../../lib/embed/make_embedding.ts";
import { TINY_DEMO_CLIP_DIR } from "../../../lib/models/defaults.ts";
import { assertClose, FIXTURES, readRef, refs } from "../../fixtures.ts";
import { hostileEntries, within } from "../../hostile_files.ts";

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
      const r = await makeEmbedding({
        src: dir,
        clipDir: TINY_DEMO_CLIP_DIR,
        batchSize,
        workers: 2,
        onProgress: (p) => seen.push(p),
      });
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

Deno.test("makeEmbedding: FIFOs, links to /dev/zero and oversized files are skipped with the reason", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const c = refs().images.cases[0];
    await Deno.copyFile(join(FIXTURES, "images", c.file), join(dir, c.file));
    const p = await hostileEntries(dir, ".png"); // a FIFO named .png hung the run; /dev/zero grew 1.7 GB/s
    const big = join(dir, "big.png");
    await Deno.writeFile(big, new Uint8Array(0));
    await Deno.truncate(big, 300 << 20); // sparse
    const r = await within(60_000, "makeEmbedding", makeEmbedding({ src: dir, workers: 1 }));
    assertEquals(r.used, 1);
    const why = Object.fromEntries(r.skipped.map((s) => [s.path, `${s.skip.code}: ${s.skip.message}`]));
    assertEquals(
      Object.keys(why).sort(),
      [big, p.fifo, p.zero].sort(),
      "the folder link is not an image file",
    );
    assert(/^not-a-file: the file is a FIFO/.test(why[p.fifo]), why[p.fifo]);
    assert(/^not-a-file: the file is a device/.test(why[p.zero]), why[p.zero]);
    assert(/^too-large: the file is 314572800 bytes, over the limit of 268435456/.test(why[big]), why[big]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

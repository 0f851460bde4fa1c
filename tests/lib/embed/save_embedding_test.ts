// One rule for where an embedding goes and one metadata vocabulary, whichever front end makes it.
import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { join } from "node:path";
import { embeddingTarget } from "../../../lib/embed/save_embedding.ts";
import { readEmbedding } from "../../../lib/io/embedding.ts";
import { InputError } from "../../../lib/io/input_error.ts";
import { TINY_DEMO_CLIP_DIR } from "../../../lib/models/defaults.ts";
import { EmbeddingMaker } from "../../../lib/server/embedding_maker.ts";
import { FIXTURES } from "../../fixtures.ts";

Deno.test("embeddingTarget: the name's extension or the format; confined names; existing files refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(embeddingTarget({ name: "a", outDir: dir }), {
      name: "a",
      path: join(dir, "a.pt"),
      format: "pt",
    });
    assertEquals(
      embeddingTarget({ name: "a", outDir: dir, format: "safetensors" }).path,
      join(dir, "a.safetensors"),
    );
    assertEquals(embeddingTarget({ name: "b.safetensors", outDir: dir }).format, "safetensors");
    throws(() => embeddingTarget({ name: "b.pt", outDir: dir, format: "safetensors" }), /says pt/);
    throws(() => embeddingTarget({ name: "../b", outDir: dir }), (e: Error) => e instanceof InputError);
    await Deno.writeTextFile(join(dir, "a.pt"), "x");
    throws(
      () => embeddingTarget({ name: "a", outDir: dir, overwriteHint: "pass --overwrite" }),
      /a\.pt already exists; pass --overwrite to replace it/,
    );
    assertEquals(embeddingTarget({ name: "a", outDir: dir, overwrite: true }).name, "a");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the WebUI's maker writes the CLI's metadata", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const maker = new EmbeddingMaker(dir);
    maker.start({
      name: "mine.safetensors",
      source: join(FIXTURES, "images"),
      batchSize: 4,
      overwrite: false,
      clipDir: TINY_DEMO_CLIP_DIR,
    });
    await maker.finished();
    assertEquals(maker.status().ok, true, maker.status().message ?? "");
    const e = await readEmbedding(join(dir, "mine.safetensors"));
    assertEquals(Object.keys(e.metadata ?? {}).sort(), [
      "created",
      "description",
      "image_count",
      "kind",
      "skipped_count",
      "source_model",
    ]);
    assertEquals(e.metadata?.source_model, "tiny-demo-clip");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

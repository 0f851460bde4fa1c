// The embedding maker with a RemoteEmbedder (serve --queue): a server folder's images are read here (regular
// files only, under a cap) and sent; what comes back is written to the embeddings folder with the files
// skipped here listed first; a failure keeps every skipped file.
import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert";
import { join } from "node:path";
import { readEmbedding } from "../../../lib/io/embedding.ts";
import { InputLimitError } from "../../../lib/io/input_error.ts";
import {
  EmbeddingFailure,
  EmbeddingMaker,
  type EmbedFiles,
  type MadeEmbedding,
  readFolderImages,
} from "../../../lib/server/embedding_maker.ts";
import { FIXTURES } from "../../fixtures.ts";

async function folder(): Promise<string> {
  const src = await Deno.makeTempDir({ prefix: "maker-src-" });
  await Deno.copyFile(join(FIXTURES, "images", "rgb.png"), join(src, "a.png"));
  await Deno.mkdir(join(src, "sub"));
  await Deno.copyFile(join(FIXTURES, "images", "gray.png"), join(src, "sub", "b.png"));
  // A FIFO named like an image: opening it would block, so it is skipped unread.
  await new Deno.Command("mkfifo", { args: [join(src, "pipe.png")] }).output();
  return src;
}

Deno.test("readFolderImages: regular image files by their path, a FIFO skipped with why, a cap on the total", async () => {
  const src = await folder();
  try {
    const { files, skipped } = await readFolderImages(src);
    assertEquals(files.map((f) => f.name), [join(src, "a.png"), join(src, "sub", "b.png")]);
    assertEquals(files[0].data, await Deno.readFile(join(src, "a.png")));
    assertEquals(skipped.map((s) => s.file), [join(src, "pipe.png")]);
    ok(/a FIFO/.test(skipped[0].reason), skipped[0].reason);
    await rejects(
      readFolderImages(src, 10),
      (e: Error) => e instanceof InputLimitError && /over 0 MB/.test(e.message),
    );
  } finally {
    await Deno.remove(src, { recursive: true });
  }
});

Deno.test("a remote maker's embedding is written here; skipped files are listed, here's first", async () => {
  const src = await folder();
  const dir = await Deno.makeTempDir({ prefix: "maker-out-" });
  const sent: EmbedFiles[] = [];
  const made: MadeEmbedding = {
    embedding: new Float32Array([1, 2, 3, 4]),
    dim: 4,
    used: 1,
    skipped: [{ file: join(src, "sub", "b.png"), reason: "cannot decode" }],
    quality: { images: [], meanCosine: 1, outliers: 0 },
    sourceModel: "remote-clip",
  };
  let fail = false;
  const maker = new EmbeddingMaker(dir, true, {
    embed: (job, onProgress) => {
      sent.push(job);
      onProgress({ done: 2, total: 2, used: 1, skipped: 1, elapsedSeconds: 1, imagesPerSecond: 2 });
      return fail
        ? Promise.reject(new EmbeddingFailure("no usable image", made.skipped))
        : Promise.resolve(made);
    },
  });
  try {
    maker.start({
      name: "remote.safetensors",
      source: src,
      batchSize: 2,
      overwrite: false,
      clipDir: "unused",
    });
    await maker.finished();
    const status = maker.status();
    assertEquals([status.ok, status.message], [true, "Created remote from 1 images, 2 skipped (4-d)"]);
    assertEquals(status.skipped.map((s) => s.file), [join(src, "pipe.png"), join(src, "sub", "b.png")]);
    assertEquals(status.progress?.done, 2);
    assertEquals(sent[0].label, src);
    assertEquals(sent[0].files.map((f) => f.name), [join(src, "a.png"), join(src, "sub", "b.png")]);
    const saved = await readEmbedding(join(dir, "remote.safetensors"));
    assertEquals([...saved.data], [1, 2, 3, 4]);
    assertEquals([saved.metadata?.source_model, saved.metadata?.skipped_count], ["remote-clip", "2"]);

    fail = true;
    maker.start({ name: "none", source: src, batchSize: 2, overwrite: false, clipDir: "unused" });
    await maker.finished();
    const failed = maker.status();
    assertEquals([failed.ok, failed.message], [false, "Failed: no usable image"]);
    assertEquals(failed.skipped.length, 2);
  } finally {
    await Deno.remove(src, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

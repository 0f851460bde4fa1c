import { deepStrictEqual as assertEquals, ok, rejects, throws } from "node:assert";
import { join } from "node:path";
import {
  blendEmbeddings,
  type Embedding,
  embeddingNorm,
  listEmbeddings,
  readEmbedding,
  validateEmbedding,
  writeEmbedding,
} from "../../../lib/io/embedding.ts";
import { FIXTURES, readRef, refs, type TensorRef } from "../../fixtures.ts";
import { InputError, InputLimitError } from "../../../lib/io/input_error.ts";
import { dumpTensorPickle, storageTypeFor } from "../../../lib/io/pickle.ts";
import { writeSafetensors } from "../../../lib/io/safetensors.ts";
import { zipSync } from "fflate";
import { hostileEntries, within } from "../../hostile_files.ts";

interface EmbeddingRef {
  file: string;
  shape: number[];
  dtype: string;
  values: TensorRef;
}

const vector = (n: number, seed = 1) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7 + seed) * 0.04);
const emb = (data: number[], shape = [data.length]): Embedding => ({
  data: new Float32Array(data),
  shape,
  dtype: "float32",
  format: "pt",
});

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "embedding_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const ref of refs().embeddings as EmbeddingRef[]) {
  Deno.test(`readEmbedding(${ref.file}) equals the reference values`, async () => {
    const e = await readEmbedding(join(FIXTURES, "embeddings", ref.file));
    assertEquals([e.shape, e.dtype, e.format, e.metadata], [ref.shape, ref.dtype, "pt", undefined]);
    assertEquals(e.data, readRef(ref.values));
  });
}

Deno.test("write → read round trips: pt and safetensors × float32 and float16", async () => {
  await withDir(async (dir) => {
    const data = vector(768);
    for (const format of ["pt", "safetensors"] as const) {
      for (const dtype of ["float32", "float16"] as const) {
        const path = join(dir, `e_${dtype}.${format}`);
        const metadata = format === "safetensors"
          ? { source_model: "tiny-sd1", image_count: "3" }
          : undefined;
        await writeEmbedding(path, data, { dtype, metadata });
        const e = await readEmbedding(path);
        assertEquals([e.format, e.dtype, e.shape, e.metadata], [format, dtype, [1, 768], metadata]);
        assertEquals(
          e.data,
          dtype === "float16" ? data.map((v) => Math.f16round(v)) : data,
          `${format} ${dtype}`,
        );
      }
    }
    await writeEmbedding(join(dir, "flat.pt"), data, { shape: [768] });
    assertEquals((await readEmbedding(join(dir, "flat.pt"))).shape, [768]);
    // Nothing but the written files: temporary files were renamed or removed.
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assertEquals(names.sort(), [
      "e_float16.pt",
      "e_float16.safetensors",
      "e_float32.pt",
      "e_float32.safetensors",
      "flat.pt",
    ]);
  });
});

Deno.test("format follows the magic bytes, not the extension", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "mean.bin");
    await writeEmbedding(path, vector(16), { format: "safetensors" });
    assertEquals((await readEmbedding(path)).format, "safetensors");
    await writeEmbedding(join(dir, "other.bin"), vector(16));
    assertEquals((await readEmbedding(join(dir, "other.bin"))).format, "pt");
    await rejects(
      writeEmbedding(join(dir, "x.pt"), vector(16), { format: "safetensors" }),
      /extension says otherwise/,
    );
  });
});

Deno.test("an existing file is not overwritten unless asked, and is left untouched", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "style.pt");
    await writeEmbedding(path, vector(16, 1));
    const before = await Deno.readFile(path);
    await rejects(writeEmbedding(path, vector(16, 2)), (e: Error) => {
      assertEquals(e.message, `${path} already exists; pass overwrite to replace it`);
      return true;
    });
    await rejects(writeEmbedding(path, vector(16, 2), { overwrite: false }), /already exists/);
    assertEquals(await Deno.readFile(path), before);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["style.pt"]);
    await writeEmbedding(path, vector(16, 2), { overwrite: true });
    assertEquals((await readEmbedding(path)).data, vector(16, 2));
  });
});

Deno.test("writeEmbedding refuses data that would not round trip", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "x.pt");
    await rejects(writeEmbedding(p, new Float32Array([1, NaN])), /value NaN at index 1 is not finite/);
    await rejects(
      writeEmbedding(p, new Float32Array([1, 1e6]), { dtype: "float16" }),
      /index 1 overflows float16/,
    );
    await rejects(writeEmbedding(p, new Float32Array(4), { shape: [2, 2] }), /must be \[4\] or \[1, 4\]/);
    await rejects(writeEmbedding(p, new Float32Array(0)), /empty embedding/);
    assertEquals([...Deno.readDirSync(dir)], []);
  });
});

Deno.test("readEmbedding explains files it cannot use", async () => {
  await withDir(async (dir) => {
    const text = join(dir, "notes.pt");
    await Deno.writeTextFile(text, "not a tensor");
    await rejects(readEmbedding(text), new RegExp(`${text}: not a torch .pt file`));
    const other = join(dir, "notes.txt");
    await Deno.writeTextFile(other, "not a tensor");
    await rejects(readEmbedding(other), /neither a torch .pt \(zip\) nor a .safetensors file/);
    await rejects(readEmbedding(join(dir, "missing.pt")), /cannot read embedding .*missing.pt/);
    await rejects(readEmbedding(dir), /is a folder; only regular files are read/);
  });
});

Deno.test("hostile embeddings are refused as input errors: stride-0 views, oversized vectors and files, FIFOs", async () => {
  await withDir(async (dir) => {
    // The 602-byte file: one stored float viewed 2^29 times with stride 0 (it loaded as 2.2 GB).
    const pickle = dumpTensorPickle({
      type: storageTypeFor("float32"),
      key: "0",
      location: "cpu",
      numel: 1,
      offset: 0,
      shape: [1, 1 << 29],
      stride: [0, 0],
    });
    const stride0 = join(dir, "stride0.pt");
    await Deno.writeFile(
      stride0,
      zipSync({ "a/data.pkl": pickle, "a/data/0": new Uint8Array(4) }, { level: 0 }),
    );
    const check = (type: typeof InputError, pattern: RegExp) => (e: unknown) => {
      ok(e instanceof type, `${e}`);
      ok(pattern.test((e as Error).message), (e as Error).message);
      return true;
    };
    await rejects(
      readEmbedding(stride0),
      check(InputError, /has 536870912 elements but its storage holds 1/),
    );
    // A deflated zip entry: 32 MB of storage in a file of a few hundred KB, viewed as 4 values.
    const deflated = join(dir, "deflated.pt");
    const bigStorage = dumpTensorPickle({
      type: storageTypeFor("float32"),
      key: "0",
      location: "cpu",
      numel: 1 << 23,
      offset: 0,
      shape: [1, 4],
      stride: [4, 1],
    });
    await Deno.writeFile(
      deflated,
      zipSync({
        "a/data.pkl": [bigStorage, { level: 0 }],
        "a/data/0": [new Uint8Array(1 << 25), { level: 1 }],
      }),
    );
    await rejects(
      readEmbedding(deflated),
      check(InputLimitError, /a\/data\/0 is 33554432 bytes, over the limit of 16777216/),
    );
    const wide = join(dir, "wide.pt");
    await writeEmbedding(wide, vector(20000));
    await rejects(
      readEmbedding(wide),
      check(InputLimitError, /tensor has 20000 elements, over the limit of 16384/),
    );
    const wideSt = join(dir, "wide.safetensors");
    await Deno.writeFile(
      wideSt,
      writeSafetensors([{ name: "e", data: vector(20000), shape: [20000], dtype: "float32" }]),
    );
    await rejects(readEmbedding(wideSt), check(InputLimitError, /has 20000 values, over the limit of 16384/));
    const huge = join(dir, "huge.pt");
    await Deno.writeFile(huge, new Uint8Array(0));
    await Deno.truncate(huge, 17 << 20); // sparse: no disk used
    await rejects(
      readEmbedding(huge),
      check(InputLimitError, /is 17825792 bytes, over the limit of 16777216/),
    );
    const p = await hostileEntries(dir, ".pt");
    await within(5000, "a FIFO", rejects(readEmbedding(p.fifo), check(InputError, /is a FIFO/)));
    await within(5000, "/dev/zero", rejects(readEmbedding(p.zero), check(InputError, /is a device/)));
  });
});

Deno.test("embeddingNorm is the L2 norm", () => {
  assertEquals(embeddingNorm(emb([3, 4])), 5);
  assertEquals(embeddingNorm(emb([0, 0])), 0);
});

Deno.test("blendEmbeddings is the weighted sum; mismatched dimensions are named", () => {
  const b = blendEmbeddings([{ embedding: emb([1, 2], [1, 2]), weight: 0.5 }, {
    embedding: emb([4, -2]),
    weight: 2,
  }]);
  assertEquals([b.data, b.shape, b.dtype], [new Float32Array([8.5, -3]), [1, 2], "float32"]);
  throws(
    () =>
      blendEmbeddings([{ embedding: emb([1, 2]), weight: 1, name: "sac" }, {
        embedding: emb([1, 2, 3]),
        weight: 1,
        name: "tiny",
      }]),
    /different dimensions: sac has 2, tiny has 3/,
  );
  throws(
    () => blendEmbeddings([{ embedding: emb([1]), weight: 1 }, { embedding: emb([1, 2]), weight: 1 }]),
    /embedding #1 has 1, embedding #2 has 2/,
  );
  throws(() => blendEmbeddings([{ embedding: emb([1]), weight: NaN }]), /weight of embedding #1 is NaN/);
  throws(() => blendEmbeddings([]), /at least one/);
});

Deno.test("validateEmbedding names dimensions and model; rejects NaN, Inf and zero vectors", () => {
  validateEmbedding(emb([0.1, 0.2], [1, 2]), 2, "tiny-sd1");
  throws(
    () => validateEmbedding(emb([1, 2]), 768, "sd-v1-5"),
    /embedding has 2 dimensions but sd-v1-5 expects 768/,
  );
  throws(
    () => validateEmbedding(emb([1, NaN, Infinity]), 3, "m"),
    /2 NaN\/Inf values \(first at index 1\); unusable with m/,
  );
  throws(() => validateEmbedding(emb([0, 0]), 2, "m"), /all zeros \(norm 0\); unusable with m/);
  throws(() => validateEmbedding(emb([1, 2, 3, 4], [2, 2]), 4, "m"), /shape \[2, 2\] is not a single vector/);
});

Deno.test("listEmbeddings lists readable embeddings and says why others were skipped", async () => {
  await withDir(async (dir) => {
    await writeEmbedding(join(dir, "b.safetensors"), new Float32Array([3, 4]), { dtype: "float16" });
    await writeEmbedding(join(dir, "a.pt"), new Float32Array([0, 2]), { shape: [2] });
    await writeEmbedding(join(dir, "b.pt"), new Float32Array([1, 0]));
    await Deno.copyFile(join(FIXTURES, "embeddings", "tiny-random-f16.pt"), join(dir, "c.pth"));
    await Deno.writeTextFile(join(dir, "broken.pt"), "garbage");
    await Deno.writeTextFile(join(dir, "readme.txt"), "ignored: not an embedding extension");
    await Deno.writeFile(join(dir, ".hidden.pt"), new Uint8Array(3));
    const { embeddings, skipped } = await listEmbeddings(dir);
    assertEquals(embeddings.map((e) => [e.name, e.shape, e.dtype, e.norm, e.format]), [
      ["a", [2], "float32", 2, "pt"],
      ["b.pt", [1, 2], "float32", 1, "pt"],
      ["b.safetensors", [1, 2], "float16", 5, "safetensors"],
      ["c", [16], "float16", embeddings[3].norm, "pt"],
    ]);
    ok(Math.abs(embeddings[3].norm - 1.11) < 0.01);
    assertEquals(embeddings[0].path, join(dir, "a.pt"));
    assertEquals(skipped.length, 1);
    assertEquals([skipped[0].name, skipped[0].path], ["broken", join(dir, "broken.pt")]);
    ok(skipped[0].reason.includes("not a torch .pt file"), skipped[0].reason);
    assertEquals(await listEmbeddings(join(dir, "nowhere")), { embeddings: [], skipped: [] });
  });
});

Deno.test("listEmbeddings reads a file again only when its size, time or inode changes", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "a.pt");
    await writeEmbedding(path, new Float32Array([0, 2]));
    assertEquals((await listEmbeddings(dir)).embeddings.map((e) => e.norm), [2]);
    // Same bytes count, same inode, same times: the cached description stands (the file is not read).
    const { mtime, atime } = await Deno.stat(path);
    const bytes = await Deno.readFile(path);
    const f = await Deno.open(path, { write: true });
    await f.write(new Uint8Array(bytes.length));
    f.close();
    await Deno.utime(path, atime!, mtime!);
    assertEquals((await listEmbeddings(dir)).embeddings.map((e) => e.norm), [2], "cached");
    await Deno.utime(path, atime!, new Date(mtime!.getTime() + 1000));
    const again = await listEmbeddings(dir);
    assertEquals([again.embeddings.length, again.skipped.map((s) => s.name)], [0, ["a"]], "read again");
  });
});

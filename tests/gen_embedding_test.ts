// gen_embedding.ts run as a subprocess, as users run it, in temporary folders.
import { deepStrictEqual as assertEquals, match as assertMatch, ok as assert } from "node:assert";
import { join } from "node:path";
import sharp from "sharp";
import { readEmbedding } from "../lib/io/embedding.ts";
import { assertClose, FIXTURES, readRef, refs } from "./fixtures.ts";
import { pngHeader } from "./lib/io/crafted_png.ts";
import { type CliRun, ROOT, runCli } from "./run_cli.ts";

const CLI = join(ROOT, "gen_embedding.ts");
const CLIP = join(FIXTURES, "models", "tiny-sd1-clip");

function run(args: string[], cwd: string): Promise<CliRun> {
  return runCli("gen_embedding.ts", args, { cwd });
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gen_embedding_test_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The reference images (nested, to check the recursive walk) plus files that must be skipped. */
async function makeSource(dir: string): Promise<string> {
  const src = join(dir, "src");
  await Deno.mkdir(join(src, "nested", "deeper"), { recursive: true });
  for (const [i, c] of refs().images.cases.entries()) {
    const sub = i % 3 === 0 ? "" : i % 3 === 1 ? "nested" : join("nested", "deeper");
    await Deno.copyFile(join(FIXTURES, "images", c.file), join(src, sub, c.file));
  }
  await Deno.writeFile(join(src, "zero.jpg"), new Uint8Array(0));
  const jpg = await Deno.readFile(join(FIXTURES, "images", "rgb.jpg"));
  await Deno.writeFile(join(src, "nested", "truncated.jpg"), jpg.subarray(0, jpg.length >> 1));
  await Deno.writeTextFile(join(src, "readme.png"), "not an image\n");
  await Deno.writeFile(join(src, "bomb.png"), pngHeader(100000, 100000));
  await Deno.writeTextFile(join(src, "captions.txt"), "ignored: not an image extension\n");
  return src;
}

async function listDir(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("writes the mean of the reference image_embeds as a (1, D) float32 .pt, listing skipped files", async () => {
  await withTemp(async (dir) => {
    const src = await makeSource(dir);
    const out = join(dir, "out");
    const r = await run([
      "--src",
      src,
      "--name",
      "mine",
      "--out-dir",
      out,
      "--clip",
      CLIP,
      "--batch-size",
      "4",
    ], dir);
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout, /Used 11 images/);
    assertMatch(r.stdout, /Skipped 4 files/);
    assertMatch(r.stdout, /zero\.jpg: skipped: empty file/);
    assertMatch(r.stdout, /truncated\.jpg: skipped: cannot decode the image \(truncated or corrupt\)/);
    assertMatch(r.stdout, /readme\.png: skipped: not a decodable image/);
    assertMatch(r.stdout, /bomb\.png: skipped: header declares 100000×100000/);
    assertMatch(r.stderr, /img\/s .*ETA/);
    assertEquals(await listDir(out), ["mine.pt"]);
    const e = await readEmbedding(join(out, "mine.pt"));
    assertEquals([e.shape, e.dtype, e.format], [[1, 16], "float32", "pt"]);
    const mean = readRef(refs().images.mean_image_embeds);
    assertClose(e.data, mean, 1e-5, "written embedding vs mean of the reference image_embeds");
    // The committed reference embedding, written by torch.save, holds the same vector.
    const torchMade = await readEmbedding(join(FIXTURES, "embeddings", "tiny-sd1-images.pt"));
    assertClose(e.data, torchMade.data, 1e-5, "vs tiny-sd1-images.pt");
  });
});

Deno.test("safetensors output carries metadata; --inspect --json describes it", async () => {
  await withTemp(async (dir) => {
    const src = await makeSource(dir);
    const out = join(dir, "out");
    const r = await run([
      "--src",
      src,
      "--name",
      "st",
      "--out-dir",
      out,
      "--clip",
      CLIP,
      "--format",
      "safetensors",
    ], dir);
    assertEquals(r.code, 0, r.stderr);
    const e = await readEmbedding(join(out, "st.safetensors"));
    assertEquals(e.format, "safetensors");
    assertEquals(e.metadata?.image_count, "11");
    assertEquals(e.metadata?.source_model, "tiny-sd1-clip");
    assert(!Number.isNaN(Date.parse(e.metadata?.created ?? "")), "created is a date");
    const info = await run(["--inspect", join(out, "st.safetensors"), "--json"], dir);
    assertEquals(info.code, 0, info.stderr);
    const j = JSON.parse(info.stdout);
    assertEquals([j.shape, j.dtype, j.format], [[1, 16], "float32", "safetensors"]);
    let sq = 0;
    for (const v of readRef(refs().images.mean_image_embeds)) sq += v * v;
    assert(Math.abs(j.norm - Math.sqrt(sq)) < 1e-5, `norm ${j.norm}`);
  });
});

Deno.test("--inspect --json reads a float16 torch file", async () => {
  const r = await run(["--inspect", join(FIXTURES, "embeddings", "vitl-f16-768.pt"), "--json"], ROOT);
  assertEquals(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assertEquals([j.shape, j.dtype, j.format], [[768], "float16", "pt"]);
  assert(typeof j.norm === "number" && j.norm > 0);
});

Deno.test("an empty folder is an error and writes nothing", async () => {
  await withTemp(async (dir) => {
    const src = join(dir, "empty");
    await Deno.mkdir(src);
    await Deno.writeTextFile(join(src, "notes.txt"), "no images here");
    const out = join(dir, "out");
    const r = await run(["--src", src, "--name", "x", "--out-dir", out, "--clip", CLIP], dir);
    assert(r.code !== 0);
    assertMatch(r.stderr, /no image files in/);
    assert(!(await Deno.stat(out).then(() => true, () => false)), "out dir must not be created");
  });
});

Deno.test("a folder where every image is unusable is an error that lists the reasons", async () => {
  await withTemp(async (dir) => {
    const src = join(dir, "bad");
    await Deno.mkdir(src);
    await Deno.writeFile(join(src, "a.jpg"), new Uint8Array(0));
    const r = await run(["--src", src, "--out-dir", join(dir, "out"), "--clip", CLIP], dir);
    assert(r.code !== 0);
    assertMatch(r.stderr, /none of the 1 image files/);
    assertMatch(r.stderr, /a\.jpg: skipped: empty file/);
  });
});

Deno.test("an existing output is not touched without --overwrite, and replaced with it", async () => {
  await withTemp(async (dir) => {
    const src = await makeSource(dir);
    const out = join(dir, "out");
    await Deno.mkdir(out);
    const target = join(out, "taken.pt");
    const original = new TextEncoder().encode("precious bytes");
    await Deno.writeFile(target, original);
    const r = await run(["--src", src, "--name", "taken", "--out-dir", out, "--clip", CLIP], dir);
    assert(r.code !== 0);
    assertMatch(r.stderr, /already exists; pass --overwrite/);
    assertEquals(await Deno.readFile(target), original);
    assertEquals(await listDir(out), ["taken.pt"]);
    const again = await run([
      "--src",
      src,
      "--name",
      "taken",
      "--out-dir",
      out,
      "--clip",
      CLIP,
      "--overwrite",
    ], dir);
    assertEquals(again.code, 0, again.stderr);
    assertEquals((await readEmbedding(target)).shape, [1, 16]);
  });
});

Deno.test("bad arguments exit 2 with usage", async () => {
  for (
    const args of [[], ["--src", "x", "--batch-size", "0"], ["--src", "x", "--format", "ckpt"], ["--bogus"]]
  ) {
    const r = await run(args, ROOT);
    assertEquals(r.code, 2, `${args}: ${r.stderr}`);
    assertMatch(r.stderr, /Usage:/);
  }
});

Deno.test("a run killed midway leaves no partial or temporary file", async () => {
  await withTemp(async (dir) => {
    const src = join(dir, "many");
    await Deno.mkdir(src);
    // Large noisy images so the run takes seconds: decoding and antialiased resizing dominate.
    const big = join(dir, "big.png");
    await sharp({
      create: {
        width: 1600,
        height: 1200,
        channels: 3,
        background: "#808080",
        noise: { type: "gaussian", mean: 128, sigma: 40 },
      },
    }).png({ compressionLevel: 1 }).toFile(big);
    for (let i = 0; i < 300; i++) await Deno.link(big, join(src, `img${String(i).padStart(3, "0")}.png`));
    const out = join(dir, "out");
    await Deno.mkdir(out);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--frozen",
        "-A",
        CLI,
        "--src",
        src,
        "--name",
        "partial",
        "--out-dir",
        out,
        "--clip",
        CLIP,
        "--batch-size",
        "4",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Kill once the first batch has gone through the model.
    const reader = child.stderr.getReader();
    let seen = "";
    while (!/img\/s/.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    assertMatch(seen, /img\/s/, "the run should report progress before finishing");
    child.kill("SIGKILL");
    const status = await child.status;
    await reader.cancel();
    assert(!status.success, "the run must have been killed, not finished");
    assertEquals(await listDir(out), []);
  });
});

Deno.test("--blend writes the weighted sum; --list --json shows it; mismatched dimensions are refused", async () => {
  await withTemp(async (dir) => {
    const a = join(FIXTURES, "embeddings", "tiny-sd1-images.pt");
    const b = join(FIXTURES, "embeddings", "tiny-random-f16.pt");
    const r = await run(["--blend", `${a}:0.7,${b}:0.3`, "--name", "mix", "--out-dir", dir], dir);
    assertEquals(r.code, 0, r.stderr);
    const [ea, eb, mix] = await Promise.all([a, b, join(dir, "mix.pt")].map(readEmbedding));
    assertClose(mix.data, ea.data.map((x, i) => 0.7 * x + 0.3 * eb.data[i]), 1e-6, "blend");
    const l = await run(["--list", "--out-dir", dir, "--json"], dir);
    const listed = JSON.parse(l.stdout);
    assertEquals(listed.embeddings.map((e: { name: string }) => e.name), ["mix"]);
    const bad = await run([
      "--blend",
      `${a},${join(FIXTURES, "embeddings", "vitl-f16-768.pt")}`,
      "--name",
      "x",
      "--out-dir",
      dir,
    ], dir);
    assert(bad.code !== 0);
    assertMatch(bad.stderr, /has 16, .* has 768/);
    assertEquals(await listDir(dir), ["mix.pt"]);
  });
});

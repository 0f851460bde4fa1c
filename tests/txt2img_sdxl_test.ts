// The txt2img, img2img and personalize CLIs on tiny-sdxl as subprocesses: the model's own size by default, and
// aesthetic embeddings for both text encoders (one matched to each by width) written to the infotext.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { writeEmbedding } from "../lib/io/embedding.ts";
import { parseInfotext } from "../lib/io/infotext.ts";
import { loadImage } from "../lib/io/image.ts";
import { readPngParameters } from "../lib/io/png.ts";
import { FIXTURES, MODELS, readRef } from "./fixtures.ts";
import { sdxlRefs } from "./lib/diffusion/sdxl_refs.ts";
import { writeFirstEncoderPair } from "./lib/personalize/sdxl_pair.ts";
import { runCli } from "./run_cli.ts";

const XL = join(MODELS, "tiny-sdxl");
/** The fixture's two embeddings (the second as `ext`) and the first encoder's pair, written into `dir`. */
async function aestheticFiles(dir: string, ext: string) {
  const p = sdxlRefs.personalize;
  const first = join(dir, "vit-l.pt"), second = join(dir, `bigg${ext}`);
  await writeEmbedding(first, readRef(p.embedding_1));
  await writeEmbedding(second, readRef(p.embedding_2));
  return { first, second, clip: await writeFirstEncoderPair(join(dir, "pair"), p.projection_1) };
}

const FAST = ["--sampler", "Euler", "--ddim_steps", "2", "--n_samples", "1", "--n_iter", "1", "--json"];

Deno.test("txt2img on SDXL: its default size, both encoders personalized, infotext names both embeddings", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { first, second, clip } = await aestheticFiles(dir, ".safetensors");
    const out = join(dir, "out");
    const r = await runCli("txt2img.ts", [
      "--prompt",
      "a lighthouse",
      "--model",
      XL,
      "--clip",
      clip,
      ...FAST,
      "--aesthetic_steps",
      "2",
      "--aesthetic_lr",
      "0.001",
      "--aesthetic_embedding",
      second,
      "--aesthetic_embedding",
      first,
      "--outdir",
      out,
    ]);
    ok(r.code === 0, r.stderr);
    const image = JSON.parse(r.stdout).images[0];
    // Each encoder's chunk: before each of 2 steps and after the last (the first encoder's first).
    assertEquals(image.aesthetic.similarity_per_chunk.map((s: number[]) => s.length), [3, 3]);
    const decoded = await loadImage(image.path);
    ok(decoded.ok);
    assertEquals([decoded.image.width, decoded.image.height], [64, 64], "the UNet's sample_size × 8");
    const fields = Object.fromEntries(
      parseInfotext(readPngParameters(await Deno.readFile(image.path))!).params,
    );
    assertEquals([fields["Aesthetic embedding"], fields["Aesthetic embedding 2"]], ["bigg", "vit-l"]);
    assertEquals(fields.Size, "64x64");

    // No pair fits the first encoder (none of the fixtures' pairs is 8 wide): a 16-d embedding is refused with
    // exit code 2 and no image; the second encoder would still have taken an 8-d one.
    const bad = await runCli("txt2img.ts", [
      "--prompt",
      "x",
      "--model",
      XL,
      ...FAST,
      "--aesthetic_steps",
      "1",
      "--aesthetic_embedding",
      join(FIXTURES, "embeddings", "tiny-sd1-images.pt"),
      "--outdir",
      join(dir, "bad"),
    ]);
    assertEquals(bad.code, 2, bad.stderr);
    ok(
      /16-d but SDXL takes the first, with a CLIP ViT-L\/14 pair \(none given\)/.test(bad.stderr),
      bad.stderr,
    );
    assertEquals(await Array.fromAsync(Deno.readDir(join(dir, "bad"))).catch(() => []), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("img2img on SDXL runs from an init image", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runCli("img2img.ts", [
      "--prompt",
      "a lighthouse at dusk",
      "--init-img",
      join(FIXTURES, "images", "init_64.png"),
      "--strength",
      "0.5",
      "--model",
      XL,
      ...FAST,
      "--ddim_steps",
      "4",
      "--outdir",
      dir,
    ]);
    ok(r.code === 0, r.stderr);
    const fields = Object.fromEntries(
      parseInfotext(readPngParameters(await Deno.readFile(JSON.parse(r.stdout).images[0].path))!).params,
    );
    assertEquals([fields["Denoising strength"], fields.Size], ["0.5", "64x64"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("personalize on SDXL: both encoders, their similarities in turn, the embeddings' widths", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = sdxlRefs.personalize;
    const { first, second, clip } = await aestheticFiles(dir, ".pt");
    const args = ["--model", XL, "--clip", clip, "--prompt", p.prompt, "--steps", String(p.steps), "--lr"];
    const r = await runCli("personalize.ts", [
      ...args,
      String(p.lr),
      "--embedding",
      first,
      "--embedding",
      second,
      "--json",
    ]);
    ok(r.code === 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assertEquals(report.dims, { embedding: [6, 8], hidden: 16 });
    // Unweighted prompt, as the paper's loop saw it: the same similarities as PyTorch's.
    const got = report.similarity_per_chunk.flat(), want = [...p.similarity_1, ...p.similarity_2];
    ok(got.every((v: number, i: number) => Math.abs(v - want[i]) < 1e-5), `${got} vs ${want}`);
    ok(report.conditioning_delta_l2 > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("txt2img with --refiner: the SDXL refiner takes over; the infotext names it and the switch", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = ["--prompt", "a lighthouse", "--model", XL, ...FAST, "--outdir", dir];
    const refiner = join(MODELS, "tiny-sdxl-refiner");
    const r = await runCli("txt2img.ts", [...args, "--refiner", refiner, "--refiner_switch_at", "0.5"]);
    ok(r.code === 0, r.stderr);
    const path = JSON.parse(r.stdout).images[0].path;
    const fields = Object.fromEntries(parseInfotext(readPngParameters(await Deno.readFile(path))!).params);
    ok(/^tiny-sdxl-refiner \[[0-9a-f]{10}\]$/.test(fields.Refiner), fields.Refiner);
    assertEquals(fields["Refiner switch at"], "0.5");
    const bad = await runCli("txt2img.ts", [...args, "--refiner", refiner, "--refiner_switch_at", "2"]);
    ok(
      bad.code === 2 && /refinerSwitchAt must be a number above 0 and at most 1/.test(bad.stderr),
      bad.stderr,
    );
    const notRefiner = await runCli("txt2img.ts", [...args, "--refiner", XL]);
    ok(notRefiner.code === 2 && /is not an SDXL refiner/.test(notRefiner.stderr), notRefiner.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// The catalog of dropped single files: what a scan finds (the models folder's own files, an A1111 tree with
// sub-folders and its models/VAE pairing), hashes cached across instances, one import for concurrent first
// uses, and an import that fails leaving its reason on the file.
import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert";
import { join } from "node:path";
import { InputError } from "../../../../lib/io/input_error.ts";
import {
  a1111Source,
  DroppedCheckpoints,
  type DroppedSource,
} from "../../../../lib/models/single_file/dropped.ts";
import { readRecord } from "../../../../lib/models/single_file/record.ts";
import { FIXTURES, MODELS } from "../../../fixtures.ts";

const SD1 = join(FIXTURES, "single_file", "tiny-sd1.safetensors");
const SHA = JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "single_file", "manifest.json")))
  .hashes["tiny-sd1.safetensors"].sha256 as string;
const config = join(MODELS, "tiny-sd1-torch");

async function tree() {
  const root = await Deno.makeTempDir({ prefix: "dropped-" });
  const models = join(root, "models");
  const webui = join(root, "webui");
  await Deno.mkdir(join(models, "a-folder"), { recursive: true });
  await Deno.mkdir(join(webui, "models", "Stable-diffusion", "sub"), { recursive: true });
  await Deno.mkdir(join(webui, "models", "VAE"), { recursive: true });
  await Deno.copyFile(SD1, join(models, "mine.safetensors"));
  await Deno.copyFile(SD1, join(models, "a-folder", "inside.safetensors")); // a folder's files are not listed
  await Deno.copyFile(SD1, join(webui, "models", "Stable-diffusion", "sub", "deep.safetensors"));
  // A1111 pairs models/VAE/<stem>.vae.* with the checkpoint <stem>; the VAE keys may keep their prefix.
  await Deno.copyFile(SD1, join(webui, "models", "VAE", "deep.vae.safetensors"));
  const sources = (withConfig: boolean): DroppedSource[] =>
    [{ dir: models }, a1111Source(webui)].map((s) => withConfig ? { ...s, config } : s);
  return { root, models, webui, sources, cacheDir: join(models, ".imported") };
}

/** A catalog of the tree (with the tiny fixture's config), scanned, logging into `log`. */
async function scanned(t: Awaited<ReturnType<typeof tree>>, log: string[]): Promise<DroppedCheckpoints> {
  const catalog = new DroppedCheckpoints({
    sources: t.sources(true),
    cacheDir: t.cacheDir,
    log: (l) => log.push(l),
  });
  await catalog.scan();
  return catalog;
}

Deno.test("dropped: a scan lists the models folder's files and an A1111 tree's, with the VAE A1111 pairs", async () => {
  const t = await tree();
  try {
    const log: string[] = [];
    const catalog = await scanned(t, log);
    const rows = catalog.files().map((
      f,
    ) => [f.name, f.modelName, f.family, f.vae ?? null, f.hashes?.shortHash]);
    assertEquals(rows, [
      ["mine.safetensors", "mine", "sd1", null, undefined],
      [
        "sub/deep.safetensors",
        "sub_deep",
        "sd1",
        join(t.webui, "models", "VAE", "deep.vae.safetensors"),
        undefined,
      ],
    ]);
    await catalog.hashAll();
    assertEquals(catalog.files().map((f) => f.hashes?.sha256), [SHA, SHA]);
    // A second catalog (a restart) reads the hashes from the cache: nothing is hashed again.
    const before = log.filter((l) => l.startsWith("hashing ")).length;
    const again = await scanned(t, log);
    await again.hashAll();
    assertEquals(again.files().map((f) => f.hashes?.sha256), [SHA, SHA]);
    assertEquals(log.filter((l) => l.startsWith("hashing ")).length, before);
  } finally {
    await Deno.remove(t.root, { recursive: true });
  }
});

Deno.test("dropped: concurrent first uses share one import; the VAE pairing makes its own folder", async () => {
  const t = await tree();
  try {
    const log: string[] = [];
    const catalog = await scanned(t, log);
    const mine = catalog.get("mine.safetensors")!;
    const stages = new Set<string>();
    const [a, b] = await Promise.all([
      catalog.ensureImported(mine, (stage) => stages.add(stage)),
      catalog.ensureImported(mine),
    ]);
    assertEquals([a, b], [join(t.cacheDir, SHA.slice(0, 16)), join(t.cacheDir, SHA.slice(0, 16))]);
    assertEquals((await readRecord(a))?.sha256, SHA);
    ok(stages.has("unet") && stages.has("vae_decoder"), [...stages].join(", "));
    assertEquals(await catalog.ensureImported(mine), a);
    const imports = () => log.filter((l) => / into /.test(l)).length;
    assertEquals(imports(), 1);
    const deep = await catalog.ensureImported(catalog.get("sub/deep.safetensors")!);
    ok(deep.startsWith(join(t.cacheDir, `${SHA.slice(0, 16)}-vae-`)), deep);
    assertEquals(imports(), 2);
    const entries = await catalog.entries();
    assertEquals(entries.map((e) => [e.name, e.path, e.hash, e.singleFile?.pending]), [
      ["mine.safetensors", a, SHA.slice(0, 10), false],
      ["sub/deep.safetensors", deep, SHA.slice(0, 10), false],
    ]);
    // A VAE put beside it later makes another pipeline: the file needs importing again, with it (a VAE of the
    // same bytes as deep's would find deep's folder).
    await Deno.copyFile(join(FIXTURES, "single_file", "tiny-sd1.ckpt"), join(t.models, "mine.vae.ckpt"));
    await catalog.scan();
    assertEquals([mine.vae, mine.folder], [join(t.models, "mine.vae.ckpt"), undefined]);
    assertEquals((await catalog.entries())[0].singleFile?.pending, true);
  } finally {
    await Deno.remove(t.root, { recursive: true });
  }
});

Deno.test("dropped: an import that fails leaves its reason on the file, and the entry lists it", async () => {
  const t = await tree();
  try {
    // Without the tiny fixture's config, SD 1.x's released heads do not divide its 16-wide text encoder.
    const catalog = new DroppedCheckpoints({ sources: t.sources(false), cacheDir: t.cacheDir });
    await catalog.scan();
    const mine = catalog.get("mine.safetensors")!;
    await rejects(catalog.ensureImported(mine), InputError);
    ok(mine.problem?.startsWith("mine.safetensors: cannot build the text_encoder"), mine.problem);
    const [entry] = await catalog.entries();
    assertEquals([entry.problems, entry.singleFile?.pending], [[mine.problem], true]);
    await rejects(catalog.ensureImported(mine), (e: Error) => e.message === mine.problem);
    assertEquals([...Deno.readDirSync(t.cacheDir)].map((e) => e.name).filter((n) => !n.startsWith(".")), [
      "hashes.json",
    ]);
  } finally {
    await Deno.remove(t.root, { recursive: true });
  }
});

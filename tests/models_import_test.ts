// `deno task models import` as a user runs it: an A1111 file becomes a listed model; bad files (truncated,
// not Stable Diffusion, a pickle that asks to run code) get one plain sentence, exit code 2 and no folder.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { zipSync } from "fflate";
import { readSafetensors, writeSafetensors } from "../lib/io/safetensors.ts";
import { FIXTURES, MODELS } from "./fixtures.ts";
import { runCli } from "./run_cli.ts";

const SD1 = join(FIXTURES, "single_file", "tiny-sd1.safetensors");
const manifest = JSON.parse(Deno.readTextFileSync(join(FIXTURES, "refs", "single_file", "manifest.json")));

async function importFails(file: string, expected: RegExp) {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runCli("models.ts", ["import", file, "--models-dir", dir]);
    assertEquals(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 1, r.stderr);
    if (!expected.test(lines[0])) throw new Error(`unexpected message: ${lines[0]}`);
    const left = [];
    for await (const e of Deno.readDir(dir)) if (e.name !== ".staging") left.push(e.name);
    assertEquals(left, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("models import: an A1111 .safetensors becomes a listed SD 1.x model with its hashes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await runCli("models.ts", [
      "import",
      SD1,
      "--name",
      "tiny-a1111",
      "--config",
      join(MODELS, "tiny-sd1-torch"),
      "--models-dir",
      dir,
    ]);
    if (r.code !== 0) throw new Error(r.stderr);
    if (!/imported SD 1\.x \(epsilon.*hash \[d8d1ddf24d\].*old model hash adabd04c/s.test(r.stdout)) {
      throw new Error(r.stdout);
    }
    for (const stage of ["text_encoder", "unet", "vae_decoder"]) {
      if (!r.stderr.includes(stage)) throw new Error(`no progress for ${stage}: ${r.stderr}`);
    }
    const listed = await runCli("models.ts", ["list", "--json", "--models-dir", dir]);
    const m = JSON.parse(listed.stdout).models.find((x: { name: string }) => x.name === "tiny-a1111");
    assertEquals([m.kind, m.problems, m.hash], ["sd1", [], "d8d1ddf24d"]);
    // Images made with it carry the file's A1111 hash, as A1111 writes it for the same file.
    const out = await runCli("txt2img.ts", [
      "--prompt",
      "a lighthouse",
      "--model",
      join(dir, "tiny-a1111"),
      "--H",
      "64",
      "--W",
      "64",
      "--ddim_steps",
      "1",
      "--n_iter",
      "1",
      "--outdir",
      join(dir, "outputs"),
      "--json",
    ]);
    if (out.code !== 0) throw new Error(out.stderr);
    const infotext: string = JSON.parse(out.stdout).images[0].infotext;
    if (!infotext.includes("Model hash: d8d1ddf24d, Model: tiny-a1111")) throw new Error(infotext);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("models import: a truncated file is named as truncated", async () => {
  const bytes = await Deno.readFile(SD1);
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  await Deno.writeFile(path, bytes.subarray(0, bytes.length - 1000));
  try {
    await importFails(path, /is truncated: it has \d+ bytes but its tensors need \d+/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("models import: an unknown architecture names the keys it lacks", async () => {
  const path = await Deno.makeTempFile({ suffix: ".safetensors" });
  await Deno.writeFile(
    path,
    writeSafetensors([{
      name: "encoder.layer.0.weight",
      data: new Float32Array(4),
      shape: [2, 2],
      dtype: "float32",
    }]),
  );
  try {
    await importFails(
      path,
      /not a Stable Diffusion 1\.x\/2\.x\/XL checkpoint .*it lacks model\.diffusion_model\.input_blocks\.0\.0\.weight, /,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("models import: a .ckpt whose pickle asks for os.system is refused, nothing run", async () => {
  // PROTO 2, GLOBAL os.system, the argument "touch <marker>", TUPLE1, REDUCE, STOP.
  const marker = join(await Deno.makeTempDir(), "ran");
  const enc = new TextEncoder();
  const arg = enc.encode(`touch ${marker}`);
  const pickle = new Uint8Array([
    0x80,
    0x02,
    ...enc.encode("cos\nsystem\n"),
    0x58,
    ...new Uint8Array(new Uint32Array([arg.length]).buffer),
    ...arg,
    0x85,
    0x52,
    0x2e,
  ]);
  const path = await Deno.makeTempFile({ suffix: ".ckpt" });
  await Deno.writeFile(path, zipSync({ "archive/data.pkl": [pickle, { level: 0 }] }));
  try {
    await importFails(
      path,
      /has a pickle that was refused \(refusing global os\.system.*nothing in the file was run/,
    );
    assertEquals(await Deno.stat(marker).then(() => true, () => false), false);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("models import: the imported text encoder is personalizable (--source checkpoint)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = join(MODELS, "tiny-sd1-torch");
    const imported = await runCli("models.ts", ["import", SD1, "--config", config, "--models-dir", dir]);
    if (imported.code !== 0) throw new Error(imported.stderr);
    const personalize = (model: string) =>
      runCli("personalize.ts", [
        "--prompt",
        "a lighthouse",
        "--model",
        model,
        "--clip",
        join(MODELS, "tiny-sd1-clip"),
        "--embedding",
        join(FIXTURES, "embeddings", "tiny-sd1-images.pt"),
        "--source",
        "checkpoint",
        "--steps",
        "2",
        "--json",
      ]);
    const ours = await personalize(join(dir, "tiny-sd1"));
    if (ours.code !== 0) throw new Error(ours.stderr);
    const exported = await personalize(join(MODELS, "tiny-sd1"));
    const a: number[] = JSON.parse(ours.stdout).similarity,
      b: number[] = JSON.parse(exported.stdout).similarity;
    // The same weights but for the file's fp16 rounding: the same objective to within 1e-3.
    if (a.length !== 3 || !(a[2] > a[0]) || a.some((v, i) => Math.abs(v - b[i]) > 1e-3)) {
      throw new Error(`imported ${a}, exported ${b}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("models import FOLDER: every checkpoint of an A1111 folder, with its <stem>.vae.safetensors", async () => {
  const a1111 = await Deno.makeTempDir();
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(SD1, join(a1111, "tiny.safetensors"));
    // A1111 VAE files hold the VAE alone, without the first_stage_model. prefix.
    const { tensors } = readSafetensors(await Deno.readFile(SD1));
    const vae = tensors.filter((t) => t.name.startsWith("first_stage_model."))
      .map((t) => ({ ...t, name: t.name.slice("first_stage_model.".length), dtype: "float16" as const }));
    await Deno.writeFile(join(a1111, "tiny.vae.safetensors"), writeSafetensors(vae));
    await Deno.writeTextFile(join(a1111, "notes.ckpt"), "not a checkpoint");
    const config = join(MODELS, "tiny-sd1-torch");
    const r = await runCli("models.ts", ["import", a1111, "--config", config, "--models-dir", dir]);
    assertEquals(r.code, 2, r.stderr);
    if (!r.stderr.includes("notes.ckpt is neither a safetensors file nor a torch zip checkpoint")) {
      throw new Error(r.stderr);
    }
    const record = JSON.parse(await Deno.readTextFile(join(dir, "tiny", "single_file.json")));
    assertEquals(record.vae, "tiny.vae.safetensors");
    const plain = await runCli("models.ts", [
      "import",
      SD1,
      "--name",
      "own",
      "--config",
      config,
      "--models-dir",
      dir,
    ]);
    if (plain.code !== 0) throw new Error(plain.stderr);
    for (const part of ["vae_encoder", "vae_decoder"]) {
      const a = await Deno.readFile(join(dir, "tiny", part, "model.onnx_data"));
      const b = await Deno.readFile(join(dir, "own", part, "model.onnx_data"));
      if (a.length !== b.length || !a.every((v, i) => v === b[i])) throw new Error(`${part} weights differ`);
    }
  } finally {
    await Deno.remove(a1111, { recursive: true });
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("models list: A1111 files dropped into models/ or an A1111 folder are listed with hash and state", async () => {
  const dir = await Deno.makeTempDir();
  const a1111 = await Deno.makeTempDir();
  try {
    const file = join(dir, "dropped.safetensors");
    await Deno.copyFile(SD1, file);
    const sd = join(a1111, "models", "Stable-diffusion");
    await Deno.mkdir(join(sd, "sub"), { recursive: true });
    await Deno.copyFile(SD1, join(sd, "sub", "other.safetensors"));
    await Deno.writeFile(join(sd, "broken.safetensors"), (await Deno.readFile(SD1)).subarray(0, 100_000));
    const list = async () =>
      JSON.parse(
        (await runCli("models.ts", ["list", "--json", "--models-dir", dir, "--a1111-dir", a1111])).stdout,
      );
    const sha256 = manifest.hashes["tiny-sd1.safetensors"].sha256;
    const before = await list();
    assertEquals(
      before.single_files.map((
        f: Record<string, unknown>,
      ) => [f.name, f.family, f.hash, f.problem, f.imported]),
      [
        ["dropped.safetensors", "sd1", sha256.slice(0, 10), null, null],
        [
          "broken.safetensors",
          null,
          null,
          "broken.safetensors is truncated: it has 100000 bytes but its tensors need 2181698",
          null,
        ],
        ["sub/other.safetensors", "sd1", sha256.slice(0, 10), null, null],
      ],
    );
    const config = join(MODELS, "tiny-sd1-torch");
    const r = await runCli("models.ts", ["import", file, "--config", config, "--models-dir", dir]);
    if (r.code !== 0) throw new Error(r.stderr);
    const after = await list();
    assertEquals(after.models.map((m: { name: string }) => m.name), ["dropped"]);
    assertEquals(after.single_files[0].imported, join(dir, "dropped"));
    const bad = await runCli("models.ts", ["list", "--models-dir", dir, "--a1111-dir", dir]);
    assertEquals([bad.code, bad.stderr.trim()], [
      2,
      `models: --a1111-dir: ${dir} has no models/Stable-diffusion folder`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(a1111, { recursive: true });
  }
});

// Importing A1111 single files against diffusers' from_single_file on the same files
// (tests/fixtures/fx_single_file.py): txt2img latents and pixels, the VAE encoder; .ckpt and .safetensors give
// byte-identical graphs; the folder passes the registry; A1111's hashes; re-import is a no-op.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { ClipTokenizer } from "../../../../lib/clip/tokenizer.ts";
import { AESTHETIC_DEFAULTS, AestheticPersonalizer } from "../../../../lib/personalize/aesthetic.ts";
import { generate } from "../../../../lib/diffusion/pipeline.ts";
import { SdModel } from "../../../../lib/diffusion/sd_model.ts";
import { readSafetensors, writeSafetensors } from "../../../../lib/io/safetensors.ts";
import { listModels } from "../../../../lib/models/registry.ts";
import { importSingleFile } from "../../../../lib/models/single_file/import.ts";
import { vPredictionTest } from "../../../../lib/models/single_file/v_test.ts";
import { openSession, Tensor } from "../../../../lib/onnx/session.ts";
import { FIXTURES, maxAbsDiff, MODELS, readRef } from "../../../fixtures.ts";
import { diffusersRequest } from "../../diffusion/reference_request.ts";

const SINGLE = join(FIXTURES, "single_file");
// deno-lint-ignore no-explicit-any -- JSON whose shape the tests assert
const manifest: Record<string, any> = JSON.parse(
  Deno.readTextFileSync(join(FIXTURES, "refs", "single_file", "manifest.json")),
);
const modelsDir = Deno.makeTempDirSync({ prefix: "single-file-" });

const imported = new Map<string, ReturnType<typeof importSingleFile>>();
function importOnce(file: string, name: string, config: string) {
  if (!imported.has(name)) {
    imported.set(
      name,
      importSingleFile(join(SINGLE, file), { modelsDir, name, config: join(MODELS, config) }),
    );
  }
  return imported.get(name)!;
}

const CASES = [
  { file: "tiny-sd1.safetensors", name: "sd1-st", ref: "tiny-sd1", config: "tiny-sd1-torch", kind: "sd1" },
  { file: "tiny-sd1.ckpt", name: "sd1-ckpt", ref: "tiny-sd1", config: "tiny-sd1-torch", kind: "sd1" },
  { file: "tiny-sd2.safetensors", name: "sd2-st", ref: "tiny-sd2", config: "tiny-sd2-torch", kind: "sd2" },
];

for (const c of CASES) {
  Deno.test(`import ${c.file}: txt2img and the VAE encoder match diffusers' from_single_file`, async () => {
    const result = await importOnce(c.file, c.name, c.config);
    const e = manifest[c.ref];
    const model = await SdModel.open(result.path, { session: { threads: 1 } });
    const out = await generate(model, diffusersRequest(e, e.sampler));
    const latents = readRef(e.latents);
    const scale = latents.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const rel = maxAbsDiff(out.images[0].latents, latents) / scale;
    if (!(rel <= 1e-4)) throw new Error(`latents differ by ${rel} relative`);
    const d = maxAbsDiff(out.images[0].pixels, readRef(e.image));
    if (!(d <= 1 / 255)) throw new Error(`pixels differ by ${d * 255}/255`);

    const encoder = await openSession(join(result.path, "vae_encoder", "model.onnx"), { threads: 1 });
    const input = readRef(e.vae_input);
    const moments = await encoder.run({ sample: new Tensor("float32", input, e.vae_input.shape) });
    const m = moments.latent_parameters.data as Float32Array;
    const expected = readRef(e.vae_moments);
    const me = expected.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    if (!(maxAbsDiff(m, expected) / me <= 1e-4)) {
      throw new Error(`VAE moments differ by ${maxAbsDiff(m, expected)}`);
    }
  });
}

Deno.test("import tiny-sdxl.safetensors: both text encoders, the UNet and the VAE decoder match diffusers", async () => {
  const r = await importOnce("tiny-sdxl.safetensors", "sdxl-st", "tiny-sdxl-torch");
  assertEquals([r.family, r.prediction], ["sdxl", "epsilon"]);
  const e = manifest["tiny-sdxl"];
  const close = (got: Float32Array, ref: { file: string; shape: number[] }, what: string) => {
    const want = readRef(ref);
    const rel = maxAbsDiff(got, want) / want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    if (!(rel <= 1e-4)) throw new Error(`${what} differs by ${rel} relative`);
  };
  const run = async (part: string, feeds: Record<string, Tensor>) => {
    const session = await openSession(join(r.path, part, "model.onnx"), { threads: 1 });
    const out = await session.run(feeds);
    return (name: string) => out[name].data as Float32Array;
  };
  const ids = (k: string) => new Tensor("int64", BigInt64Array.from(e[k].map(BigInt)), [1, 77]);
  const t = (k: string) => new Tensor("float32", readRef(e[k]), e[k].shape);
  const te = await run("text_encoder", { input_ids: ids("input_ids") });
  close(te("last_hidden_state"), e.text_last, "text_encoder last_hidden_state");
  close(te("hidden_states.1"), e.text_penultimate, "text_encoder penultimate hidden state");
  const te2 = await run("text_encoder_2", { input_ids: ids("input_ids_2") });
  close(te2("text_embeds"), e.text2_embeds, "text_encoder_2 text_embeds");
  close(te2("last_hidden_state"), e.text2_last, "text_encoder_2 last_hidden_state");
  close(te2("hidden_states.1"), e.text2_penultimate, "text_encoder_2 penultimate hidden state");
  const unet = await run("unet", {
    sample: t("unet_sample"),
    timestep: new Tensor("float32", Float32Array.of(e.timestep), []),
    encoder_hidden_states: t("unet_context"),
    text_embeds: t("unet_text_embeds"),
    time_ids: t("unet_time_ids"),
  });
  close(unet("out_sample"), e.unet_out, "unet out_sample");
  close(
    (await run("vae_decoder", { latent_sample: t("vae_latents") }))("sample"),
    e.vae_decoded,
    "vae decoder",
  );
});

Deno.test({
  name: "import: the SDXL text_encoder_2 personalizes as the exported one does",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const r = await importOnce("tiny-sdxl.safetensors", "sdxl-st", "tiny-sdxl-torch");
    const similarity = async (root: string) => {
      const tok = await ClipTokenizer.load(join(root, "tokenizer_2"));
      const p = await AestheticPersonalizer.fromTextModel(join(root, "text_encoder_2", "model.onnx"), tok, {
        conditioningOutput: "hidden_states.1",
      });
      const embedding = Float32Array.from({ length: p.engine.info.embedDim }, (_, i) => Math.cos(i));
      const ids = tok.encodePadded("a lighthouse in a storm");
      const hidden = new Float32Array(77 * 8);
      const out = await p.apply(hidden, [ids], embedding, {
        ...AESTHETIC_DEFAULTS,
        weight: 1,
        steps: 3,
        lr: 1e-3,
      });
      await p.release();
      return out.similarity[0];
    };
    const ours = await similarity(r.path), exported = await similarity(join(MODELS, "tiny-sdxl"));
    // The same weights but for the file's fp16 rounding.
    if (!(ours.at(-1)! > ours[0]) || ours.some((v, i) => Math.abs(v - exported[i]) > 1e-3)) {
      throw new Error(`imported ${ours}, exported ${exported}`);
    }
  },
});

Deno.test("import: the registry lists imported folders as usable, with their kind and prediction", async () => {
  const all = [...CASES, {
    file: "tiny-sdxl.safetensors",
    name: "sdxl-st",
    config: "tiny-sdxl-torch",
    kind: "sdxl",
  }];
  for (const c of all) await importOnce(c.file, c.name, c.config);
  const { models } = await listModels([modelsDir], { hash: false });
  for (const c of all) {
    const m = models.find((x) => x.name === c.name);
    if (!m || m.kind !== c.kind) throw new Error(JSON.stringify(m));
    assertEquals(m.problems, []);
  }
  const scheduler = JSON.parse(
    await Deno.readTextFile(join(modelsDir, "sd2-st", "scheduler", "scheduler_config.json")),
  );
  assertEquals(scheduler.prediction_type, "v_prediction");
  assertEquals(
    (await importOnce("tiny-sd2.safetensors", "sd2-st", "tiny-sd2-torch")).predictionSource,
    "the sidecar .yaml",
  );
});

Deno.test("import: a .ckpt and a .safetensors of the same weights give byte-identical graphs", async () => {
  const a = await importOnce("tiny-sd1.safetensors", "sd1-st", "tiny-sd1-torch");
  const b = await importOnce("tiny-sd1.ckpt", "sd1-ckpt", "tiny-sd1-torch");
  for (const part of ["text_encoder", "unet", "vae_encoder", "vae_decoder"]) {
    for (const file of ["model.onnx", "model.onnx_data"]) {
      if (part === "text_encoder" && file === "model.onnx_data") continue; // its weights are in its graph
      const x = await Deno.readFile(join(a.path, part, file));
      const y = await Deno.readFile(join(b.path, part, file));
      if (x.length !== y.length || !x.every((v, i) => v === y[i])) throw new Error(`${part}/${file} differ`);
    }
  }
});

Deno.test("import: A1111's sha256 and old model hash; the same file again is a no-op", async () => {
  for (const c of CASES) {
    const r = await importOnce(c.file, c.name, c.config);
    const h = manifest.hashes[c.file];
    assertEquals([r.hashes.sha256, r.hashes.shortHash, r.hashes.legacyHash], [
      h.sha256,
      h.sha256.slice(0, 10),
      h.legacy,
    ]);
  }
  const again = await importSingleFile(join(SINGLE, "tiny-sd1.safetensors"), {
    modelsDir,
    name: "sd1-st",
    config: join(MODELS, "tiny-sd1-torch"),
  });
  assertEquals(again.cached, true);
  const record = JSON.parse(await Deno.readTextFile(join(modelsDir, "sd1-st", "single_file.json")));
  assertEquals([record.source, record.family, record.prediction], ["tiny-sd1.safetensors", "sd1", "epsilon"]);
});

Deno.test("import: fp16 UNet weights stay fp16 on disk; the text encoder is float32 for personalization", async () => {
  const r = await importOnce("tiny-sd1.safetensors", "sd1-st", "tiny-sd1-torch");
  const size = async (part: string) =>
    (await Deno.stat(join(r.path, part, part === "text_encoder" ? "model.onnx" : "model.onnx_data"))).size;
  const st = await Deno.stat(join(SINGLE, "tiny-sd1.safetensors"));
  // The UNet and VAE at 2 bytes a value, the text encoder (most of the file: the 49408-row table) at 4.
  const total = await size("unet") + await size("vae_encoder") + await size("vae_decoder") +
    await size("text_encoder");
  if (!(total < 1.9 * st.size && total > 1.5 * st.size)) {
    throw new Error(`${total} bytes for a ${st.size}-byte file`);
  }
});

Deno.test("import: an inpainting checkpoint (9-channel UNet input) imports and is listed as usable", async () => {
  const { tensors } = readSafetensors(await Deno.readFile(join(SINGLE, "tiny-sd1.safetensors")));
  const conv = tensors.find((t) => t.name === "model.diffusion_model.input_blocks.0.0.weight")!;
  const [out, , kh, kw] = conv.shape;
  const wide = new Float32Array(out * 9 * kh * kw).map((_, i) => Math.sin(i) / 10);
  const inpaint = tensors.map((t) => t === conv ? { ...t, data: wide, shape: [out, 9, kh, kw] } : t).map((
    t,
  ) => ({ ...t, dtype: "float16" as const }));
  const file = join(modelsDir, "inpaint.safetensors");
  await Deno.writeFile(file, writeSafetensors(inpaint));
  const r = await importSingleFile(file, { modelsDir, config: join(MODELS, "tiny-sd1-torch") });
  assertEquals([r.family, r.inpainting], ["sd1", true]);
  const { models } = await listModels([modelsDir], { hash: false });
  assertEquals(models.find((m) => m.name === "inpaint")?.problems, []);
});

Deno.test("import: without a .yaml, an SD 2.x file's prediction comes from A1111's test run of its UNet", async () => {
  // The statistic itself against diffusers' UNet on the same weights.
  for (const c of CASES) {
    const r = await importOnce(c.file, c.name, c.config);
    const test = await vPredictionTest(join(r.path, "unet", "model.onnx"), c.kind === "sd1" ? 16 : 12, {
      threads: 1,
    });
    const want = manifest[c.ref].v_test_score;
    if (!(Math.abs(test.score - want) <= 1e-4 * Math.abs(want))) {
      throw new Error(`score ${test.score} != ${want}`);
    }
  }
  const bare = join(modelsDir, "bare");
  await Deno.mkdir(bare);
  await Deno.copyFile(join(SINGLE, "tiny-sd2.safetensors"), join(bare, "tiny-sd2-bare.safetensors"));
  const r = await importSingleFile(join(bare, "tiny-sd2-bare.safetensors"), {
    modelsDir,
    config: join(MODELS, "tiny-sd2-torch"),
  });
  // The tiny random UNet scores about −0.6: not v-prediction by A1111's rule (below −1).
  assertEquals([r.prediction, r.predictionSource.startsWith("A1111's test run of the UNet")], [
    "epsilon",
    true,
  ]);
  const scheduler = JSON.parse(await Deno.readTextFile(join(r.path, "scheduler", "scheduler_config.json")));
  assertEquals(scheduler.prediction_type, "epsilon");
});

Deno.test({
  name: "import: clean up the temporary models folder",
  fn: async () => {
    await Promise.allSettled([...imported.values()]);
    await Deno.remove(modelsDir, { recursive: true });
  },
});

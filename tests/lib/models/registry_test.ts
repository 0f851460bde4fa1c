// listModels finds model folders with hashes and problems; chooseClip pairs a checkpoint with the CLIP pair of
// the same text width, preferring the one with the checkpoint's own text weights; pairing and embedding
// mismatches are named.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { MODELS_DIR } from "../../../lib/models/defaults.ts";
import { inspectModelDir } from "../../../lib/models/inspect.ts";
import { scanOnnx } from "../../../lib/models/onnx_scan.ts";
import {
  chooseClip,
  embeddingProblems,
  findModel,
  listModels,
  pairingProblems,
} from "../../../lib/models/registry.ts";
import { MODELS } from "../../fixtures.ts";
import { linkFixture } from "./model_dirs.ts";

Deno.test("listModels: pipelines and CLIP pairs with kinds, dims, A1111-style hashes; non-models skipped", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await linkFixture("tiny-sd1", join(tmp, "sd15"));
    await linkFixture("tiny-sdxl", join(tmp, "xl"));
    await linkFixture("tiny-sd1-clip", join(tmp, "vit"));
    await Deno.mkdir(join(tmp, "notes"));
    await linkFixture("tiny-sd2", join(tmp, ".staging", "half-downloaded"));
    const extra = await linkFixture("tiny-sd2", join(tmp, "elsewhere", "sd2"));
    const cache = join(tmp, "hashes.json");
    const { models, skipped } = await listModels([tmp, extra], { hashCache: cache });
    assertEquals(models.map((m) => [m.name, m.kind]), [["sd15", "sd1"], ["sd2", "sd2"], ["vit", "clip"], [
      "xl",
      "sdxl",
    ]], "models");
    assertEquals(skipped.map((s) => s.path), [join(tmp, "elsewhere"), join(tmp, "notes")], "skipped");
    const unet = await Deno.readFile(join(MODELS, "tiny-sd1", "unet", "model.onnx"));
    const expected = createHash("sha256").update(unet).digest("hex").slice(0, 10);
    assertEquals(findModel(models, "sd15")?.hash, expected, "hash");
    assertEquals(findModel(models, expected)?.name, "sd15", "find by hash");
    assertEquals(findModel(models, "vit")?.hash, undefined, "CLIP pairs have no UNet hash");
    const cached = JSON.parse(await Deno.readTextFile(cache));
    ok(Object.keys(cached).length === 3, `cache holds ${Object.keys(cached).length} entries`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("listModels: a folder that does not exist is empty; a duplicate name is skipped with why", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    assertEquals(await listModels([join(tmp, "none")], { hash: false }), { models: [], skipped: [] }, "none");
    await linkFixture("tiny-sd1", join(tmp, "a", "m"));
    await linkFixture("tiny-sd2", join(tmp, "b", "m"));
    const { models, skipped } = await listModels([join(tmp, "a"), join(tmp, "b")], { hash: false });
    assertEquals(models.map((m) => m.kind), ["sd1"], "first wins");
    assertEquals(skipped[0].reason, `another model named m is listed first (${join(tmp, "a", "m")})`, "dup");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("the embedded demo lists without problems and picks its own CLIP pair", async () => {
  const { models } = await listModels([MODELS_DIR], { hashCache: join(await Deno.makeTempDir(), "h.json") });
  const demo = findModel(models, "tiny-demo")!;
  assertEquals([demo.kind, demo.problems, demo.warnings], ["sd1", [], []], "demo");
  assertEquals(chooseClip(demo, models)?.name, "tiny-demo-clip", "clip");
});

Deno.test("chooseClip prefers the pair whose text weights are the checkpoint's own", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    // "a-other": same widths, different token embeddings (bytes flipped at the table's start).
    const other = await linkFixture("tiny-sd1-clip", join(tmp, "a-other"));
    const textPath = join(other, "onnx", "text_model.onnx");
    const bytes = await Deno.readFile(textPath);
    const table = (await scanOnnx(textPath)).initializers.find((t) => t.name.includes("token_embedding"))!;
    for (let i = 0; i < 16; i++) bytes[table.raw!.offset + i] ^= 0x55;
    await Deno.remove(textPath);
    await Deno.writeFile(textPath, bytes);
    await linkFixture("tiny-sd1-clip", join(tmp, "b-same"));
    await linkFixture("tiny-sd2-clip", join(tmp, "c-wide"));
    const sd1 = (await inspectModelDir(join(MODELS, "tiny-sd1")))!;
    const sd2 = (await inspectModelDir(join(MODELS, "tiny-sd2")))!;
    const { models } = await listModels([tmp], { hash: false });
    assertEquals(chooseClip(sd1, models)?.name, "b-same", "same weights win over name order");
    assertEquals(chooseClip(sd2, models)?.name, "c-wide", "sd2 needs the 12-wide text model");
    // Without the fingerprint match, the first pair of the right width.
    assertEquals(chooseClip(sd1, models.filter((m) => m.name !== "b-same"))?.name, "a-other", "fallback");
    assertEquals(chooseClip(sd2, models.filter((m) => m.name !== "c-wide")), undefined, "none fits");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("pairing and embedding mismatches are named", async () => {
  const sd1 = (await inspectModelDir(join(MODELS, "tiny-sd1")))!;
  const sd2Clip = (await inspectModelDir(join(MODELS, "tiny-sd2-clip")))!;
  const sd1Clip = (await inspectModelDir(join(MODELS, "tiny-sd1-clip")))!;
  assertEquals(pairingProblems(sd1, sd2Clip), [
    "the CLIP pair's text hidden size 12 does not match the checkpoint's 16",
  ], "pair");
  assertEquals(pairingProblems(sd1, sd1Clip), [], "good pair");
  assertEquals(pairingProblems(sd1, sd1), ["tiny-sd1 is not a CLIP pair (it is a sd1 pipeline)"], "not clip");
  assertEquals(embeddingProblems(768, sd1Clip), ["this embedding is 768-d but the CLIP pair is 16-d"], "emb");
  assertEquals(embeddingProblems(16, sd1Clip), [], "good embedding");
});

Deno.test("an SDXL folder is usable: no problems, both text widths", async () => {
  const tmp = await Deno.makeTempDir();
  try {
    await linkFixture("tiny-sdxl", join(tmp, "xl"));
    const { models } = await listModels([tmp], { hash: false });
    assertEquals(models.map((m) => [m.name, m.kind, m.problems]), [["xl", "sdxl", []]], "xl");
    assertEquals([models[0].dims.textHidden, models[0].dims.textHidden2], [8, 8], "widths");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

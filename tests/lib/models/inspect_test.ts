// inspectModelDir recognizes each fixture layout with its dimensions, and reports every missing or mismatched
// part in plain words. Each case is a temp folder of symlinks to a fixture with one part removed or replaced.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { inspectModelDir, type ModelEntry } from "../../../lib/models/inspect.ts";
import { MODELS } from "../../fixtures.ts";
import { editJson, externalDataModel, linkFixture } from "./model_dirs.ts";
import { listModels } from "../../../lib/models/registry.ts";
import { mkfifo, within } from "../../hostile_files.ts";

function assertProblem(entry: ModelEntry | undefined, expected: string) {
  ok(entry, "not recognized as a model");
  ok(
    entry.problems.includes(expected),
    `expected problem "${expected}", got ${JSON.stringify(entry.problems)}`,
  );
}

async function withCopy(
  fixture: string,
  change: (dir: string) => Promise<void>,
): Promise<ModelEntry | undefined> {
  const tmp = await Deno.makeTempDir();
  try {
    const dir = await linkFixture(fixture, join(tmp, fixture));
    await change(dir);
    return await inspectModelDir(dir);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

const complete: [string, string, Record<string, number>][] = [
  ["tiny-sd1", "sd1", { textHidden: 16, crossAttention: 16 }],
  ["tiny-sd2", "sd2", { textHidden: 12, crossAttention: 12 }],
  ["tiny-sdxl", "sdxl", { textHidden: 8, crossAttention: 16, textHidden2: 8, projection: 8 }],
  ["tiny-sd1-clip", "clip", { textHidden: 16, projection: 16 }],
  ["tiny-sd2-clip", "clip", { textHidden: 12, projection: 16 }],
];
for (const [name, kind, dims] of complete) {
  Deno.test(`${name} is a complete ${kind} with its dimensions`, async () => {
    const e = await inspectModelDir(join(MODELS, name));
    assertEquals([e?.kind, e?.dims, e?.problems, e?.warnings], [kind, dims, [], []], name);
    ok(e?.textFingerprint, "no text fingerprint");
  });
}

Deno.test("the SD 1.x checkpoint and its CLIP pair share a text fingerprint; SD 2.x's differs", async () => {
  const [sd1, clip1, sd2] = await Promise.all(
    ["tiny-sd1", "tiny-sd1-clip", "tiny-sd2"].map((n) => inspectModelDir(join(MODELS, n))),
  );
  assertEquals(sd1!.textFingerprint, clip1!.textFingerprint, "sd1 vs its clip");
  ok(sd1!.textFingerprint !== sd2!.textFingerprint, "different weights, same fingerprint");
});

Deno.test("a folder that is no model is not recognized", async () => {
  assertEquals(await inspectModelDir(join(MODELS, "variants")), undefined, "variants");
});

/** Removes one or more (comma-separated) parts. */
const rm = (rels: string) => async (dir: string) => {
  for (const rel of rels.split(",")) await Deno.remove(join(dir, rel), { recursive: true });
};

for (
  const [fixture, rel, problem] of [
    ["tiny-sd1", "text_encoder/model.onnx", "text_encoder/model.onnx is missing"],
    ["tiny-sd1", "unet/model.onnx", "unet/model.onnx is missing"],
    ["tiny-sd1", "vae_decoder", "vae_decoder/model.onnx is missing"],
    ["tiny-sd1", "scheduler/scheduler_config.json", "scheduler/scheduler_config.json is missing"],
    [
      "tiny-sd1",
      "tokenizer/merges.txt",
      "tokenizer/vocab.json and tokenizer/merges.txt (or tokenizer/tokenizer.json) are missing",
    ],
    ["tiny-sdxl", "text_encoder_2/model.onnx", "text_encoder_2/model.onnx is missing"],
    [
      "tiny-sdxl",
      "tokenizer_2",
      "tokenizer_2/vocab.json and tokenizer_2/merges.txt (or tokenizer_2/tokenizer.json) are missing",
    ],
    ["tiny-sd1-clip", "onnx/vision_model.onnx", "onnx/vision_model.onnx is missing"],
    ["tiny-sd1-clip", "onnx/text_model.onnx", "onnx/text_model.onnx is missing"],
    ["tiny-sd1-clip", "preprocessor_config.json", "preprocessor_config.json is missing"],
    [
      "tiny-sd1-clip",
      "vocab.json,tokenizer.json",
      "vocab.json and merges.txt (or tokenizer.json) are missing",
    ],
  ]
) {
  Deno.test(`${fixture} without ${rel}: "${problem}"`, async () => {
    assertProblem(await withCopy(fixture, rm(rel)), problem);
  });
}

Deno.test("a CLIP pair with vocab.json missing but tokenizer.json present is fine", async () => {
  const e = await withCopy("tiny-sd1-clip", async (dir) => {
    await Deno.remove(join(dir, "vocab.json"));
    await Deno.remove(join(dir, "merges.txt"));
  });
  assertEquals(e?.problems, [], "problems");
});

Deno.test("a missing VAE encoder is a warning (no img2img), not a problem", async () => {
  const e = await withCopy("tiny-sd1", rm("vae_encoder"));
  assertEquals(
    [e?.problems, e?.warnings],
    [[], ["vae_encoder/model.onnx is missing (img2img needs it)"]],
    "e",
  );
});

Deno.test("a UNet from another checkpoint: the text width does not match the cross-attention width", async () => {
  const e = await withCopy("tiny-sd1", async (dir) => {
    await Deno.remove(join(dir, "unet"), { recursive: true });
    await Deno.symlink(join(MODELS, "tiny-sd2", "unet"), join(dir, "unet"));
  });
  assertProblem(e, "the text encoder's hidden size 16 does not match the UNet's cross-attention dim 12");
});

Deno.test("SDXL text encoders that do not add up to the cross-attention width", async () => {
  const e = await withCopy("tiny-sdxl", async (dir) => {
    await Deno.remove(join(dir, "text_encoder"), { recursive: true });
    await Deno.symlink(join(MODELS, "tiny-sd1", "text_encoder"), join(dir, "text_encoder"));
  });
  assertProblem(
    e,
    "the text encoders' hidden sizes 16 + 8 do not add up to the UNet's cross-attention dim 16",
  );
});

Deno.test("a config.json that disagrees with its ONNX graph", async () => {
  const e = await withCopy("tiny-sd1", (dir) =>
    editJson(join(dir, "text_encoder", "config.json"), (c) => {
      c.hidden_size = 768;
    }));
  assertProblem(e, "text_encoder/config.json says hidden size 768 but text_encoder/model.onnx has 16");
  const u = await withCopy("tiny-sd1", (dir) =>
    editJson(join(dir, "unet", "config.json"), (c) => {
      c.cross_attention_dim = 1024;
    }));
  assertProblem(u, "unet/config.json says cross-attention dim 1024 but unet/model.onnx has 16");
});

Deno.test("a CLIP pair whose config and graphs disagree, or without projections", async () => {
  const p = await withCopy("tiny-sd1-clip", (dir) =>
    editJson(join(dir, "config.json"), (c) => {
      c.projection_dim = 32;
    }));
  assertProblem(p, "config.json says projection dim 32 but onnx/text_model.onnx has 16");
  const noProj = await withCopy("tiny-sd1-clip", async (dir) => {
    await Deno.remove(join(dir, "onnx", "text_model.onnx"));
    await Deno.symlink(
      join(MODELS, "tiny-sd1", "text_encoder", "model.onnx"),
      join(dir, "onnx", "text_model.onnx"),
    );
  });
  assertProblem(noProj, "onnx/text_model.onnx has no text_embeds output");
  const otherVision = await withCopy("tiny-sd1-clip", async (dir) => {
    await Deno.remove(join(dir, "onnx", "vision_model.onnx"));
    await Deno.symlink(
      join(MODELS, "tiny-sdxl", "text_encoder_2", "model.onnx"),
      join(dir, "onnx", "vision_model.onnx"),
    );
  });
  assertProblem(otherVision, "onnx/vision_model.onnx has no image_embeds output");
});

Deno.test("model_index.json that is broken or names another pipeline", async () => {
  const bad = await withCopy("tiny-sd1", async (dir) => {
    await Deno.remove(join(dir, "model_index.json"));
    await Deno.writeTextFile(join(dir, "model_index.json"), "{ not json");
  });
  ok(
    bad?.problems.some((p) => p.startsWith("model_index.json is not valid JSON")),
    JSON.stringify(bad?.problems),
  );
  const other = await withCopy("tiny-sd1", (dir) =>
    editJson(join(dir, "model_index.json"), (c) => {
      c._class_name = "KandinskyPipeline";
    }));
  assertProblem(other, `model_index.json names "KandinskyPipeline", not a Stable Diffusion pipeline`);
});

Deno.test("a corrupt ONNX part is named", async () => {
  const e = await withCopy("tiny-sd1", async (dir) => {
    await Deno.remove(join(dir, "vae_decoder", "model.onnx"));
    await Deno.writeFile(
      join(dir, "vae_decoder", "model.onnx"),
      new Uint8Array([0x3a, 0xff, 0xff, 0xff, 0x0f]),
    );
  });
  ok(
    e?.problems.some((p) => p.startsWith("vae_decoder/model.onnx cannot be read")),
    JSON.stringify(e?.problems),
  );
});

Deno.test("external weight data: missing and truncated files are problems; complete data is hashed", async () => {
  const w = Float32Array.from({ length: 16 }, (_, i) => i);
  const { model, data } = externalDataModel("model.onnx_data", w);
  const swapUnet = (withData: Uint8Array | undefined) => async (dir: string) => {
    await Deno.remove(join(dir, "unet", "model.onnx"));
    await Deno.writeFile(join(dir, "unet", "model.onnx"), model);
    if (withData) await Deno.writeFile(join(dir, "unet", "model.onnx_data"), withData);
  };
  assertProblem(
    await withCopy("tiny-sd1", swapUnet(undefined)),
    "unet/model.onnx_data is missing (unet/model.onnx keeps its weights there)",
  );
  assertProblem(
    await withCopy("tiny-sd1", swapUnet(data.subarray(0, 100))),
    "unet/model.onnx_data is truncated: 100 bytes, unet/model.onnx needs 128",
  );
  const ok = await withCopy("tiny-sd1", swapUnet(data));
  assertEquals(ok?.problems, [], "complete external data");
  assertEquals(ok?.unetFiles?.map((f) => f.split("/").slice(-2).join("/")), [
    "unet/model.onnx",
    "unet/model.onnx_data",
  ], "unetFiles");
});

Deno.test("hostile external data: paths out of the folder, links to /dev/zero, FIFOs are listed with why", async () => {
  const w = Float32Array.from({ length: 16 }, (_, i) => i);
  const unetWith = (location: string, make?: (path: string) => Promise<void>) => async (dir: string) => {
    await Deno.remove(join(dir, "unet", "model.onnx"));
    await Deno.writeFile(join(dir, "unet", "model.onnx"), externalDataModel(location, w).model);
    await make?.(join(dir, "unet", location));
  };
  const up = "../".repeat(12);
  const cases: [string, ReturnType<typeof unetWith>, RegExp][] = [
    // /etc/passwd was read for the hash and the model listed as usable; /dev/zero hung `models list`.
    [
      "a location up to /etc/passwd",
      unetWith(`${up}etc/passwd`),
      /"\.\.\/.*etc\/passwd" is not a path inside/,
    ],
    [
      "a location up to /dev/zero",
      unetWith(`${up}dev/zero`),
      /dev\/zero" is not a path inside the model's folder/,
    ],
    ["an absolute location", unetWith("/dev/zero"), /"\/dev\/zero" is not a path inside the model's folder/],
    [
      "a link to /etc/passwd",
      unetWith("model.onnx_data", (p) => Deno.symlink("/etc/passwd", p)),
      /resolves to \/etc\/passwd, outside the model's folder/,
    ],
    [
      "a link to /dev/zero",
      unetWith("model.onnx_data", (p) => Deno.symlink("/dev/zero", p)),
      /resolves to \/dev\/zero, outside the model's folder/,
    ],
    ["a FIFO", unetWith("model.onnx_data", mkfifo), /"model.onnx_data" is not a regular file/],
    [
      "a FIFO as a config",
      async (dir) => {
        await Deno.remove(join(dir, "unet", "config.json"));
        await mkfifo(join(dir, "unet", "config.json"));
      },
      /^unet\/config.json is a FIFO; only regular files are read$/,
    ],
    [
      "a FIFO as the model itself",
      async (dir) => {
        await Deno.remove(join(dir, "unet", "model.onnx"));
        await mkfifo(join(dir, "unet", "model.onnx"));
      },
      /unet\/model.onnx cannot be read: unet\/model.onnx is not a regular file/,
    ],
  ];
  for (const [what, change, problem] of cases) {
    const tmp = await Deno.makeTempDir();
    try {
      const dir = await linkFixture("tiny-sd1", join(tmp, "m"));
      await change(dir);
      const entry = await within(10_000, what, inspectModelDir(dir));
      if (!entry?.problems.some((p) => problem.test(p))) {
        throw new Error(`${what}: expected ${problem}, got ${JSON.stringify(entry?.problems)}`);
      }
      // The registry lists it with that reason and never hashes it.
      const { models } = await within(10_000, what, listModels([tmp], { hashCache: join(tmp, "h.json") }));
      if (
        models.length !== 1 || models[0].hash !== undefined ||
        !models[0].problems.some((p) => problem.test(p))
      ) {
        throw new Error(`${what}: listed as ${JSON.stringify(models)}`);
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  }
});

Deno.test("PyTorch folders are told how to export", async () => {
  const sd = await inspectModelDir(join(MODELS, "tiny-sd1-torch"));
  ok(sd?.problems.some((p) => p.includes("optimum-cli export onnx")), JSON.stringify(sd?.problems));
  const clip = await inspectModelDir(join(MODELS, "tiny-sd1-clip-torch"));
  ok(clip?.problems.some((p) => p.includes("convert.py")), JSON.stringify(clip?.problems));
});

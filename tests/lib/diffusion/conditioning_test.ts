// Prompt pairs as A1111 builds them: chunked, hooked, the shorter padded with empty-prompt encodings.
import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert";
import { join } from "node:path";
import { chunkIds, emptyChunk, encodeChunks, promptChunks } from "../../../lib/clip/chunks.ts";
import { encodePromptPair } from "../../../lib/diffusion/conditioning.ts";
import { SdModel } from "../../../lib/diffusion/sd_model.ts";
import { MODELS } from "../../fixtures.ts";

const model = await SdModel.open(join(MODELS, "tiny-sd1"));
const LONG = Array.from({ length: 40 }, (_, i) => `word${i % 7} thing`).join(" ");

Deno.test("a two-chunk prompt with an empty negative: the negative gets an empty-prompt chunk appended", async () => {
  assertEquals(promptChunks(LONG, model.tokenizer).chunks.length, 2);
  const pair = await encodePromptPair(model, LONG, "", 1);
  const h = model.hiddenSize;
  assertEquals([pair.tokens, pair.hidden, pair.cond.length, pair.uncond.length], [154, h, 154 * h, 154 * h]);
  const empty =
    (await encodeChunks([emptyChunk(chunkIds(model.tokenizer))], model.textEncoder.chunkEncoder()))
      .data;
  assertEquals(pair.uncond.subarray(0, 77 * h), empty);
  assertEquals(pair.uncond.subarray(77 * h), empty);
  const reversed = await encodePromptPair(model, "", LONG, 1);
  assertEquals(reversed.cond, pair.uncond);
  assertEquals(reversed.uncond, pair.cond);
});

Deno.test("hooks run on the prompt, then the negative prompt, before padding", async () => {
  const calls: string[] = [];
  const pair = await encodePromptPair(model, LONG, "blurry", 1, [
    ({ z, chunkIds, negative }) => {
      calls.push(`${negative ? "negative" : "prompt"}:${chunkIds.length}:${z.length / model.hiddenSize}`);
      return Promise.resolve(z.map((v) => (negative ? v : 2 * v)));
    },
  ]);
  assertEquals(calls, ["prompt:2:154", "negative:1:77"]);
  const plain = await encodePromptPair(model, LONG, "blurry", 1);
  assertEquals(pair.cond, plain.cond.map((v) => 2 * v));
  assertEquals(pair.uncond, plain.uncond);
});

Deno.test("a hook that changes the size is refused", async () => {
  await rejects(
    encodePromptPair(model, "a cat", "", 1, [({ z }) => Promise.resolve(z.subarray(1))]),
    /a conditioning hook returned 1231 values for a prompt of 1232 \(1 chunk\(s\) × 77 × 16\)/,
  );
});

Deno.test("emphasis reaches the conditioning", async () => {
  const plain = await encodePromptPair(model, "a red lighthouse", "", 1);
  const weighted = await encodePromptPair(model, "a (red:1.5) lighthouse", "", 1);
  if (plain.cond.every((v, i) => v === weighted.cond[i])) throw new Error("emphasis changed nothing");
});

globalThis.addEventListener("unload", () => model.release());

Deno.test("SDXL: both encoders side by side, an empty negative is zeros, hooks see and may replace the pooled vector", async () => {
  const xl = await SdModel.open(join(MODELS, "tiny-sdxl"));
  try {
    const seen: { negative: boolean; widths: number[]; pooled: number }[] = [];
    const pooled = new Float32Array(8).fill(0.5);
    const pair = await encodePromptPair(xl, LONG, "", 1, [
      (c) => {
        seen.push({
          negative: c.negative,
          widths: c.encoders!.map((e) => e.hidden),
          pooled: c.pooled!.length,
        });
        return Promise.resolve({ z: c.z, pooled });
      },
    ]);
    assertEquals(seen, [{ negative: false, widths: [8, 8], pooled: 8 }], "the zeroed negative is not hooked");
    assertEquals([pair.tokens, pair.hidden], [154, 16]);
    assertEquals(pair.pooledCond, pooled);
    assertEquals([pair.uncond.every((v) => v === 0), pair.pooledUncond!.every((v) => v === 0)], [true, true]);
    const negative = await encodePromptPair(xl, "a lighthouse", "blurry", 1);
    ok(
      negative.uncond.some((v) => v !== 0) && negative.pooledUncond!.some((v) => v !== 0),
      "a real negative",
    );
  } finally {
    await xl.release();
  }
});

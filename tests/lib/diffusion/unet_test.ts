// The batched UNet call: [uncond × B, cond × B] with guidance, or the prompt alone when the scale is ≤ 1.
import { deepStrictEqual as assertEquals } from "node:assert";
import { join } from "node:path";
import { encodePromptPair } from "../../../lib/diffusion/conditioning.ts";
import { guide } from "../../../lib/diffusion/latents.ts";
import { SdModel } from "../../../lib/diffusion/sd_model.ts";
import { TorchGenerator } from "../../../lib/diffusion/torch_rng.ts";
import { UnetBatch } from "../../../lib/diffusion/unet.ts";
import { Tensor } from "../../../lib/onnx/session.ts";
import { MODELS } from "../../fixtures.ts";

Deno.test("each image of a batch gets uncond + s·(cond − uncond) of its own rows; s ≤ 1 runs the prompt only", async () => {
  const model = await SdModel.open(join(MODELS, "tiny-sd1"));
  try {
    const prompts = await encodePromptPair(model, "a lighthouse", "fog", 1);
    const shape = [4, 2, 2] as const;
    const x = [new TorchGenerator(1).randn([16]), new TorchGenerator(2).randn([16])];
    const raw = async (rows: Float32Array[], hidden: Float32Array[]) => {
      const sample = new Float32Array(rows.length * 16);
      rows.forEach((r, i) => sample.set(r, i * 16));
      const ehs = new Float32Array(hidden.length * prompts.cond.length);
      hidden.forEach((h, i) => ehs.set(h, i * h.length));
      const out = await model.unet.run({
        sample: new Tensor("float32", sample, [rows.length, ...shape]),
        timestep: new Tensor("float32", Float32Array.of(500), []),
        encoder_hidden_states: new Tensor("float32", ehs, [hidden.length, 77, model.hiddenSize]),
      });
      return out.out_sample.data as Float32Array;
    };
    const both = await raw([x[0], x[1], x[0], x[1]], [
      prompts.uncond,
      prompts.uncond,
      prompts.cond,
      prompts.cond,
    ]);
    const guided = await new UnetBatch(model, 2, shape, prompts, 7.5).predict(x, 500);
    for (let b = 0; b < 2; b++) {
      const want = new Float32Array(16);
      guide(both.subarray(b * 16, (b + 1) * 16), both.subarray((2 + b) * 16, (3 + b) * 16), 7.5, want);
      const d = want.reduce((m, v, i) => Math.max(m, Math.abs(v - guided[b][i])), 0);
      if (!(d <= 1e-5)) throw new Error(`image ${b}: ${d}`);
    }
    const plain = await new UnetBatch(model, 2, shape, prompts, 1).predict(x, 500);
    const cond = await raw(x, [prompts.cond, prompts.cond]);
    assertEquals(plain.length, 2);
    const d = plain.flatMap((p, b) => Array.from(p, (v, i) => Math.abs(v - cond[b * 16 + i])));
    if (!(Math.max(...d) <= 1e-5)) throw new Error(`cond-only differs by ${Math.max(...d)}`);
  } finally {
    await model.release();
  }
});

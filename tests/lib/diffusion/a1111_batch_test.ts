// Whole txt2img runs through A1111's samplers on the fixture UNets, against A1111's structure in PyTorch
// (k-diffusion's CompVisDenoiser / CompVisVDenoiser, CFGDenoiser, per-image generators; fx_samplers.py).
import { join } from "node:path";
import { generate } from "../../../lib/diffusion/pipeline.ts";
import { SdModel } from "../../../lib/diffusion/sd_model.ts";
import { MODELS, readRef } from "../../fixtures.ts";
import { relError, samplerRefs } from "./samplers/reference.ts";

interface UnetCase {
  model: string;
  sampler: string;
  schedule: string | null;
  steps: number;
  prompt: string;
  seed: number;
  cfg_scale: number;
  latents: { file: string; shape: number[] };
}

for (const c of samplerRefs().unet_cases as UnetCase[]) {
  Deno.test(`${c.model} ${c.sampler} (${c.schedule ?? "timesteps"}): final latents follow A1111 within 1e-4`, async () => {
    const model = await SdModel.open(join(MODELS, c.model), { session: { threads: 1 } });
    const steps: number[] = [];
    const result = await generate(model, {
      prompt: c.prompt,
      negativePrompt: "",
      sampler: c.sampler,
      scheduler: c.schedule ?? "Automatic",
      steps: c.steps,
      cfgScale: c.cfg_scale,
      width: 64,
      height: 64,
      seed: c.seed,
    }, { onStep: (p) => steps.push(p.step) });
    const err = relError(result.images[0].latents, readRef(c.latents));
    console.log(`  ${c.model} ${c.sampler}: relative error ${err.toExponential(2)}`);
    if (!(err <= 1e-4)) throw new Error(`relative error ${err}`);
    if (steps.length === 0 || !result.images[0].complete) throw new Error("no progress reported");
  });
}

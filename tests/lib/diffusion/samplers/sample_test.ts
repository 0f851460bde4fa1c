// Every sampler against k-diffusion / A1111 (tests/fixtures/fx_samplers.py) on the analytic model.
import { resolveSampling } from "../../../../lib/diffusion/samplers/catalog.ts";
import { runSampler } from "../../../../lib/diffusion/samplers/sample.ts";
import type { PredictionType } from "../../../../lib/diffusion/schedulers/scheduler.ts";
import { readRef } from "../../../fixtures.ts";
import { fakeCall, imageNoise, relError, samplerRefs } from "./reference.ts";

interface Case {
  name: string;
  sampler: string;
  schedule: string | null;
  prediction: PredictionType;
  steps: number;
  settings: { eta?: number; s_churn?: number };
  latents: { file: string; shape: number[] };
}

for (const c of samplerRefs().cases as Case[]) {
  Deno.test(`${c.name}: ${c.sampler} (${c.schedule ?? "timesteps"}, ${c.prediction}) follows A1111 within 1e-4`, async () => {
    const m = samplerRefs();
    const choice = resolveSampling(c.sampler, c.schedule ?? "Automatic");
    const { start, noise } = imageNoise();
    let steps = 0;
    const result = await runSampler({
      choice,
      steps: c.steps,
      settings: { eta: c.settings.eta, sChurn: c.settings.s_churn },
      model: { alphasCumprod: readRef(m.alphas_cumprod), prediction: c.prediction, sdxl: false },
      call: fakeCall(
        m.scale * (choice.sampler.kind === "timesteps" ? choice.sampler.cfgScaleFactor ?? 1 : 1),
      ),
      noise,
      seeds: m.seeds,
      start,
      onStep: (done) => steps = done,
    });
    const err = relError(result.latents, readRef(c.latents));
    console.log(`  ${c.name}: relative error ${err.toExponential(2)} after ${steps} steps`);
    if (!(err <= 1e-4)) throw new Error(`${c.name}: relative error ${err}`);
    if (!result.complete || steps !== result.stepsDone || steps === 0) throw new Error("progress");
  });
}

Deno.test("progress: the planned step count is what each sampler reports, and never below the steps done", async () => {
  const m = samplerRefs();
  for (
    const [sampler, steps, want] of [["UniPC", 8, 8], ["DDIM", 8, 7], ["DPM fast", 8, 3], [
      "Heun",
      5,
      5,
    ]] as const
  ) {
    const { start, noise } = imageNoise();
    const seen: Array<[number, number]> = [];
    await runSampler({
      choice: resolveSampling(sampler),
      steps,
      settings: {},
      model: { alphasCumprod: readRef(m.alphas_cumprod), prediction: "epsilon", sdxl: false },
      call: fakeCall(m.scale),
      noise,
      seeds: m.seeds,
      start,
      onStep: (done, total) => seen.push([done, total]),
    });
    if (seen.length !== want || seen.some(([d, t]) => t !== want || d > t)) {
      throw new Error(`${sampler}: ${JSON.stringify(seen)}`);
    }
  }
});

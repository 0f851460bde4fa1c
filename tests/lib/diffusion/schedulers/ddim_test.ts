import { DDIMScheduler } from "../../../../lib/diffusion/schedulers/ddim.ts";
import { TorchGenerator } from "../../../../lib/diffusion/torch_rng.ts";
import { assertNear, assertThrows, testAgainstDiffusers } from "./reference.ts";
import { MODELS } from "../../../fixtures.ts";
import { join } from "node:path";

testAgainstDiffusers("ddim", "DDIMScheduler");
testAgainstDiffusers("ddim_eta1", "DDIMScheduler", 1);

const sd1 = JSON.parse(Deno.readTextFileSync(join(MODELS, "tiny-sd1", "scheduler", "scheduler_config.json")));

Deno.test("DDIM timestep spacings match diffusers", () => {
  const expect: Record<string, number[]> = {
    linspace: [999, 832, 666, 500, 333, 166, 0],
    leading: [853, 711, 569, 427, 285, 143, 1],
    trailing: [999, 856, 713, 570, 428, 285, 142],
  };
  for (const [spacing, want] of Object.entries(expect)) {
    const s = new DDIMScheduler(sd1, { timestep_spacing: spacing });
    s.setTimesteps(7);
    if (JSON.stringify(s.timesteps) !== JSON.stringify(want)) throw new Error(`${spacing}: [${s.timesteps}]`);
  }
});

Deno.test("DDIM addNoise is sqrt(acp) x + sqrt(1 - acp) noise (diffusers values at t=501)", () => {
  const s = new DDIMScheduler(sd1);
  s.setTimesteps(8);
  const ones = new Float32Array(4).fill(1);
  const zeros = new Float32Array(4);
  assertNear(s.addNoise(ones, zeros, 501)[0], 0.5244033336639404, 1e-7, "signal");
  assertNear(s.addNoise(zeros, ones, 501)[0], 0.8514699935913086, 1e-7, "noise");
});

Deno.test("DDIM config: defaults of the class fill gaps; eta > 0 needs a generator; bad input is refused", () => {
  const s = new DDIMScheduler(sd1);
  if (s.config.clip_sample !== true || s.config.set_alpha_to_one !== false) throw new Error("config merge");
  const noisy = new DDIMScheduler(sd1, {}, { eta: 0.5 });
  noisy.setTimesteps(4);
  const x = new Float32Array(16).fill(0.1);
  assertThrows(() => noisy.step(x, noisy.timesteps[0], x), /TorchGenerator/, "no rng");
  const a = noisy.step(x, noisy.timesteps[0], x, new TorchGenerator(1));
  const b = new DDIMScheduler(sd1, {}, { eta: 0.5 });
  b.setTimesteps(4);
  const c = b.step(x, b.timesteps[0], x, new TorchGenerator(2));
  if (a.every((v, i) => v === c[i])) throw new Error("seed has no effect with eta > 0");
  assertThrows(() => s.setTimesteps(0), /steps must be an integer >= 1/, "0 steps");
  assertThrows(() => s.step(x, 1, x), /setTimesteps/, "step before setTimesteps");
  assertThrows(
    () => new DDIMScheduler(sd1, { prediction_type: "flow" }),
    /prediction_type "flow"/,
    "prediction",
  );
  assertThrows(() => new DDIMScheduler({ beta_schedule: "cubic" }), /beta_schedule "cubic"/, "schedule");
  assertThrows(() => new DDIMScheduler({}, {}, { eta: -1 }), /eta/, "eta");
});

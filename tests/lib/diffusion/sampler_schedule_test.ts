// A1111 names of k-diffusion samplers walk the linspace schedule; DDIM/PLMS and class names keep the model's.
import { deepStrictEqual as assertEquals } from "node:assert";
import { samplerOverrides, schedulerFor } from "../../../lib/diffusion/sampler_schedule.ts";

const SD1 = {
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  num_train_timesteps: 1000,
  steps_offset: 1,
  skip_prk_steps: true,
  set_alpha_to_one: false,
  timestep_spacing: "leading",
};

Deno.test("Euler visits 999…0, DDIM and the diffusers class keep the model's leading spacing", () => {
  const at = (name: string) => {
    const s = schedulerFor(name, SD1, 0);
    s.setTimesteps(4);
    return s.timesteps.map(Math.round);
  };
  assertEquals(at("Euler"), [999, 666, 333, 0]);
  assertEquals(at("EulerDiscreteScheduler"), [751, 501, 251, 1]);
  assertEquals(at("DDIM"), [751, 501, 251, 1]);
  assertEquals(samplerOverrides(" dpm++ 2m karras "), { timestep_spacing: "linspace" });
  assertEquals(samplerOverrides("PLMS"), {});
});

import { EulerDiscreteScheduler } from "../../../../lib/diffusion/schedulers/euler.ts";
import { assertNear, assertThrows, referenceCases, testAgainstDiffusers } from "./reference.ts";

testAgainstDiffusers("euler", "EulerDiscreteScheduler");

const config = referenceCases("euler")[0].config;

Deno.test("Euler timestep spacings match diffusers (fractional for linspace)", () => {
  const expect: Record<string, number[]> = {
    linspace: [999, 832.5, 666, 499.5, 333, 166.5, 0],
    leading: [853, 711, 569, 427, 285, 143, 1],
    trailing: [999, 856, 713, 570, 428, 285, 142],
  };
  for (const [spacing, want] of Object.entries(expect)) {
    const s = new EulerDiscreteScheduler(config, { timestep_spacing: spacing });
    s.setTimesteps(7);
    if (JSON.stringify(s.timesteps) !== JSON.stringify(want)) throw new Error(`${spacing}: [${s.timesteps}]`);
  }
});

Deno.test("Euler with Karras sigmas: diffusers' sigma schedule", () => {
  const s = new EulerDiscreteScheduler(config, { use_karras_sigmas: true });
  s.setTimesteps(10);
  const want = [
    14.614646911621094,
    9.102937698364258,
    5.478401184082031,
    3.1686110496520996,
    1.7494231462478638,
    0.9140765070915222,
    0.44692090153694153,
    0.20139986276626587,
    0.08191105723381042,
    0.02916753478348255,
    0,
  ];
  want.forEach((v, i) => assertNear(s.sigmas[i], v, 2e-6 * Math.max(1, v), `sigma ${i}`));
  assertNear(s.timesteps[1], 916.2840576171875, 1e-3, "second timestep");
});

Deno.test("Euler addNoise adds sigma(t) times the noise", () => {
  const s = new EulerDiscreteScheduler(config);
  s.setTimesteps(8);
  const out = s.addNoise(new Float32Array([1, 2]), new Float32Array([1, -1]), s.timesteps[0]);
  assertNear(out[0], 1 + 14.614646911621094, 1e-5, "plus");
  assertNear(out[1], 2 - 14.614646911621094, 1e-5, "minus");
  assertThrows(
    () => s.addNoise(new Float32Array(2), new Float32Array(2), 123.25),
    /not in the schedule/,
    "bad t",
  );
  assertThrows(
    () => new EulerDiscreteScheduler(config, { use_beta_sigmas: true }),
    /not supported/,
    "beta sigmas",
  );
});

import { PNDMScheduler } from "../../../../lib/diffusion/schedulers/pndm.ts";
import { assertThrows, testAgainstDiffusers } from "./reference.ts";
import { MODELS } from "../../../fixtures.ts";
import { join } from "node:path";

testAgainstDiffusers("pndm", "PNDMScheduler");

const sd1 = JSON.parse(Deno.readTextFileSync(join(MODELS, "tiny-sd1", "scheduler", "scheduler_config.json")));

Deno.test("PLMS repeats its warm-up timestep for every spacing, as diffusers", () => {
  const expect: Record<string, number[]> = {
    linspace: [999, 832, 832, 666, 500, 333, 166, 0],
    leading: [853, 711, 711, 569, 427, 285, 143, 1],
    trailing: [999, 856, 856, 713, 570, 428, 285, 142],
  };
  for (const [spacing, want] of Object.entries(expect)) {
    const s = new PNDMScheduler(sd1, { timestep_spacing: spacing });
    s.setTimesteps(7);
    if (JSON.stringify(s.timesteps) !== JSON.stringify(want)) throw new Error(`${spacing}: [${s.timesteps}]`);
  }
});

Deno.test("PNDM with PRK warm-up: Runge-Kutta timesteps then PLMS, as diffusers", () => {
  const s = new PNDMScheduler(sd1, { skip_prk_steps: false });
  s.setTimesteps(10);
  const want = [901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1];
  if (JSON.stringify(s.timesteps) !== JSON.stringify(want)) throw new Error(`[${s.timesteps}]`);
  // A full run stays finite and setTimesteps resets the multistep history.
  const x = new Float32Array(16).fill(0.5);
  let y: Float32Array = x;
  for (const t of s.timesteps) y = s.step(y.map((v) => 0.1 * v), t, y);
  if (!y.every(Number.isFinite)) throw new Error("non-finite output");
  s.setTimesteps(10);
  let z: Float32Array = x;
  for (const t of s.timesteps) z = s.step(z.map((v) => 0.1 * v), t, z);
  if (!y.every((v, i) => v === z[i])) throw new Error("second run differs: state was not reset");
  assertThrows(
    () => new PNDMScheduler(sd1, { skip_prk_steps: false }).setTimesteps(3),
    /at least 4/,
    "few steps",
  );
});

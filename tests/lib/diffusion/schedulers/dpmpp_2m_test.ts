import { DPMSolverMultistepScheduler } from "../../../../lib/diffusion/schedulers/dpmpp_2m.ts";
import { assertNear, assertThrows, referenceCases, testAgainstDiffusers } from "./reference.ts";

testAgainstDiffusers("dpmpp_2m", "DPMSolverMultistepScheduler");
testAgainstDiffusers("dpmpp_2m_karras", "DPMSolverMultistepScheduler");

const config = referenceCases("dpmpp_2m")[0].config;

Deno.test("DPM-Solver timesteps for each spacing and for lambda_min_clipped match diffusers", () => {
  const expect: [Record<string, unknown>, number[]][] = [
    [{ timestep_spacing: "linspace" }, [999, 856, 714, 571, 428, 285, 143]],
    [{ timestep_spacing: "leading", steps_offset: 1 }, [876, 751, 626, 501, 376, 251, 126]],
    [{ timestep_spacing: "trailing" }, [999, 856, 713, 570, 428, 285, 142]],
    [{ timestep_spacing: "linspace", lambda_min_clipped: -2.5 }, [968, 830, 691, 553, 415, 277, 138]],
  ];
  for (const [over, want] of expect) {
    const s = new DPMSolverMultistepScheduler(config, over);
    s.setTimesteps(7);
    if (JSON.stringify(s.timesteps) !== JSON.stringify(want)) {
      throw new Error(`${JSON.stringify(over)}: [${s.timesteps}]`);
    }
  }
  const clipped = new DPMSolverMultistepScheduler(config, { lambda_min_clipped: -2.5 });
  clipped.setTimesteps(7);
  assertNear(clipped.sigmas[0], 12.157917022705078, 1e-5, "first sigma after clipping");
});

Deno.test("DPM-Solver addNoise is alpha_t x + sigma_t noise; unsupported variants are refused by name", () => {
  const s = new DPMSolverMultistepScheduler(config);
  s.setTimesteps(8);
  const sigma = s.sigmas[0];
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  const out = s.addNoise(new Float32Array([1]), new Float32Array([1]), s.timesteps[0]);
  assertNear(out[0], alpha + sigma * alpha, 1e-6, "addNoise");
  assertThrows(
    () => new DPMSolverMultistepScheduler(config, { algorithm_type: "sde-dpmsolver++" }),
    /algorithm_type/,
    "sde",
  );
  assertThrows(() => new DPMSolverMultistepScheduler(config, { solver_order: 4 }), /solver_order/, "order");
  assertThrows(
    () => new DPMSolverMultistepScheduler(config, { thresholding: true }),
    /thresholding/,
    "threshold",
  );
});

import {
  createScheduler,
  DDIMScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  LMSDiscreteScheduler,
  PNDMScheduler,
  SAMPLER_NAMES,
  SCHEDULER_NAMES,
} from "../../../../lib/diffusion/schedulers/index.ts";
import { assertThrows } from "./reference.ts";
import { MODELS } from "../../../fixtures.ts";
import { join } from "node:path";

const sd1 = JSON.parse(Deno.readTextFileSync(join(MODELS, "tiny-sd1", "scheduler", "scheduler_config.json")));

Deno.test("A1111 sampler names and diffusers class names give the right scheduler and settings", () => {
  const cases: [string, unknown][] = [
    ["PLMS", PNDMScheduler],
    ["PNDM", PNDMScheduler],
    ["DDIM", DDIMScheduler],
    ["Euler", EulerDiscreteScheduler],
    ["Euler a", EulerAncestralDiscreteScheduler],
    ["LMS", LMSDiscreteScheduler],
    ["DPM++ 2M", DPMSolverMultistepScheduler],
    ["DPM++ 2M Karras", DPMSolverMultistepScheduler],
    ["EulerAncestralDiscreteScheduler", EulerAncestralDiscreteScheduler],
    ["dpm++ 2m karras", DPMSolverMultistepScheduler],
  ];
  for (const [name, cls] of cases) {
    const s = createScheduler(name, sd1);
    if (!(s instanceof (cls as typeof PNDMScheduler))) throw new Error(`${name} gave ${s.constructor.name}`);
  }
  const karras = createScheduler("DPM++ 2M Karras", sd1) as DPMSolverMultistepScheduler;
  const plain = createScheduler("DPM++ 2M", {
    ...sd1,
    use_karras_sigmas: true,
  }) as DPMSolverMultistepScheduler;
  if (!karras.config.use_karras_sigmas || plain.config.use_karras_sigmas) throw new Error("karras flag");
  if (karras.config.algorithm_type !== "dpmsolver++" || karras.config.solver_order !== 2) {
    throw new Error("2M");
  }
  const plms = createScheduler("PLMS", { ...sd1, skip_prk_steps: false }) as PNDMScheduler;
  if (!plms.config.skip_prk_steps) throw new Error("PLMS must skip PRK");
  const ddim = createScheduler("DDIM", sd1, {}, { eta: 0.7 }) as DDIMScheduler;
  if (ddim.eta !== 0.7) throw new Error("eta");
  if (!SAMPLER_NAMES.includes("Euler a") || SAMPLER_NAMES.includes("DDIMScheduler")) throw new Error("names");
});

Deno.test("an unknown sampler name lists the known ones; every scheduler refuses 0 steps", () => {
  assertThrows(
    () => createScheduler("Heun++"),
    /unknown sampler "Heun\+\+"; known: PLMS, PNDM, DDIM/,
    "unknown",
  );
  for (const name of SCHEDULER_NAMES) {
    assertThrows(() => createScheduler(name, sd1).setTimesteps(0), /steps must be an integer >= 1/, name);
  }
});

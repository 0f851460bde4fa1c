// The sampler and schedule lists the API publishes, and A1111's name resolution.
import {
  describeSamplers,
  describeSchedules,
  resolveSampling,
  SAMPLERS,
  SCHEDULE_LABELS,
} from "../../../../lib/diffusion/samplers/catalog.ts";

Deno.test("catalog lists A1111 1.10's samplers and schedule types with their aliases and options", () => {
  const names = describeSamplers().map((s) => s.name);
  for (
    const n of ["Euler", "Euler a", "LMS", "Heun", "DPM2", "DPM2 a", "DPM++ 2S a", "DPM++ 2M", "DPM fast"]
  ) {
    if (!names.includes(n)) throw new Error(`missing ${n}`);
  }
  for (const n of ["DPM adaptive", "Restart", "LCM", "DDIM", "DDIM CFG++", "PLMS", "UniPC", "DPM++ SDE"]) {
    if (!names.includes(n)) throw new Error(`missing ${n}`);
  }
  const dpm = describeSamplers().find((s) => s.name === "DPM++ 2M")!;
  if (dpm.aliases[0] !== "k_dpmpp_2m" || dpm.options.scheduler !== "karras") throw new Error("DPM++ 2M data");
  const labels = describeSchedules().map((s) => s.label);
  if (labels.join() !== SCHEDULE_LABELS.join() || labels.length !== 12) {
    throw new Error(`schedules ${labels}`);
  }
  if (describeSchedules().find((s) => s.name === "karras")!.default_rho !== 7) throw new Error("karras rho");
  if (new Set(SAMPLERS.map((s) => s.name)).size !== SAMPLERS.length) throw new Error("duplicate names");
});

Deno.test("resolveSampling: aliases, Automatic defaults, name suffixes, unknown names", () => {
  if (resolveSampling("k_euler_a").sampler.name !== "Euler a") throw new Error("alias");
  if (resolveSampling("Euler").schedule !== undefined) {
    throw new Error("Euler's default is the model's uniform");
  }
  if (resolveSampling("DPM2").schedule?.name !== "karras") throw new Error("DPM2's default");
  const sgm = resolveSampling("Euler SGMUniform");
  if (sgm.sampler.name !== "Euler" || sgm.schedule?.name !== "sgm_uniform") throw new Error("alias suffix");
  if (resolveSampling("Euler", "uniform").schedule?.name !== "uniform") throw new Error("explicit uniform");
  let threw = false;
  try {
    resolveSampling("Euler b");
  } catch (e) {
    threw = /unknown sampler "Euler b"/.test((e as Error).message);
  }
  if (!threw) throw new Error("an unknown sampler must be refused by name");
});

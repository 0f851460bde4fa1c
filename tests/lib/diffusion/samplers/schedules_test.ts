// Every schedule type's sigmas against A1111's (tests/fixtures/fx_samplers.py) for 1, 8, 11 and 25 steps.
import { ModelSigmas } from "../../../../lib/diffusion/samplers/model_sigmas.ts";
import { SCHEDULE_TYPES } from "../../../../lib/diffusion/samplers/schedules.ts";
import { readRef } from "../../../fixtures.ts";
import { relError, samplerRefs } from "./reference.ts";

interface ScheduleCase {
  name: string;
  steps: number;
  sigmas: number[];
}

for (const type of SCHEDULE_TYPES) {
  Deno.test(`${type.label} schedule matches A1111's sigmas within 1e-6`, () => {
    const model = new ModelSigmas(readRef(samplerRefs().alphas_cumprod));
    const cases = (samplerRefs().schedules as ScheduleCase[]).filter((c) => c.name === type.name);
    if (cases.length !== 4) throw new Error(`no reference for ${type.name}`);
    for (const c of cases) {
      const got = type.sigmas({
        n: c.steps,
        sigmaMin: model.sigmaMin,
        sigmaMax: model.sigmaMax,
        model,
        sdxl: false,
      });
      const err = relError(got, c.sigmas);
      if (!(err <= 1e-6)) {
        throw new Error(`${type.name} n=${c.steps}: [${got}] vs [${c.sigmas}] (rel ${err})`);
      }
    }
  });
}

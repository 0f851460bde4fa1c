// A1111 1.10's samplers and schedule types as data: names, aliases, each sampler's default schedule and the
// options it takes, so /sdapi/v1/samplers and /sdapi/v1/schedulers can be generated from here. Each entry also
// names its implementation. Names resolve as A1111's get_sampler_and_scheduler does: case-insensitive names
// and aliases, and a schedule label at the end of a sampler name ("DPM++ 2M Karras") selects that schedule.
import { sampleDpm2 } from "./dpm2.ts";
import { sampleDpm2Ancestral } from "./dpm2_ancestral.ts";
import { sampleDpmpp2m } from "./dpmpp_2m.ts";
import { sampleDpmpp2sAncestral } from "./dpmpp_2s_ancestral.ts";
import { sampleEuler } from "./euler.ts";
import { sampleEulerAncestral } from "./euler_ancestral.ts";
import { sampleHeun } from "./heun.ts";
import { sampleLcm } from "./lcm.ts";
import { sampleLms } from "./lms.ts";
import { sampleRestart } from "./restart.ts";
import { SCHEDULE_TYPES, type ScheduleType } from "./schedules.ts";
import { dpmpp2mSde, sampleDpmpp3mSde, sampleDpmppSde } from "./sde.ts";
import { sampleDdim, sampleDdimCfgpp, samplePlms, type TimestepSampler } from "./timestep_samplers.ts";
import type { SigmaSampler } from "./types.ts";
import { sampleUniPc } from "./unipc.ts";

/** Request options a sampler reads (A1111's sampler_extra_params plus eta where the function takes it). */
export type SamplerOption = "eta" | "s_churn" | "s_tmin" | "s_tmax" | "s_noise";

interface Common {
  /** A1111's label, e.g. "DPM++ 2M". */
  name: string;
  aliases: readonly string[];
  /** The schedule type "Automatic" stands for (A1111's options.scheduler); undefined: the model's uniform. */
  defaultSchedule?: string;
  options: readonly SamplerOption[];
  /** Eta when the request gives none (A1111's eta_ancestral 1, eta_ddim 0). */
  etaDefault: number;
  /** A1111's sampler options as its /samplers endpoint shows them. */
  a1111Options: Readonly<Record<string, string | boolean>>;
}

/** Walks sigmas through k-diffusion's denoiser interface. */
export interface SigmaSamplerEntry extends Common {
  kind: "sigmas";
  sample: SigmaSampler;
  /** Drops the next-to-last sigma (DPM2, DPM2 a, DPM++ 3M SDE). */
  discardPenultimate?: boolean;
  /** LCM runs on its own 50-step schedule and boundary scalings. */
  denoiser?: "lcm";
  /** The SDE samplers draw their noise from a Brownian tree per image, seeded with the image's seed. */
  brownianNoise?: boolean;
}

/** DPM fast / adaptive: driven by the sigma range and a step count rather than a list of sigmas. */
export interface DpmSolverEntry extends Common {
  kind: "dpm-solver";
  adaptive: boolean;
}

/** Walks training timesteps and sees the noise prediction (DDIM, PLMS, DDIM CFG++); no schedule types. */
export interface TimestepSamplerEntry extends Common {
  kind: "timesteps";
  sample: TimestepSampler;
  /** DDIM CFG++ divides the CFG scale by 12.5 and needs the unconditional prediction. */
  cfgScaleFactor?: number;
}

export type SamplerEntry = SigmaSamplerEntry | DpmSolverEntry | TimestepSamplerEntry;

const CHURN: readonly SamplerOption[] = ["s_churn", "s_tmin", "s_tmax", "s_noise"];

/** In A1111 1.10's order. */
export const SAMPLERS: readonly SamplerEntry[] = [
  {
    name: "DPM++ 2M",
    aliases: ["k_dpmpp_2m"],
    kind: "sigmas",
    sample: sampleDpmpp2m,
    defaultSchedule: "karras",
    options: [],
    etaDefault: 1,
    a1111Options: { scheduler: "karras" },
  },
  {
    name: "DPM++ SDE",
    aliases: ["k_dpmpp_sde"],
    kind: "sigmas",
    sample: sampleDpmppSde,
    defaultSchedule: "karras",
    brownianNoise: true,
    options: ["eta", "s_noise"],
    etaDefault: 1,
    a1111Options: { scheduler: "karras", second_order: true, brownian_noise: true },
  },
  {
    name: "DPM++ 2M SDE",
    aliases: ["k_dpmpp_2m_sde"],
    kind: "sigmas",
    sample: dpmpp2mSde("midpoint"),
    defaultSchedule: "exponential",
    brownianNoise: true,
    options: ["eta", "s_noise"],
    etaDefault: 1,
    a1111Options: { scheduler: "exponential", brownian_noise: true },
  },
  {
    name: "DPM++ 2M SDE Heun",
    aliases: ["k_dpmpp_2m_sde_heun"],
    kind: "sigmas",
    sample: dpmpp2mSde("heun"),
    defaultSchedule: "exponential",
    brownianNoise: true,
    options: ["eta", "s_noise"],
    etaDefault: 1,
    a1111Options: { scheduler: "exponential", brownian_noise: true, solver_type: "heun" },
  },
  {
    name: "DPM++ 2S a",
    aliases: ["k_dpmpp_2s_a"],
    kind: "sigmas",
    sample: sampleDpmpp2sAncestral,
    defaultSchedule: "karras",
    options: ["eta", "s_noise"],
    etaDefault: 1,
    a1111Options: { scheduler: "karras", uses_ensd: true, second_order: true },
  },
  {
    name: "DPM++ 3M SDE",
    aliases: ["k_dpmpp_3m_sde"],
    kind: "sigmas",
    sample: sampleDpmpp3mSde,
    defaultSchedule: "exponential",
    discardPenultimate: true,
    brownianNoise: true,
    options: ["eta", "s_noise"],
    etaDefault: 1,
    a1111Options: { scheduler: "exponential", discard_next_to_last_sigma: true, brownian_noise: true },
  },
  {
    name: "Euler a",
    aliases: ["k_euler_a", "k_euler_ancestral"],
    kind: "sigmas",
    sample: sampleEulerAncestral,
    options: ["eta"],
    etaDefault: 1,
    a1111Options: { uses_ensd: true },
  },
  {
    name: "Euler",
    aliases: ["k_euler"],
    kind: "sigmas",
    sample: sampleEuler,
    options: CHURN,
    etaDefault: 1,
    a1111Options: {},
  },
  {
    name: "LMS",
    aliases: ["k_lms"],
    kind: "sigmas",
    sample: sampleLms,
    options: [],
    etaDefault: 1,
    a1111Options: {},
  },
  {
    name: "Heun",
    aliases: ["k_heun"],
    kind: "sigmas",
    sample: sampleHeun,
    options: CHURN,
    etaDefault: 1,
    a1111Options: { second_order: true },
  },
  {
    name: "DPM2",
    aliases: ["k_dpm_2"],
    kind: "sigmas",
    sample: sampleDpm2,
    defaultSchedule: "karras",
    discardPenultimate: true,
    options: CHURN,
    etaDefault: 1,
    a1111Options: { scheduler: "karras", discard_next_to_last_sigma: true, second_order: true },
  },
  {
    name: "DPM2 a",
    aliases: ["k_dpm_2_a"],
    kind: "sigmas",
    sample: sampleDpm2Ancestral,
    defaultSchedule: "karras",
    discardPenultimate: true,
    options: ["eta", "s_noise"],
    etaDefault: 1,
    a1111Options: {
      scheduler: "karras",
      discard_next_to_last_sigma: true,
      uses_ensd: true,
      second_order: true,
    },
  },
  {
    name: "DPM fast",
    aliases: ["k_dpm_fast"],
    kind: "dpm-solver",
    adaptive: false,
    options: ["eta", "s_noise"],
    etaDefault: 1,
    a1111Options: { uses_ensd: true },
  },
  {
    name: "DPM adaptive",
    aliases: ["k_dpm_ad"],
    kind: "dpm-solver",
    adaptive: true,
    options: ["eta"],
    etaDefault: 1,
    a1111Options: { uses_ensd: true },
  },
  {
    name: "Restart",
    aliases: ["restart"],
    kind: "sigmas",
    sample: sampleRestart,
    defaultSchedule: "karras",
    options: [],
    etaDefault: 1,
    a1111Options: { scheduler: "karras", second_order: true },
  },
  {
    name: "DDIM",
    aliases: ["ddim"],
    kind: "timesteps",
    sample: sampleDdim,
    options: ["eta"],
    etaDefault: 0,
    a1111Options: {},
  },
  {
    name: "DDIM CFG++",
    aliases: ["ddim_cfgpp"],
    kind: "timesteps",
    sample: sampleDdimCfgpp,
    cfgScaleFactor: 1 / 12.5,
    options: ["eta"],
    etaDefault: 0,
    a1111Options: {},
  },
  {
    name: "PLMS",
    aliases: ["plms"],
    kind: "timesteps",
    sample: samplePlms,
    options: [],
    etaDefault: 0,
    a1111Options: {},
  },
  {
    name: "UniPC",
    aliases: ["unipc"],
    kind: "timesteps",
    sample: sampleUniPc,
    options: [],
    etaDefault: 0,
    a1111Options: {},
  },
  {
    name: "LCM",
    aliases: ["k_lcm"],
    kind: "sigmas",
    sample: sampleLcm,
    denoiser: "lcm",
    options: [],
    etaDefault: 1,
    a1111Options: {},
  },
];

/** "Automatic" and the schedule types, in A1111's order. */
export const SCHEDULE_LABELS: readonly string[] = ["Automatic", ...SCHEDULE_TYPES.map((s) => s.label)];

/** What /sdapi/v1/schedulers lists: A1111's name, label, aliases, default rho and need_inner_model. */
export interface ScheduleDescription {
  name: string;
  label: string;
  aliases: string[] | null;
  default_rho: number;
  need_inner_model: boolean;
}

const RHO: Readonly<Record<string, number>> = { karras: 7, polyexponential: 1 };
const INNER = new Set(["uniform", "sgm_uniform", "simple", "normal", "ddim", "beta"]);

export function describeSchedules(): ScheduleDescription[] {
  return [
    { name: "automatic", label: "Automatic", aliases: null, default_rho: -1, need_inner_model: false },
    ...SCHEDULE_TYPES.map((s) => ({
      name: s.name,
      label: s.label,
      aliases: s.aliases.length ? [...s.aliases] : null,
      default_rho: RHO[s.name] ?? -1,
      need_inner_model: INNER.has(s.name),
    })),
  ];
}

/** What /sdapi/v1/samplers lists for each sampler. */
export function describeSamplers(): Array<
  { name: string; aliases: string[]; options: Record<string, string | boolean> }
> {
  return SAMPLERS.map((s) => ({ name: s.name, aliases: [...s.aliases], options: { ...s.a1111Options } }));
}

const norm = (s: string) => s.trim().toLowerCase();

export function findSampler(name: string): SamplerEntry | undefined {
  const n = norm(name);
  return SAMPLERS.find((s) => norm(s.name) === n || s.aliases.some((a) => norm(a) === n));
}

/** A schedule type by name, label or alias; undefined for "Automatic". Throws on an unknown name. */
export function findSchedule(name: string): ScheduleType | undefined {
  const n = norm(name);
  if (n === "automatic" || n === "") return undefined;
  const found = SCHEDULE_TYPES.find((s) =>
    norm(s.name) === n || norm(s.label) === n || s.aliases.some((a) => norm(a) === n)
  );
  if (!found) throw new Error(`unknown schedule type "${name}"; known: ${SCHEDULE_LABELS.join(", ")}`);
  return found;
}

/** A sampler and its schedule (undefined: the model's uniform sigmas). */
export interface SamplingChoice {
  sampler: SamplerEntry;
  schedule: ScheduleType | undefined;
}

/**
 * A1111's get_sampler_and_scheduler: a schedule label at the end of the sampler name wins over `schedule`;
 * "Automatic" (or none) is the sampler's default. Unknown names throw with what is accepted.
 */
export function resolveSampling(samplerName: string, scheduleName = "Automatic"): SamplingChoice {
  let name = samplerName.trim();
  let schedule = findSchedule(scheduleName);
  let automatic = schedule === undefined;
  if (!findSampler(name)) {
    for (const s of SCHEDULE_TYPES) {
      const suffix = [s.label, ...s.aliases].find((l) => norm(name).endsWith(" " + norm(l)));
      if (suffix) {
        name = name.slice(0, -(suffix.length + 1));
        schedule = s;
        automatic = false;
        break;
      }
    }
  }
  const sampler = findSampler(name);
  if (!sampler) {
    throw new Error(`unknown sampler "${samplerName}"; known: ${SAMPLERS.map((s) => s.name).join(", ")}`);
  }
  if (automatic && sampler.defaultSchedule) schedule = findSchedule(sampler.defaultSchedule);
  return { sampler, schedule };
}

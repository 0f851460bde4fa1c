import { alphasCumprod, betas, linspaceF32 } from "../../../../lib/diffusion/schedulers/betas.ts";
import { assertThrows } from "./reference.ts";

// torch 2.9.1 / diffusers 0.36.0 values (float32) for beta_start 0.00085, beta_end 0.012.
const TORCH = {
  linear: {
    betas: [
      0.0008500000112690032,
      0.0008611611556261778,
      0.006419419310986996,
      0.011988839134573936,
      0.012000000104308128,
    ],
    acp: [0.9991499781608582, 0.1618121713399887, 0.0015789627796038985],
  },
  scaled_linear: {
    betas: [
      0.0008499999530613422,
      0.0008546985918655992,
      0.0048037925735116005,
      0.01198237482458353,
      0.011999999172985554,
    ],
    acp: [0.9991499781608582, 0.27766942977905273, 0.00466009508818388],
  },
  squaredcos_cap_v2: {
    betas: [
      4.128422369831242e-05,
      4.614175122696906e-05,
      0.003145886119455099,
      0.7499994039535522,
      0.9990000128746033,
    ],
    acp: [0.9999586939811707, 0.4938434660434723, 2.4287349909002387e-09],
  },
} as const;

for (const [schedule, want] of Object.entries(TORCH)) {
  Deno.test(`${schedule} betas and alphas_cumprod equal torch's float32 bits`, () => {
    const b = betas({
      num_train_timesteps: 1000,
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: schedule as keyof typeof TORCH,
    });
    const acp = alphasCumprod(b);
    [0, 1, 499, 998, 999].forEach((i, k) => {
      if (b[i] !== Math.fround(want.betas[k])) throw new Error(`beta[${i}] ${b[i]} != ${want.betas[k]}`);
    });
    [0, 499, 999].forEach((i, k) => {
      if (acp[i] !== Math.fround(want.acp[k])) throw new Error(`acp[${i}] ${acp[i]} != ${want.acp[k]}`);
    });
  });
}

Deno.test("linspace hits both ends; zero-SNR rescaling ends at alpha_bar 0; bad configs are refused", () => {
  const l = linspaceF32(0.1, 0.7, 7);
  if (l[0] !== Math.fround(0.1) || l[6] !== Math.fround(0.7)) throw new Error(`ends ${l[0]} ${l[6]}`);
  const base = {
    num_train_timesteps: 1000,
    beta_start: 0.00085,
    beta_end: 0.012,
    beta_schedule: "scaled_linear",
  } as const;
  const acp = alphasCumprod(betas({ ...base, rescale_betas_zero_snr: true }));
  if (acp[999] !== 0 || !(Math.abs(acp[0] - alphasCumprod(betas(base))[0]) < 1e-6)) {
    throw new Error("zero SNR");
  }
  const trained = betas({ ...base, num_train_timesteps: 3, trained_betas: [0.1, 0.2, 0.3] });
  if (trained[2] !== Math.fround(0.3)) throw new Error("trained_betas");
  assertThrows(
    () => betas({ ...base, num_train_timesteps: 3, trained_betas: [0.1] }),
    /trained_betas has 1/,
    "len",
  );
  assertThrows(() => betas({ ...base, num_train_timesteps: 0 }), /num_train_timesteps/, "n");
});

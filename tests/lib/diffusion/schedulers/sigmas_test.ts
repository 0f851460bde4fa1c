import { alphasCumprod, betas } from "../../../../lib/diffusion/schedulers/betas.ts";
import {
  initSigma,
  karrasSigmas,
  logF32,
  predictOriginal,
  sigmaToT,
  trainSigmas,
} from "../../../../lib/diffusion/schedulers/sigmas.ts";
import { assertNear } from "./reference.ts";

const train = trainSigmas(
  alphasCumprod(
    betas({
      num_train_timesteps: 1000,
      beta_start: 0.00085,
      beta_end: 0.012,
      beta_schedule: "scaled_linear",
    }),
  ),
);

Deno.test("training sigmas span SD's range and sigmaToT inverts them", () => {
  assertNear(train[999], 14.614646911621094, 3e-6, "max sigma");
  assertNear(train[0], 0.02916753478348255, 1e-8, "min sigma");
  const logs = logF32(train);
  for (const t of [0, 1, 250, 500.5, 998.25]) {
    const lo = Math.floor(t);
    const s = Math.exp(
      Math.log(train[lo]) + (t - lo) * (Math.log(train[Math.min(lo + 1, 999)]) - Math.log(train[lo])),
    );
    assertNear(sigmaToT(s, logs), t, 1e-3, `t=${t}`);
  }
});

Deno.test("Karras sigmas run from sigma_max to sigma_min with rho 7 spacing", () => {
  const k = karrasSigmas(0.1, 10, 5);
  assertNear(k[0], 10, 1e-12, "max");
  assertNear(k[4], 0.1, 1e-12, "min");
  const r = k.map((s) => s ** (1 / 7));
  assertNear(r[1] - r[0], r[2] - r[1], 1e-12, "even in sigma^(1/7)");
  if (initSigma(Float32Array.from([3, 4, 0]), "linspace") !== 4) throw new Error("init linspace");
  assertNear(initSigma(Float32Array.from([3, 4, 0]), "leading"), Math.sqrt(17), 1e-6, "init leading");
});

Deno.test("predictOriginal: epsilon and v predictions of a known x0 recover it", () => {
  const sigma = 2.5;
  const x0 = Float32Array.from([0.3, -1.2]);
  const eps = Float32Array.from([1.1, 0.4]);
  const xt = x0.map((v, i) => v + sigma * eps[i]);
  const fromEps = predictOriginal("epsilon", eps, xt, sigma);
  // v = alpha * eps - sigma_t * x0 with alpha = 1/sqrt(sigma²+1), sigma_t = sigma * alpha; the model sees
  // xt, and diffusers' formula takes the unscaled sample.
  const alpha = 1 / Math.sqrt(sigma * sigma + 1);
  const v = eps.map((e, i) => alpha * e - sigma * alpha * x0[i]);
  const fromV = predictOriginal("v_prediction", v, xt, sigma);
  x0.forEach((want, i) => {
    assertNear(fromEps[i], want, 1e-6, "epsilon");
    assertNear(fromV[i], want, 1e-5, "v");
  });
});

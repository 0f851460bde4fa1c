// The page's paste: the settings an infotext names become overrides where they differ from the server's
// options (A1111 reads a missing Clip skip as 1; the noise source goes to the seed's Extra options), and "Refiner" fills the Refiner
// accordion when the refiner is in the models folder.
import { deepStrictEqual as assertEquals } from "node:assert";
import { pasteFields } from "../../routes/paste.ts";

const options = { CLIP_stop_at_last_layers: 1, eta_noise_seed_delta: 0, randn_source: "CPU" };
const text = (params: string) => `a lighthouse\nSteps: 4, Sampler: Euler a, Seed: 5, Size: 64x64${params}`;

Deno.test("paste: ENSD and Clip skip become overrides where they differ; RNG goes to the seed's Extra", () => {
  const ctx = { samplers: ["Euler a"], options };
  assertEquals(pasteFields(text(", Clip skip: 2, ENSD: 31337"), ctx).fields.overrides, {
    CLIP_stop_at_last_layers: 2,
    eta_noise_seed_delta: 31337,
  });
  const rng = pasteFields(text(", RNG: CPU"), ctx).fields;
  assertEquals([rng.overrides, rng.seedExtra.rng], [{}, "CPU"]);
});

Deno.test("paste: Refiner fills the Refiner accordion when the refiner is known", () => {
  const ctx = { samplers: ["Euler a"], options, refiners: ["xl-refiner [e37153c55d]"] };
  assertEquals(
    pasteFields(text(", Refiner: xl-refiner [e37153c55d], Refiner switch at: 0.6"), ctx).fields.refiner,
    {
      enabled: true,
      checkpoint: "xl-refiner [e37153c55d]",
      switchAt: 0.6,
    },
  );
  assertEquals(pasteFields(text(", Refiner: xl-refiner"), ctx).fields.refiner?.switchAt, 0.8);
  assertEquals(pasteFields(text(", Refiner: other [0123456789]"), ctx).fields.refiner, undefined);
});

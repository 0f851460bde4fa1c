// What an infotext restores in the form, as A1111's paste fields.
import { deepStrictEqual as assertEquals } from "node:assert";
import { pasteFields } from "../../routes/paste.ts";

const SAMPLERS = ["Euler", "Euler a"];

Deno.test("hires, inpainting, variation seed and RNG fields come back from an infotext", () => {
  const { prompt, negative_prompt, fields } = pasteFields(
    "a castle\nNegative prompt: fog\nSteps: 12, Sampler: Euler, CFG scale: 6.5, Seed: 1234, Size: 64x72, " +
      "Variation seed: 4321, Variation seed strength: 0.3, Seed resize from: 128x96, Denoising strength: 0.45, " +
      "RNG: NV, Hires upscale: 1.5, Hires steps: 7, Hires upscaler: Latent (bicubic), Hires resize: 128x144, " +
      "Mask blur: 9, Inpaint area: Only masked, Masked area padding: 48, Masked content: latent noise, " +
      "Mask mode: Inpaint not masked",
    { samplers: SAMPLERS },
  );
  assertEquals([prompt, negative_prompt], ["a castle", "fog"]);
  assertEquals(fields, {
    steps: 12,
    cfg: 6.5,
    seed: 1234,
    denoising: 0.45,
    width: 64,
    height: 72,
    overrides: {},
    sampler: "Euler",
    hires: {
      enabled: true,
      scale: 1.5,
      steps: 7,
      upscaler: "Latent (bicubic)",
      denoising: 0.45,
      resizeX: 128,
      resizeY: 144,
    },
    inpaint: { blur: 9, fullRes: true, padding: 48, fill: 2, invert: 1 },
    seedExtra: {
      subseed: 4321,
      subseedStrength: 0.3,
      resizeFromW: 128,
      resizeFromH: 96,
      rng: "NV",
      shown: true,
    },
  });
});

Deno.test("missing fields get A1111's paste defaults; unknown samplers and upscalers are left alone", () => {
  const { fields } = pasteFields(
    "a tree\nSteps: 4, Sampler: Nope, CFG scale: 7, Seed: 5, Size: 64x64, Hires upscaler: Magic",
    { samplers: SAMPLERS },
  );
  assertEquals(fields.sampler, undefined);
  assertEquals(fields.hires, { resizeX: 0, resizeY: 0 }, "no denoising strength: the hires fix stays off");
  assertEquals(fields.inpaint, { fullRes: false, padding: 32, fill: 1, invert: 0 });
  assertEquals(fields.seedExtra, { rng: "GPU", shown: false, subseedStrength: 0 });
});

Deno.test("a grid's infotext gives its X/Y/Z plot back, axes by label", () => {
  const { fields } = pasteFields(
    "a tree\nSteps: 4, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 64x64, Script: X/Y/Z plot, " +
      'X Type: Steps, X Values: 1-5 [3], Y Type: Sampler, Y Values: "Euler, LMS"',
    { samplers: SAMPLERS },
  );
  assertEquals(fields.plot, {
    x: { label: "Steps", values: "1-5 [3]" },
    y: { label: "Sampler", values: "Euler, LMS" },
  });
});

import { deepStrictEqual as assertEquals } from "node:assert";
import { formatInfotext, parseGenerationParameters } from "../../../lib/io/infotext.ts";
import { rngParam, variationParams } from "../../../lib/diffusion/noise_infotext.ts";

const OFF = { rngSource: "GPU", subseedStrength: 0, seedResizeFromW: 0, seedResizeFromH: 0 } as const;

Deno.test("no fields for A1111's defaults", () => {
  assertEquals(variationParams(OFF, 5), []);
  assertEquals(rngParam(OFF), []);
});

Deno.test("variation seed, strength, seed resize and RNG as A1111 writes them, and read back", () => {
  const r = { rngSource: "CPU", subseedStrength: 1, seedResizeFromW: 512, seedResizeFromH: 768 } as const;
  const params = [
    ["Seed", 1],
    ...variationParams(r, 42),
    ["Denoising strength", 0.5],
    ...rngParam(r),
  ] as const;
  assertEquals(params.slice(1, 4), [
    ["Variation seed", "42"],
    ["Variation seed strength", "1.0"],
    ["Seed resize from", "512x768"],
  ]);
  assertEquals(rngParam({ rngSource: "NV" }), [["RNG", "NV"]]);
  const text = formatInfotext({ prompt: "p", params });
  assertEquals(
    text,
    "p\nSeed: 1, Variation seed: 42, Variation seed strength: 1.0, Seed resize from: 512x768, " +
      "Denoising strength: 0.5, RNG: CPU",
  );
  const back = parseGenerationParameters(text);
  assertEquals(
    [back["Variation seed"], back["Variation seed strength"], back["Seed resize from-1"], back["RNG"]],
    ["42", "1.0", "512", "CPU"],
  );
  assertEquals(parseGenerationParameters("p\nSteps: 1, Seed: 1, Size: 8x8")["RNG"], "GPU");
});

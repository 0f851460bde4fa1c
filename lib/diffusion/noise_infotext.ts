// The infotext fields A1111 writes for the noise options (modules/processing.py create_infotext), formatted as
// its Python values print. Callers put variationParams after "Model" and before "Denoising strength", and
// rngParam after "Clip skip", which is A1111's order. Reading them back is parseGenerationParameters'
// (lib/io/infotext.ts): "RNG" (GPU when absent), "Variation seed", "Variation seed strength", and
// "Seed resize from-1"/"-2".
import { pythonFloat } from "../io/infotext.ts";
import { A1111_DEFAULT_RNG, type RngSource } from "./noise_source.ts";

export interface NoiseFields {
  rngSource: RngSource;
  subseedStrength: number;
  seedResizeFromW: number;
  seedResizeFromH: number;
}

/** "Variation seed" (the image's subseed), "Variation seed strength", "Seed resize from"; unset ones omitted. */
export function variationParams(r: NoiseFields, subseed: number): [string, string][] {
  const out: [string, string][] = [];
  if (r.subseedStrength !== 0) {
    out.push(["Variation seed", String(subseed)], [
      "Variation seed strength",
      pythonFloat(r.subseedStrength),
    ]);
  }
  if (r.seedResizeFromW > 0 && r.seedResizeFromH > 0) {
    out.push(["Seed resize from", `${r.seedResizeFromW}x${r.seedResizeFromH}`]);
  }
  return out;
}

/** "RNG: CPU" or "RNG: NV": A1111 names the source only when it is not its default, GPU. */
export function rngParam(r: Pick<NoiseFields, "rngSource">): [string, string][] {
  return r.rngSource === A1111_DEFAULT_RNG ? [] : [["RNG", r.rngSource]];
}

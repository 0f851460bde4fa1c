// Test helpers for SDXL: tiny-sdxl opened once, the references tests/fixtures/fx_sdxl.py wrote, and the parity
// check (final latents within 1e-4 of the reference's largest value, decoded pixels within 1/255).
import { join } from "node:path";
import { SdModel } from "../../../lib/diffusion/sd_model.ts";
import { FIXTURES, type Manifest, maxAbsDiff, MODELS, readRef } from "../../fixtures.ts";

export const sdxlRefs: Manifest = JSON.parse(
  Deno.readTextFileSync(join(FIXTURES, "refs", "sdxl", "manifest.json")),
);

let opened: Promise<SdModel> | undefined;
export function sdxl(): Promise<SdModel> {
  opened ??= SdModel.open(join(MODELS, "tiny-sdxl"), { session: { threads: 1 } });
  return opened;
}

export function relative(got: Float32Array, ref: Float32Array): number {
  return maxAbsDiff(got, ref) / ref.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/**
 * Latents within `latentBound` relative (default 1e-4); pixels (float and 8-bit) within 1/255. Logs the
 * numbers for the README.
 */
export function assertMatches(
  got: { latents: Float32Array; pixels: Float32Array; image: { data: Uint8Array } },
  e: Manifest,
  what: string,
  latentBound = 1e-4,
) {
  const rel = relative(got.latents, readRef(e.latents));
  const pixels = readRef(e.image);
  const d = maxAbsDiff(got.pixels, pixels);
  const d8 = maxAbsDiff(Float32Array.from(got.image.data, (v) => v / 255), pixels);
  console.log(`  ${what}: latents ${rel.toExponential(2)} relative, pixels ${d.toExponential(2)}`);
  if (!(rel <= latentBound)) throw new Error(`${what}: latents differ by ${rel} relative`);
  if (!(d <= 1 / 255)) throw new Error(`${what}: pixels differ by ${d * 255}/255`);
  if (!(d8 <= 1 / 255)) throw new Error(`${what}: 8-bit pixels differ by ${d8 * 255}/255`);
}

// A cheap look at latents while sampling: each latent cell becomes one RGB pixel through a fixed linear map of
// the four SD latent channels (the "approx cheap" live preview of A1111), at 1/8 of the image size.
import type { RgbImage } from "../io/image.ts";

// Rows: latent channels; columns: R, G, B. Fitted for the SD 1.x/2.x VAE latent space.
const LATENT_RGB = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

/**
 * One image's latents (C × h × w) as RGB. Samplers that start from noise scaled by σ (Euler, LMS, DPM++)
 * carry latents far outside the VAE's range early on, so values are divided by their RMS when it exceeds 1.
 */
export function latentPreview(
  latents: Float32Array,
  channels: number,
  height: number,
  width: number,
): RgbImage {
  const plane = height * width;
  if (latents.length !== channels * plane) {
    throw new Error(`latentPreview: ${latents.length} values for ${channels}×${height}×${width}`);
  }
  let sq = 0;
  for (let i = 0; i < latents.length; i++) sq += latents[i] * latents[i];
  const scale = 1 / Math.max(1, Math.sqrt(sq / latents.length));
  const data = new Uint8Array(plane * 3);
  const used = Math.min(channels, LATENT_RGB.length);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let l = 0; l < used; l++) v += latents[l * plane + p] * LATENT_RGB[l][c];
      v = (v * scale + 1) / 2;
      data[p * 3 + c] = Math.round(Math.min(Math.max(v, 0), 1) * 255);
    }
  }
  return { width, height, data };
}

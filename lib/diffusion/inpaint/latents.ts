// The inpainting mask in latent space, as A1111 applies it: the masked content's start (latent noise, latent
// nothing), and the blend that keeps the source's latents outside the mask (after every model call and once
// more after sampling: x·nmask + init·(1 − nmask)).

/** x·nmask + init·(1 − nmask) for C × h × w latents, `latentMask` (h × w) being nmask. */
export function blendLatents(x: Float32Array, init: Float32Array, latentMask: Float32Array): Float32Array {
  const plane = latentMask.length;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const m = latentMask[i % plane];
    out[i] = Math.fround(Math.fround(x[i] * m) + Math.fround(init[i] * (1 - m)));
  }
  return out;
}

/** A1111's init_latent for "latent noise" (`noise` given) and "latent nothing": noise or zeros under the mask. */
export function maskedStart(
  init: Float32Array,
  latentMask: Float32Array,
  noise?: Float32Array,
): Float32Array {
  return blendLatents(noise ?? new Float32Array(init.length), init, latentMask);
}

// Where the hires fix upscales to, as A1111's calculate_target_resolution: hr_scale × the first pass, or
// hr_resize_x/y (one side given: the other keeps the aspect ratio; both: upscale to cover them, then crop
// the excess latents evenly, truncate_x/y).

export interface HiresTarget {
  /** The size the first pass is upscaled to (hr_upscale_to_x/y). */
  upscaleWidth: number;
  upscaleHeight: number;
  /** Latent columns/rows cropped after upscaling (truncate_x/y), split as A1111 splits them. */
  truncateX: number;
  truncateY: number;
  /** The final image's size. */
  width: number;
  height: number;
}

export function hiresTarget(
  width: number,
  height: number,
  scale: number,
  resizeX: number,
  resizeY: number,
  latentFactor = 8,
): HiresTarget {
  let upscaleWidth: number;
  let upscaleHeight: number;
  let truncateX = 0;
  let truncateY = 0;
  if (resizeX === 0 && resizeY === 0) {
    upscaleWidth = Math.trunc(width * scale);
    upscaleHeight = Math.trunc(height * scale);
  } else if (resizeY === 0) {
    upscaleWidth = resizeX;
    upscaleHeight = Math.floor(resizeX * height / width);
  } else if (resizeX === 0) {
    upscaleWidth = Math.floor(resizeY * width / height);
    upscaleHeight = resizeY;
  } else {
    if (width / height < resizeX / resizeY) {
      upscaleWidth = resizeX;
      upscaleHeight = Math.floor(resizeX * height / width);
    } else {
      upscaleWidth = Math.floor(resizeY * width / height);
      upscaleHeight = resizeY;
    }
    truncateX = Math.floor((upscaleWidth - resizeX) / latentFactor);
    truncateY = Math.floor((upscaleHeight - resizeY) / latentFactor);
  }
  return {
    upscaleWidth,
    upscaleHeight,
    truncateX,
    truncateY,
    width: upscaleWidth - truncateX * latentFactor,
    height: upscaleHeight - truncateY * latentFactor,
  };
}

/** samples[:, :, ty//2 : h − (ty+1)//2, tx//2 : w − (tx+1)//2] for one image's C × h × w latents. */
export function cropLatents(
  x: Float32Array,
  shape: readonly [number, number, number],
  truncateX: number,
  truncateY: number,
): { latents: Float32Array; shape: [number, number, number] } {
  const [c, h, w] = shape;
  if (truncateX === 0 && truncateY === 0) return { latents: x, shape: [c, h, w] };
  const y0 = Math.floor(truncateY / 2);
  const x0 = Math.floor(truncateX / 2);
  const oh = h - Math.floor((truncateY + 1) / 2) - y0;
  const ow = w - Math.floor((truncateX + 1) / 2) - x0;
  const out = new Float32Array(c * oh * ow);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < oh; y++) {
      const src = (ch * h + y0 + y) * w + x0;
      out.set(x.subarray(src, src + ow), (ch * oh + y) * ow);
    }
  }
  return { latents: out, shape: [c, oh, ow] };
}

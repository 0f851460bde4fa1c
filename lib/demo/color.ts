// The demo world's palette and the RGB ↔ HSV conversions its styles and checker share.

export const COLORS = ["red", "orange", "yellow", "green", "blue", "purple", "white", "black"] as const;
export type ColorName = typeof COLORS[number];

/** Linear-free sRGB triple in [0, 1]. */
export type Rgb = readonly [number, number, number];

/** Chosen so the chromatic colors sit far apart in hue (0°, 30°, 52°, 130°, 223°, 282°). */
export const PALETTE: Readonly<Record<ColorName, Rgb>> = {
  red: rgb255(220, 40, 40),
  orange: rgb255(245, 140, 30),
  yellow: rgb255(245, 215, 40),
  green: rgb255(50, 170, 70),
  blue: rgb255(40, 90, 220),
  purple: rgb255(140, 60, 180),
  white: rgb255(245, 245, 245),
  black: rgb255(20, 20, 20),
};

function rgb255(r: number, g: number, b: number): Rgb {
  return [r / 255, g / 255, b / 255];
}

/** Hue in degrees [0, 360), saturation and value in [0, 1] (HSV as PIL and colorsys define it). */
export interface Hsv {
  h: number;
  s: number;
  v: number;
}

export function rgbToHsv(r: number, g: number, b: number): Hsv {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = ((g - b) / d) % 6;
    else if (max === g) h = (b - r) / d + 2;
    else h = (r - g) / d + 4;
    h *= 60;
    if (h < 0) h += 360;
  }
  return { h, s: max > 0 ? d / max : 0, v: max };
}

export function hsvToRgb({ h, s, v }: Hsv): Rgb {
  const c = v * s;
  const hp = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] = hp < 1
    ? [c, x, 0]
    : hp < 2
    ? [x, c, 0]
    : hp < 3
    ? [0, c, x]
    : hp < 4
    ? [0, x, c]
    : hp < 5
    ? [x, 0, c]
    : [c, 0, x];
  const m = v - c;
  return [r + m, g + m, b + m];
}

/** Rec. 601 luma, the luminance sepia maps onto its ramp. */
export function luma([r, g, b]: Rgb): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

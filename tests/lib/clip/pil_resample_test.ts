import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert";
import { Resample, resizeRgb } from "../../../lib/clip/pil_resample.ts";
import type { RgbImage } from "../../../lib/io/image.ts";

// The same deterministic pattern the expected values were computed from with Pillow 12.0's Image.resize.
function pattern(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      data[o] = (x * 37 + y * 11) % 256;
      data[o + 1] = (x * x * 5 + y * 29) % 256;
      data[o + 2] = ((x ^ y) * 23) % 256;
    }
  }
  return { width: w, height: h, data };
}

const PIL_CASES: [number, number, number, number, Resample, number[]][] = [
  [7, 5, 3, 2, Resample.BICUBIC, [
    36,
    28,
    22,
    120,
    72,
    64,
    207,
    165,
    129,
    62,
    94,
    69,
    148,
    144,
    72,
    196,
    156,
    97,
  ]],
  [9, 6, 4, 4, Resample.LANCZOS, [
    26,
    10,
    15,
    109,
    44,
    67,
    190,
    151,
    116,
    55,
    137,
    170,
    42,
    52,
    29,
    124,
    91,
    48,
    214,
    173,
    136,
    76,
    93,
    169,
    58,
    94,
    70,
    147,
    152,
    69,
    197,
    152,
    96,
    71,
    96,
    120,
    71,
    137,
    124,
    176,
    191,
    121,
    149,
    108,
    13,
    45,
    137,
    43,
  ]],
  [5, 5, 8, 3, Resample.BILINEAR, [
    5,
    12,
    10,
    21,
    14,
    11,
    44,
    18,
    15,
    67,
    27,
    42,
    91,
    40,
    57,
    114,
    55,
    59,
    137,
    77,
    83,
    153,
    92,
    102,
    22,
    58,
    46,
    38,
    60,
    47,
    61,
    64,
    47,
    84,
    73,
    29,
    108,
    86,
    21,
    131,
    101,
    23,
    154,
    123,
    88,
    170,
    138,
    138,
    39,
    104,
    82,
    55,
    106,
    84,
    78,
    110,
    86,
    101,
    119,
    88,
    125,
    132,
    90,
    148,
    147,
    92,
    171,
    169,
    79,
    187,
    184,
    69,
  ]],
];

Deno.test("resizeRgb equals Pillow's Image.resize byte for byte (downscale, upscale, mixed, 3 filters)", () => {
  for (const [w, h, ow, oh, f, expected] of PIL_CASES) {
    const out = resizeRgb(pattern(w, h), ow, oh, f);
    assertEquals([out.width, out.height], [ow, oh]);
    assertEquals([...out.data], expected, `${w}×${h} → ${ow}×${oh} ${Resample[f]}`);
  }
});

Deno.test("bicubic upscale 4×3 → 9×7 matches Pillow, including clamping of overshoot to 0", () => {
  const out = resizeRgb(pattern(4, 3), 9, 7, Resample.BICUBIC);
  // First row and last pixel from Pillow; the 0s are negative lobes clamped.
  assertEquals([...out.data.subarray(0, 27)], [
    0,
    0,
    0,
    3,
    0,
    0,
    19,
    0,
    13,
    38,
    3,
    26,
    55,
    8,
    35,
    71,
    16,
    43,
    90,
    28,
    56,
    106,
    39,
    69,
    113,
    44,
    74,
  ]);
  assertEquals([...out.data.subarray(out.data.length - 3)], [137, 108, 23]);
});

Deno.test("a constant image stays constant at any scale; same size returns the input", () => {
  const img: RgbImage = { width: 50, height: 31, data: new Uint8Array(50 * 31 * 3).fill(200) };
  for (const [w, h] of [[7, 3], [120, 90], [50, 5]]) {
    assert(resizeRgb(img, w, h).data.every((v) => v === 200), `${w}×${h}`);
  }
  assert(resizeRgb(img, 50, 31) === img);
});

Deno.test("NEAREST and bad sizes are refused with a clear error", () => {
  const img = pattern(4, 4);
  throws(() => resizeRgb(img, 2, 2, Resample.NEAREST), /unsupported resampling filter 0/);
  throws(() => resizeRgb(img, 0, 2), /positive integers/);
  throws(() => resizeRgb(img, 2.5, 2), /positive integers/);
});

import { deepStrictEqual as assertEquals, match as assertMatch, ok as assert } from "node:assert";
import { join } from "node:path";
import {
  cmykToRgb,
  decodeImage,
  type DecodeOutcome,
  hasImageExtension,
  type ImageSkip,
  loadImage,
  type RgbImage,
} from "../../../lib/io/image.ts";
import { FIXTURES, refs } from "../../fixtures.ts";
import { pngHeader } from "./crafted_png.ts";
import { hostileEntries, within } from "../../hostile_files.ts";

const IMAGES = join(FIXTURES, "images");

interface Case {
  file: string;
  size: [number, number];
}

function skipOf(r: DecodeOutcome): ImageSkip {
  if (r.ok) throw new Error(`expected a skip, got a ${r.image.width}×${r.image.height} image`);
  return r.skip;
}

function imageOf(r: DecodeOutcome): RgbImage {
  if (!r.ok) throw new Error(`expected an image, skipped: ${r.skip.message}`);
  return r.image;
}

Deno.test("every reference image decodes to RGB8 at PIL's size (EXIF rotation applied, first frame)", async () => {
  const cases: Case[] = refs().images.cases;
  assertEquals(cases.length, 11);
  for (const c of cases) {
    const img = imageOf(await loadImage(join(IMAGES, c.file)));
    assertEquals([img.width, img.height], c.size, c.file);
    assertEquals(img.data.length, c.size[0] * c.size[1] * 3, c.file);
  }
});

Deno.test("grayscale PNG decodes to equal R, G and B", async () => {
  const d = imageOf(await loadImage(join(IMAGES, "gray.png"))).data;
  for (let i = 0; i < d.length; i += 3) assert(d[i] === d[i + 1] && d[i] === d[i + 2], `pixel ${i / 3}`);
});

Deno.test("cmykToRgb is PIL's CMYK→RGB conversion (values from Pillow 12.0)", () => {
  const cmyk = new Uint8Array([
    0,
    0,
    0,
    0,
    255,
    0,
    0,
    0,
    100,
    50,
    200,
    50,
    10,
    20,
    30,
    255,
    255,
    255,
    255,
    128,
    1,
    2,
    3,
    4,
  ]);
  const pil = [255, 255, 255, 0, 255, 255, 125, 165, 44, 0, 0, 0, 0, 0, 0, 250, 249, 248];
  assertEquals([...cmykToRgb(cmyk, 6, 4)], pil);
});

Deno.test("a zero-byte file is skipped as empty", async () => {
  const r = skipOf(await decodeImage(new Uint8Array(0)));
  assertEquals(r.code, "empty");
});

Deno.test("a non-image file with an image extension is skipped, not thrown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "notes.png");
    await Deno.writeTextFile(path, "these are not pixels\n");
    const r = skipOf(await loadImage(path));
    assertEquals(r.code, "not-an-image");
    assertMatch(r.message, /not a decodable image/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("truncated JPEG, PNG and WebP files are skipped with a reason", async () => {
  for (const file of ["rgb.jpg", "rgb.png", "rgb.webp"]) {
    const bytes = await Deno.readFile(join(IMAGES, file));
    for (const keep of [40, Math.floor(bytes.length / 2), bytes.length - 20]) {
      const r = skipOf(await decodeImage(bytes.subarray(0, keep)));
      assert(r.code === "corrupt" || r.code === "not-an-image", `${file}@${keep}: ${r.code}`);
      assert(r.message.length > 10, r.message);
    }
  }
});

Deno.test("a PNG declaring 100000×100000 pixels is refused from its header, before decoding", async () => {
  // The file has no pixel data at all: reaching a decoder would fail as "corrupt", not "too-large".
  const r = skipOf(await decodeImage(pngHeader(100000, 100000)));
  assertEquals(r.code, "too-large");
  assertMatch(r.message, /100000×100000 = 10000000000 pixels, over the limit of 178956970/);
  assertEquals(skipOf(await decodeImage(pngHeader(10, 10))).code, "corrupt");
});

Deno.test("the pixel limit is configurable", async () => {
  const bytes = await Deno.readFile(join(IMAGES, "rgb.png")); // 64×128
  const r = skipOf(await decodeImage(bytes, { maxPixels: 64 * 128 - 1 }));
  assertEquals(r.code, "too-large");
  imageOf(await decodeImage(bytes, { maxPixels: 64 * 128 }));
});

Deno.test("a missing file is reported as unreadable", async () => {
  const r = skipOf(await loadImage("/nonexistent/dir/x.jpg"));
  assertEquals(r.code, "unreadable");
});

Deno.test("only regular files below the size cap are read: FIFOs, devices and large files are skipped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const p = await hostileEntries(dir, ".png");
    const png = join(dir, "ok.png");
    await Deno.writeFile(png, pngHeader(2, 2));
    const codes = [];
    for (const path of [p.fifo, p.zero, p.folder]) {
      const r = await within(5000, path, loadImage(path));
      codes.push(r.ok ? "ok" : r.skip.code);
    }
    assertEquals(codes, ["not-a-file", "not-a-file", "not-a-file"]);
    const small = await loadImage(png, { maxFileBytes: 10 });
    assert(
      !small.ok && small.skip.code === "too-large" &&
        /over the limit of 10; not read/.test(small.skip.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("image extensions are recognized case-insensitively", () => {
  for (const n of ["a.jpg", "B.JPEG", "c.Png", "d.webp", "e.gif", "f.tiff", "g.avif"]) {
    assert(hasImageExtension(n), n);
  }
  for (const n of ["a.txt", "jpg", "b.jpg.txt", "c"]) assert(!hasImageExtension(n), n);
});

// PNG text chunks: read what PIL writes, write without touching the image data, refuse damaged files.
import { join } from "node:path";
import {
  readPngParameters,
  readPngTextMap,
  readPngTexts,
  textChunk,
  withPngTexts,
  writeFileAtomic,
} from "../../../lib/io/png.ts";
import { FIXTURES } from "../../fixtures.ts";

// A 2x1 PNG saved by Pillow 11 with: iTXt "parameters" (uncompressed, because the prompt is not Latin-1),
// zTXt "Comment" (add_text zip=True) and a compressed iTXt "Title" with language tag and translated keyword.
const PIL_PNG = Uint8Array.from(
  atob(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAAdmlUWHRwYXJhbWV0ZXJzAAAAAABhIGNhdCwgYnkg5pel5pysCk5lZ2F0aXZlIHB" +
      "yb21wdDogZG9nClN0ZXBzOiAyMCwgU2FtcGxlcjogRXVsZXIgYSwgQ0ZHIHNjYWxlOiA3LCBTZWVkOiAxLCBTaXplOiA1MTJ4NTEy0Iz9ggAAAC" +
      "V6VFh0Q29tbWVudAAAeJyryiwoSE1RyEksyczTNVT4o1BFBQEAY9gf10DO95wAAAAzaVRYdFRpdGxlAAEAZW4AVGl0ZWwAeJw7PCfv8Prkw9tS" +
      "Dq9UKMksyUlVeNQwReHlwh4AtesNelpfF/AAAAAPSURBVHicY+Q6IcfAwAAABKoA8sjc/r0AAAAASUVORK5CYII=",
  ),
  (c) => c.charCodeAt(0),
);

function chunkTypes(png: Uint8Array): string[] {
  const out: string[] = [];
  const view = new DataView(png.buffer, png.byteOffset);
  for (let at = 8; at < png.length;) {
    const len = view.getUint32(at);
    out.push(String.fromCharCode(...png.subarray(at + 4, at + 8)));
    at += 12 + len;
  }
  return out;
}

/** The bytes of every chunk that is not text, concatenated: must survive a metadata edit unchanged. */
function nonTextBytes(png: Uint8Array): Uint8Array {
  const parts: number[] = [];
  const view = new DataView(png.buffer, png.byteOffset);
  for (let at = 8; at < png.length;) {
    const len = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (!["tEXt", "zTXt", "iTXt"].includes(type)) parts.push(...png.subarray(at, at + 12 + len));
    at += 12 + len;
  }
  return Uint8Array.from(parts);
}

Deno.test("reads tEXt/zTXt/iTXt as Pillow writes them, including compressed and UTF-8 text", () => {
  const texts = readPngTexts(PIL_PNG);
  const byKey = Object.fromEntries(texts.map((t) => [t.keyword, t]));
  if (
    byKey.parameters.type !== "iTXt" ||
    !byKey.parameters.text.startsWith("a cat, by 日本\nNegative prompt: dog")
  ) {
    throw new Error(JSON.stringify(byKey.parameters));
  }
  if (byKey.Comment.type !== "zTXt" || byKey.Comment.text !== "zipped latin-1 ü ".repeat(5)) {
    throw new Error("zTXt");
  }
  const t = byKey.Title;
  if (t.text !== "Ünïcödé title — 題" || t.languageTag !== "en" || t.translatedKeyword !== "Titel") {
    throw new Error(JSON.stringify(t));
  }
  if (readPngParameters(PIL_PNG)?.endsWith("Size: 512x512") !== true) throw new Error("parameters");
});

Deno.test("writing text keeps every other chunk byte for byte, replaces same-keyword text, and reads back", async () => {
  const original = await Deno.readFile(join(FIXTURES, "images", "rgb.png"));
  const params =
    "a (cat:1.2), photo\nof a dog\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, Seed: 1";
  const once = withPngTexts(original, { parameters: params, Software: "aesthetic-gradients" });
  const twice = withPngTexts(once, [["parameters", "ünïcode 日本 second"]]);
  for (const png of [once, twice]) {
    const a = nonTextBytes(original);
    const b = nonTextBytes(png);
    if (a.length !== b.length || a.some((v, i) => v !== b[i])) throw new Error("non-text chunks changed");
  }
  const types = chunkTypes(twice);
  if (types[0] !== "IHDR" || types.indexOf("iTXt") > types.indexOf("IDAT")) throw new Error(`order ${types}`);
  const map = readPngTextMap(twice);
  if (map.get("parameters") !== "ünïcode 日本 second" || map.get("Software") !== "aesthetic-gradients") {
    throw new Error(JSON.stringify([...map]));
  }
  if (readPngTexts(twice).filter((t) => t.keyword === "parameters").length !== 1) {
    throw new Error("duplicate");
  }
  if (readPngTexts(once).find((t) => t.keyword === "parameters")?.type !== "tEXt") {
    throw new Error("Latin-1 as tEXt");
  }
  const zipped = withPngTexts(original, { parameters: params, Title: "題" }, { compress: true });
  const zt = readPngTexts(zipped);
  if (zt[0].type !== "zTXt" || zt[0].text !== params || zt[1].type !== "iTXt" || zt[1].text !== "題") {
    throw new Error(JSON.stringify(zt));
  }
});

Deno.test("writeFileAtomic leaves only the finished file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "out.png");
    await writeFileAtomic(path, withPngTexts(PIL_PNG, { parameters: "x" }));
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    if (names.length !== 1 || names[0] !== "out.png") throw new Error(`${names}`);
    if (readPngParameters(await Deno.readFile(path)) !== "x") throw new Error("content");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("damaged or non-PNG input and bad keywords are refused with the reason", () => {
  const expectError = (fn: () => unknown, pattern: RegExp) => {
    try {
      fn();
    } catch (e) {
      if (pattern.test((e as Error).message)) return;
      throw new Error(`wrong error: ${(e as Error).message}`);
    }
    throw new Error(`no error for ${pattern}`);
  };
  expectError(() => readPngTexts(new TextEncoder().encode("GIF89a......")), /not a PNG/);
  const flipped = PIL_PNG.slice();
  flipped[60] ^= 1; // inside the iTXt data
  expectError(() => readPngTexts(flipped), /CRC mismatch in iTXt/);
  expectError(() => readPngTexts(PIL_PNG.subarray(0, PIL_PNG.length - 12)), /no IEND/);
  expectError(() => readPngTexts(PIL_PNG.subarray(0, 40)), /truncated/);
  expectError(() => textChunk("", "x"), /invalid PNG text keyword/);
  expectError(() => textChunk(" lead", "x"), /invalid PNG text keyword/);
  expectError(() => textChunk("k".repeat(80), "x"), /invalid PNG text keyword/);
  expectError(() => textChunk("ok", "a\0b"), /NUL/);
});

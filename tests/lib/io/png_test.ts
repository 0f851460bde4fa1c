// PNG text chunks: read what PIL writes, write without touching the image data, refuse damaged files.
import { join } from "node:path";
import { deflateSync } from "node:zlib";
import {
  MAX_TEXT_CHUNK,
  PngError,
  PngTextLimitError,
  readPngParameters,
  readPngTextMap,
  readPngTexts,
  textChunk,
  withPngTexts,
  writeFileAtomic,
} from "../../../lib/io/png.ts";
import { FIXTURES } from "../../fixtures.ts";
import { seededRandom } from "../../seeded_random.ts";
import { concatBytes, pngChunk, pngWith } from "./crafted_png.ts";

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

const latin1Bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const zTXt = (keyword: string, compressed: Uint8Array) =>
  pngChunk("zTXt", concatBytes([latin1Bytes(keyword), Uint8Array.of(0, 0), compressed]));
const iTXt = (keyword: string, compressed: Uint8Array) =>
  pngChunk("iTXt", concatBytes([latin1Bytes(keyword), Uint8Array.of(0, 1, 0, 0, 0), compressed]));

function refusedWith(fn: () => unknown, type: new (...a: never[]) => Error, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof type && pattern.test((e as Error).message)) return;
    throw new Error(`expected ${type.name} ${pattern}, got ${(e as Error).name}: ${(e as Error).message}`);
  }
  throw new Error(`no error for ${pattern}`);
}

Deno.test("a zTXt/iTXt bomb is refused past 1 MB of text, without inflating the rest", () => {
  // 256 MB of text in 250 KB of PNG: the old reader peaked at gigabytes on files like this.
  const bomb = deflateSync(new Uint8Array(256 << 20), { level: 9 });
  for (const chunk of [zTXt("parameters", bomb), iTXt("parameters", bomb)]) {
    const png = pngWith([chunk]);
    const t0 = performance.now(), external0 = Deno.memoryUsage().external;
    refusedWith(() => readPngParameters(png), PngTextLimitError, /inflates to more than 1048576 bytes/);
    const ms = performance.now() - t0, grown = Deno.memoryUsage().external - external0;
    // Inflating it whole took 1 s and 1 GB of buffers (fflate grows its output by doubling); stopping past the
    // first megabyte takes milliseconds and a few MB.
    if (ms > 500) throw new Error(`refusing took ${ms.toFixed(0)} ms`);
    if (grown > 32 << 20) throw new Error(`refusing allocated ${grown} bytes`);
  }
  // Exactly at the cap is still text.
  const full = pngWith([zTXt("parameters", deflateSync(new Uint8Array(MAX_TEXT_CHUNK).fill(97)))]);
  if (readPngParameters(full)?.length !== MAX_TEXT_CHUNK) throw new Error("1 MB of text was refused");
});

Deno.test("text chunks are capped in total per file, as Pillow's MAX_TEXT_MEMORY", () => {
  const mb = deflateSync(new Uint8Array(MAX_TEXT_CHUNK).fill(97));
  const png = pngWith(Array.from({ length: 65 }, (_, i) => zTXt(`k${i}`, mb)));
  refusedWith(() => readPngTexts(png), PngTextLimitError, /more than 67108864 bytes/);
  // A file's image data is copied, never inflated, when its parameters are replaced.
  const withBomb = pngWith([zTXt("parameters", deflateSync(new Uint8Array(64 << 20)))]);
  const replaced = withPngTexts(withBomb, { parameters: "fine" });
  if (readPngParameters(replaced) !== "fine") throw new Error("not replaced");
});

Deno.test("fuzz: truncated and corrupt PNGs either read or fail with PngError, quickly", () => {
  const rnd = seededRandom(3);
  const int = (n: number) => Math.floor(rnd() * n);
  const text = "a cat, photo\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, Seed: 1, Size: 512x512";
  const bodies = [
    deflateSync(new TextEncoder().encode(text.repeat(50))),
    deflateSync(new Uint8Array(4 << 20)),
  ];
  /** A text chunk body corrupted then sealed with a correct CRC, so the damage reaches the text decoder. */
  function mutatedChunk(): Uint8Array {
    const kind = int(3);
    const compressed = bodies[int(2)].slice();
    let body = kind === 0
      ? concatBytes([latin1Bytes("parameters"), Uint8Array.of(0), latin1Bytes(text)])
      : concatBytes([
        latin1Bytes("parameters"),
        Uint8Array.of(0, ...(kind === 2 ? [1, 0, 0, 0] : [0])),
        compressed,
      ]);
    for (let i = int(4); i > 0; i--) body[int(body.length)] = int(256);
    if (rnd() < 0.4) body = body.subarray(0, int(body.length + 1));
    if (rnd() < 0.2) body = concatBytes([body, Uint8Array.from({ length: int(64) }, () => int(256))]);
    return pngChunk(["tEXt", "zTXt", "iTXt"][kind], body);
  }
  const slowest = { ms: 0, what: "" };
  for (let n = 0; n < 1500; n++) {
    let png = n % 3 === 0 ? PIL_PNG.slice() : pngWith([mutatedChunk(), mutatedChunk()]);
    if (n % 3 === 0) {
      // Raw damage: truncation, flipped bytes, a huge declared length; CRCs catch most of it.
      if (rnd() < 0.5) png = png.subarray(0, int(png.length));
      for (let i = int(3); i > 0; i--) png[int(png.length)] ^= 1 << int(8);
      if (rnd() < 0.2 && png.length > 40) new DataView(png.buffer, png.byteOffset).setUint32(33, 0xfffffff0);
    }
    const t0 = performance.now();
    try {
      readPngTexts(png);
    } catch (e) {
      if (!(e instanceof PngError || e instanceof PngTextLimitError)) {
        throw new Error(`case ${n}: unexpected ${(e as Error).name}: ${(e as Error).message}`);
      }
    }
    const ms = performance.now() - t0;
    if (ms > slowest.ms) Object.assign(slowest, { ms, what: `case ${n}` });
  }
  // Each file is at most a few MB of text: anything near a second means a loop or an unbounded inflate.
  if (slowest.ms > 1000) throw new Error(`${slowest.what} took ${slowest.ms.toFixed(0)} ms`);
});

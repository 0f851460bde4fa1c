// PNG text metadata (tEXt, zTXt, iTXt) read and written at the chunk level, so the image data is never
// decoded or re-encoded: adding A1111's "parameters" text to a PNG copies every other chunk byte for byte.
import { crc32 } from "node:zlib";
import { Unzlib, zlibSync } from "fflate";
import { basename, dirname, join } from "node:path";
import { InputError, InputLimitError } from "./input_error.ts";

/** A PNG that is not one, or is truncated or corrupt. */
export class PngError extends InputError {}

/** A PNG whose text would exceed MAX_TEXT_CHUNK or MAX_TEXT_TOTAL once decompressed. */
export class PngTextLimitError extends InputLimitError {}

/** Most text one compressed chunk may inflate to (Pillow's MAX_TEXT_CHUNK). */
export const MAX_TEXT_CHUNK = 1 << 20;
/** Most text all chunks of a file may hold together (Pillow's MAX_TEXT_MEMORY). */
export const MAX_TEXT_TOTAL = 64 * MAX_TEXT_CHUNK;

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

export type TextChunkType = "tEXt" | "zTXt" | "iTXt";

export interface PngText {
  keyword: string;
  text: string;
  type: TextChunkType;
  /** iTXt only. */
  languageTag?: string;
  /** iTXt only. */
  translatedKeyword?: string;
}

interface Chunk {
  type: string;
  data: Uint8Array;
  /** Offset of the chunk's length field in the file. */
  start: number;
  /** Offset just past its CRC. */
  end: number;
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: true });

function u32(b: Uint8Array, at: number): number {
  return new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0);
}

/** Walks the chunks, checking the signature, lengths and CRCs; stops after IEND. */
function chunks(png: Uint8Array): Chunk[] {
  if (png.length < 8 || SIGNATURE.some((v, i) => png[i] !== v)) {
    throw new PngError("not a PNG file (bad signature)");
  }
  const out: Chunk[] = [];
  let at = 8;
  while (at < png.length) {
    if (at + 12 > png.length) throw new PngError(`PNG truncated: chunk header at byte ${at} is incomplete`);
    const length = u32(png, at);
    const type = latin1.decode(png.subarray(at + 4, at + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) throw new PngError(`PNG corrupt: bad chunk type at byte ${at}`);
    const end = at + 12 + length;
    if (end > png.length) throw new PngError(`PNG truncated: ${type} chunk at byte ${at} runs past the end`);
    const crc = u32(png, end - 4);
    if (crc32(png.subarray(at + 4, end - 4)) !== crc) {
      throw new PngError(`PNG corrupt: CRC mismatch in ${type} chunk`);
    }
    out.push({ type, data: png.subarray(at + 8, end - 4), start: at, end });
    at = end;
    if (type === "IEND") break;
  }
  if (out[0]?.type !== "IHDR") throw new PngError("PNG corrupt: first chunk is not IHDR");
  if (out[out.length - 1].type !== "IEND") throw new PngError("PNG truncated: no IEND chunk");
  return out;
}

function nul(data: Uint8Array, from: number, what: string): number {
  const i = data.indexOf(0, from);
  if (i < 0) throw new PngError(`PNG corrupt: ${what} is not NUL-terminated`);
  return i;
}

// Deflate expands at most ~1032:1, so feeding this much compressed input at a time bounds each step's output
// to about 1 MB: a bomb is stopped just past the cap instead of after inflating all of it.
const INFLATE_STEP = 1024;

/** zlib-inflates `data`, refusing (PngTextLimitError) output over `cap` bytes before it is produced. */
function inflate(data: Uint8Array, what: string, cap: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  const z = new Unzlib((chunk) => {
    total += chunk.length;
    if (total <= cap) parts.push(chunk);
  });
  try {
    for (let at = 0; at < data.length || at === 0; at += INFLATE_STEP) {
      const end = Math.min(at + INFLATE_STEP, data.length);
      z.push(data.subarray(at, end), end === data.length);
      if (total > cap) break;
    }
  } catch (e) {
    throw new PngError(`PNG corrupt: ${what} does not decompress (${(e as Error).message})`);
  }
  if (total > cap) {
    // A cap below the per-chunk one is what is left of the file's total.
    throw new PngTextLimitError(
      cap < MAX_TEXT_CHUNK
        ? `PNG text chunks hold more than ${MAX_TEXT_TOTAL} bytes of text (at ${what}); refused`
        : `PNG ${what} inflates to more than ${cap} bytes of text; refused (limit ${MAX_TEXT_CHUNK} per chunk)`,
    );
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) out.set(p, (off += p.length) - p.length);
  return out;
}

function keywordOf(c: Chunk): string {
  return latin1.decode(c.data.subarray(0, nul(c.data, 0, `${c.type} keyword`)));
}

/** Decodes a text chunk; compressed text may inflate to at most `budget` bytes (and MAX_TEXT_CHUNK). */
function parseText(c: Chunk, budget = MAX_TEXT_TOTAL): PngText {
  const d = c.data;
  const keyword = keywordOf(c);
  const k = keyword.length;
  const cap = Math.min(MAX_TEXT_CHUNK, budget);
  if (c.type === "tEXt") return { type: "tEXt", keyword, text: latin1.decode(d.subarray(k + 1)) };
  if (c.type === "zTXt") {
    if (d[k + 1] !== 0) throw new PngError(`PNG zTXt "${keyword}": unknown compression method ${d[k + 1]}`);
    return {
      type: "zTXt",
      keyword,
      text: latin1.decode(inflate(d.subarray(k + 2), `zTXt "${keyword}"`, cap)),
    };
  }
  const compressed = d[k + 1] === 1;
  if (compressed && d[k + 2] !== 0) {
    throw new PngError(`PNG iTXt "${keyword}": unknown compression method ${d[k + 2]}`);
  }
  const l = nul(d, k + 3, "iTXt language tag");
  const t = nul(d, l + 1, "iTXt translated keyword");
  let body = d.subarray(t + 1);
  if (compressed) body = inflate(body, `iTXt "${keyword}"`, cap);
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new PngError(`PNG iTXt "${keyword}": text is not valid UTF-8`);
  }
  return {
    type: "iTXt",
    keyword,
    text,
    languageTag: latin1.decode(d.subarray(k + 3, l)),
    translatedKeyword: utf8.decode(d.subarray(l + 1, t)),
  };
}

const isText = (c: Chunk) => c.type === "tEXt" || c.type === "zTXt" || c.type === "iTXt";

/**
 * Every text chunk in file order. Throws PngError for a damaged file and PngTextLimitError when a chunk
 * would inflate past MAX_TEXT_CHUNK or all text past MAX_TEXT_TOTAL (as Pillow refuses them).
 */
export function readPngTexts(png: Uint8Array): PngText[] {
  const out: PngText[] = [];
  let left = MAX_TEXT_TOTAL;
  for (const c of chunks(png).filter(isText)) {
    const t = parseText(c, left);
    left -= t.text.length;
    if (left < 0) {
      throw new PngTextLimitError(`PNG text chunks hold more than ${MAX_TEXT_TOTAL} bytes of text; refused`);
    }
    out.push(t);
  }
  return out;
}

/** Text by keyword; when a keyword repeats, the first chunk wins (as PIL's Image.info does not guarantee). */
export function readPngTextMap(png: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (const t of readPngTexts(png)) if (!out.has(t.keyword)) out.set(t.keyword, t.text);
  return out;
}

/** A1111's generation parameters ("parameters" text), or undefined when the PNG has none. */
export function readPngParameters(png: Uint8Array): string | undefined {
  return readPngTextMap(png).get("parameters");
}

function checkKeyword(keyword: string): void {
  // PNG spec: 1–79 Latin-1 printable characters, no leading, trailing or double spaces.
  if (!/^[\x20-\x7e\xa1-\xff]{1,79}$/.test(keyword) || /^ | $| {2}/.test(keyword)) {
    throw new Error(
      `invalid PNG text keyword ${JSON.stringify(keyword)} (1-79 Latin-1 characters, no edge spaces)`,
    );
  }
}

function chunkBytes(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 12);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

function isLatin1(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return false;
  return true;
}

/**
 * The chunk for one text entry: tEXt when the text is Latin-1 (as PIL's add_text writes it), otherwise an
 * uncompressed UTF-8 iTXt; `compress` uses zTXt / compressed iTXt instead.
 */
export function textChunk(keyword: string, text: string, compress = false): Uint8Array {
  checkKeyword(keyword);
  if (text.includes("\0")) throw new Error(`PNG text "${keyword}" contains a NUL character`);
  const key = Uint8Array.from(keyword, (ch) => ch.charCodeAt(0));
  if (isLatin1(text)) {
    const body = Uint8Array.from(text, (ch) => ch.charCodeAt(0));
    if (!compress) return chunkBytes("tEXt", concat([key, [0], body]));
    return chunkBytes("zTXt", concat([key, [0, 0], zlibSync(body)]));
  }
  let body = new TextEncoder().encode(text);
  if (compress) body = zlibSync(body);
  return chunkBytes("iTXt", concat([key, [0, compress ? 1 : 0, 0, 0, 0], body]));
}

function concat(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export interface WriteTextOptions {
  /** Store compressed (zTXt / compressed iTXt). Default false, as A1111 does. */
  compress?: boolean;
}

/**
 * A copy of the PNG with these text entries set: existing text chunks with the same keywords are dropped and
 * the new ones placed right after IHDR; all other chunks (image data included) are copied unchanged.
 */
export function withPngTexts(
  png: Uint8Array,
  entries: Record<string, string> | Iterable<readonly [string, string]>,
  options: WriteTextOptions = {},
): Uint8Array {
  const list = Symbol.iterator in entries
    ? [...(entries as Iterable<readonly [string, string]>)]
    : Object.entries(entries);
  const keywords = new Set(list.map(([k]) => k));
  const fresh = list.map(([k, v]) => textChunk(k, v, options.compress));
  const all = chunks(png);
  const parts: Uint8Array[] = [png.subarray(0, 8)];
  for (const c of all) {
    // Only the keyword is read: the text itself is dropped or copied as it is, never inflated.
    if (isText(c) && keywords.has(keywordOf(c))) continue;
    parts.push(png.subarray(c.start, c.end));
    if (c.type === "IHDR") parts.push(...fresh);
  }
  return concat(parts);
}

/** Writes bytes through a temporary file in the same folder and a rename, so `path` is never half-written. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${crypto.randomUUID()}.tmp`);
  try {
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

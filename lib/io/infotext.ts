// AUTOMATIC1111's "infotext": the generation parameters stored in a PNG's "parameters" text and shown under
// each image. Format (modules/processing.py create_infotext):
//   <prompt, possibly several lines>
//   Negative prompt: <negative prompt, possibly several lines>      (omitted when empty)
//   Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512, Model hash: …, Model: …, <extensions…>
// A value containing a comma, colon or newline is written as a JSON string; a value equal to its key is
// written as the bare key. The parser follows modules/infotext_utils.py parse_generation_parameters.

/** A field value before formatting: strings as they are, numbers and booleans as Python would print them. */
export type ParamValue = string | number | boolean | null | undefined;

export interface Infotext {
  prompt: string;
  negativePrompt: string;
  /** The last line's fields in order; values unquoted, Size kept whole ("512x512"). */
  params: [string, string][];
}

/** The keys the aesthetic-gradients extension adds, in its order. */
export const AESTHETIC_KEYS = [
  "Aesthetic LR",
  "Aesthetic weight",
  "Aesthetic steps",
  "Aesthetic embedding",
  "Aesthetic slerp",
  "Aesthetic text",
  "Aesthetic text negative",
  "Aesthetic slerp angle",
] as const;

export interface AestheticSettings {
  lr: number;
  weight: number;
  steps: number;
  embedding: string;
  slerp: boolean;
  text: string;
  textNegative: boolean;
  slerpAngle: number;
}

/** Python's repr of a float: shortest round-trip digits, ".0" on whole numbers, exponent outside 1e-4..1e16. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= 16) {
    const [mant, e] = x.toExponential().split("e");
    const n = Number(e);
    return `${mant}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  }
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** The extension's infotext fields, formatted as its Python values print (floats, int steps, True/False). */
export function aestheticParams(a: AestheticSettings): [string, string][] {
  const py = (b: boolean) => (b ? "True" : "False");
  return [
    ["Aesthetic LR", pythonFloat(a.lr)],
    ["Aesthetic weight", pythonFloat(a.weight)],
    ["Aesthetic steps", String(Math.trunc(a.steps))],
    ["Aesthetic embedding", a.embedding],
    ["Aesthetic slerp", py(a.slerp)],
    ["Aesthetic text", a.text],
    ["Aesthetic text negative", py(a.textNegative)],
    ["Aesthetic slerp angle", pythonFloat(a.slerpAngle)],
  ];
}

/** A1111's quote(): JSON-encode (non-ASCII kept) a value holding a comma, newline or colon. */
export function quote(text: string): string {
  return /[,\n:]/.test(text) ? JSON.stringify(text) : text;
}

/** A1111's unquote(): JSON-decode a "…" value, leaving it as is when that fails. */
export function unquote(text: string): string {
  if (text.length === 0 || text[0] !== '"' || text[text.length - 1] !== '"') return text;
  try {
    const v = JSON.parse(text);
    return typeof v === "string" ? v : text;
  } catch {
    return text;
  }
}

// Python's Unicode \w spelled out for JavaScript, and the characters a key may go on with.
const W = String.raw`[\p{L}\p{M}\p{N}_]`;
const KEY = new RegExp(String.raw`^${W}[\p{L}\p{M}\p{N}_ \-/]+$`, "u");

function valueText(v: ParamValue): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === "boolean") return v ? "True" : "False";
  return String(v);
}

/** Formats an infotext; fields with null/undefined values are left out, as A1111 drops None. */
export function formatInfotext(info: {
  prompt: string;
  negativePrompt?: string;
  params: Iterable<readonly [string, ParamValue]> | Record<string, ParamValue>;
}): string {
  const entries = Symbol.iterator in info.params
    ? [...(info.params as Iterable<readonly [string, ParamValue]>)]
    : Object.entries(info.params as Record<string, ParamValue>);
  const fields: string[] = [];
  for (const [key, raw] of entries) {
    const v = valueText(raw);
    if (v === undefined) continue;
    if (!KEY.test(key) || key.endsWith(" ")) {
      throw new Error(
        `infotext key ${JSON.stringify(key)} cannot be parsed back (letters, digits, space, - and /)`,
      );
    }
    // Beyond A1111's quote(): a value that itself starts with a quote is quoted too, or reading it back
    // would strip its quotes.
    fields.push(key === v ? key : `${key}: ${v.startsWith('"') ? JSON.stringify(v) : quote(v)}`);
  }
  const negative = info.negativePrompt ? `\nNegative prompt: ${info.negativePrompt}` : "";
  return `${info.prompt}${negative}\n${fields.join(", ")}`.trim();
}

const WORD_CHAR = new RegExp(`^${W}$`, "u");
const KEY_CHAR = /^[\p{L}\p{M}\p{N}_ \-/]$/u;
const SPACE = /^\s$/u;
// ASCII answers from a table; other code points ask the regexes (the same sets).
const ASCII_WORD = 1, ASCII_KEY = 2, ASCII_SPACE = 4;
const ASCII = Uint8Array.from({ length: 128 }, (_, c) => {
  const ch = String.fromCharCode(c);
  return (WORD_CHAR.test(ch) ? ASCII_WORD : 0) | (KEY_CHAR.test(ch) ? ASCII_KEY : 0) |
    (SPACE.test(ch) ? ASCII_SPACE : 0);
});

/** Width in UTF-16 units of the code point at `i` (2 for a surrogate pair). */
function width(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c >= 0xd800 && c < 0xdc00 && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
}

function is(s: string, i: number, flag: number, re: RegExp): boolean {
  const c = s.charCodeAt(i);
  return c < 128 ? (ASCII[c] & flag) !== 0 : re.test(s.slice(i, i + width(s, i)));
}

function skipSpace(s: string, i: number): number {
  while (i < s.length && is(s, i, ASCII_SPACE, SPACE)) i++; // every \s character is one UTF-16 unit
  return i;
}

/** What `.` does not match: line terminators. */
function isLineEnd(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

/** Index past the closing quote of `"(?:\\.|[^\\"])+"` starting at `i`, or -1 when there is none. */
function quotedEnd(s: string, i: number): number {
  if (s.charCodeAt(i) !== 34) return -1;
  for (let j = i + 1; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === 34) return j > i + 1 ? j + 1 : -1;
    if (c === 92) {
      if (j + 1 >= s.length || isLineEnd(s.charCodeAt(j + 1))) return -1;
      j++;
    }
  }
  return -1;
}

/**
 * The fields of a line as re_param of infotext_utils.py finds them with re.finditer,
 *   \s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)
 * in one linear pass. The regex retries from every position of a long run of key characters that no ":"
 * ends, which is quadratic (150 KB of text took 29 s); every start inside such a run fails for the same
 * reason, so the scanner skips the run whole.
 */
export function findParams(line: string): [string, string][] {
  const out: [string, string][] = [];
  const n = line.length;
  let p = 0;
  while (p < n) {
    const q = skipSpace(line, p);
    if (q >= n) break;
    const first = width(line, q);
    if (!is(line, q, ASCII_WORD, WORD_CHAR)) {
      p = q + first;
      continue;
    }
    let r = q + first;
    while (r < n && is(line, r, ASCII_KEY, KEY_CHAR)) r += width(line, r);
    if (r === q + first || line.charCodeAt(r) !== 58) {
      p = r;
      continue;
    }
    // From here the match cannot fail: a quoted value followed by "," or the end, else text up to ",".
    const v = skipSpace(line, r + 1);
    const qe = quotedEnd(line, v);
    const end = qe >= 0 && (qe === n || line.charCodeAt(qe) === 44) ? qe : line.indexOf(",", v);
    const valueEnd = end < 0 ? n : end;
    out.push([line.slice(q, r), line.slice(v, valueEnd)]);
    p = valueEnd + 1;
  }
  return out;
}

/** Splits an infotext into prompt, negative prompt and the ordered fields of its last line. */
export function parseInfotext(text: string): Infotext {
  const lines = text.trim().split("\n");
  const last = lines.pop() ?? "";
  let fields = findParams(last);
  // The last line holds the fields only if at least three parse; otherwise it is still prompt text.
  if (fields.length < 3) {
    lines.push(last);
    fields = [];
  }
  let prompt = "";
  let negativePrompt = "";
  let inNegative = false;
  for (let line of lines) {
    line = line.trim();
    if (line.startsWith("Negative prompt:")) {
      inNegative = true;
      line = line.slice(16).trim();
    }
    if (inNegative) negativePrompt += (negativePrompt === "" ? "" : "\n") + line;
    else prompt += (prompt === "" ? "" : "\n") + line;
  }
  const params: [string, string][] = [];
  for (const [k, v] of fields) {
    // A1111 indexes v[0], which fails on an empty value and drops the field.
    if (v.length === 0) continue;
    params.push([k, v[0] === '"' && v[v.length - 1] === '"' ? unquote(v) : v]);
  }
  return { prompt, negativePrompt, params };
}

/**
 * The dictionary A1111's parse_generation_parameters returns: "Prompt", "Negative prompt", each field (a
 * WxH value split into "<key>-1" and "<key>-2"), and the defaults it fills in for missing fields. Leaves out
 * what depends on a running WebUI (prompt styles, infotext_skip_pasting, version back-compat).
 */
export function parseGenerationParameters(text: string): Record<string, string | number | boolean> {
  const info = parseInfotext(text);
  const res: Record<string, string | number | boolean> = {
    "Prompt": info.prompt,
    "Negative prompt": info.negativePrompt,
  };
  for (const [k, v] of info.params) {
    const size = /^(\d+)x(\d+)$/.exec(v);
    if (size) {
      res[`${k}-1`] = size[1];
      res[`${k}-2`] = size[2];
    } else {
      res[k] = v;
    }
  }
  const fill = (k: string, v: string | number | boolean) => {
    if (!(k in res)) res[k] = v;
  };
  fill("Clip skip", "1");
  if ("Hypernet" in res) {
    res["Prompt"] += `<hypernet:${res["Hypernet"]}:${res["Hypernet strength"] ?? "1.0"}>`;
  }
  if (!("Hires resize-1" in res)) {
    res["Hires resize-1"] = 0;
    res["Hires resize-2"] = 0;
  }
  fill("Hires sampler", "Use same sampler");
  fill("Hires checkpoint", "Use same checkpoint");
  fill("Hires prompt", "");
  fill("Hires negative prompt", "");
  fill("Mask mode", "Inpaint masked");
  fill("Masked content", "original");
  fill("Inpaint area", "Whole picture");
  fill("Masked area padding", 32);
  restoreOldHiresFix(res);
  fill("RNG", "GPU");
  fill("Schedule type", "Automatic");
  fill("Schedule max sigma", 0);
  fill("Schedule min sigma", 0);
  fill("Schedule rho", 0);
  fill("VAE Encoder", "Full");
  fill("VAE Decoder", "Full");
  fill("FP8 weight", "Disable");
  if (res["FP8 weight"] !== "Disable") fill("Cache FP16 weight for LoRA", false);
  return res;
}

/** Old hires-fix infotexts give "First pass size": turn it into size + hires resize, as A1111 does. */
function restoreOldHiresFix(res: Record<string, string | number | boolean>): void {
  const fw = res["First pass size-1"];
  const fh = res["First pass size-2"];
  if (fw === undefined || fh === undefined) return;
  let w = Number(fw);
  let h = Number(fh);
  const width = Number(res["Size-1"] ?? 512);
  const height = Number(res["Size-2"] ?? 512);
  if (w === 0 || h === 0) {
    const scale = Math.sqrt((512 * 512) / (width * height));
    w = Math.ceil((scale * width) / 64) * 64;
    h = Math.ceil((scale * height) / 64) * 64;
  }
  res["Size-1"] = w;
  res["Size-2"] = h;
  res["Hires resize-1"] = width;
  res["Hires resize-2"] = height;
}

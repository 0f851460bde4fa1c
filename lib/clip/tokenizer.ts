// CLIP's byte-level BPE tokenizer, read from a model's own vocab.json/merges.txt, giving the ids of transformers'
// slow CLIPTokenizer (the one diffusers and A1111 use): ftfy.fix_text, whitespace cleanup, lowercasing, CLIP's
// pre-tokenizer regex, BPE with "</w>" word ends, and the added/special tokens of the tokenizer config split out
// first (SD 2.x declares its pad token "!" that way, so "!" is never merged with its neighbours there).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { decodeHTML, decodeHTMLStrict } from "entities";

/** The context length CLIP text encoders were trained with. */
export const CLIP_MAX_LENGTH = 77;

// Python's `regex` module's \s (Unicode White_Space). JavaScript's \s differs (it has U+FEFF, lacks U+0085).
const WS = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const WS_RUN = new RegExp(`[${WS}]+`, "gu");
const WS_EDGES = new RegExp(`^[${WS}]+|[${WS}]+$`, "gu");
// Python's str.strip()/isspace() set, which added tokens' lstrip/rstrip use (it has U+001C..U+001F).
// deno-lint-ignore no-control-regex -- matching Python's set exactly
const PY_STRIP_LEFT = /^[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;
// deno-lint-ignore no-control-regex -- matching Python's set exactly
const PY_STRIP_RIGHT = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/u;
const PRE_TOKENIZE = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${WS}\\p{L}\\p{N}]+`,
  "giu",
);
// CLIP keeps only the first 49152 - 256 - 2 merges of its BPE file (the rest never made it into the vocabulary).
const MERGE_COUNT = 49152 - 256 - 2;

// ------------------------------------------------------------------------------------------------- ftfy subset

// The parts of ftfy.fix_text (6.x, default config) that can change a typed or pasted prompt. Not done: ftfy's
// mojibake repair (re-decoding text that looks like UTF-8 read as Latin-1/Windows-1252), a heuristic driven by a
// large statistical "badness" table; prompts written by people practically never contain it.

const HTML_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;
const SINGLE_QUOTES = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTES = /[\u201c-\u201f]/g;
// deno-lint-ignore no-control-regex -- these fixes are about control characters
const ANSI_ESCAPE = /\x1b\[((?:\d|;)*)([a-zA-Z])/g;
// deno-lint-ignore no-control-regex -- these fixes are about control characters
const CONTROL_CHARS = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
const C1_CONTROLS = /[\x80-\x9f]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Windows-1252's characters at 0x80..0x9f; bytes it leaves undefined keep their Latin-1 meaning ("sloppy" codec).
const CP1252_C1 = "€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ";
const LIGATURES: Record<string, string> = {
  "Ĳ": "IJ",
  "ĳ": "ij",
  "ŉ": "ʼn",
  "Ǳ": "DZ",
  "ǲ": "Dz",
  "ǳ": "dz",
  "Ǆ": "DŽ",
  "ǅ": "Dž",
  "ǆ": "dž",
  "Ǉ": "LJ",
  "ǈ": "Lj",
  "ǉ": "lj",
  "Ǌ": "NJ",
  "ǋ": "Nj",
  "ǌ": "nj",
  "ﬀ": "ff",
  "ﬁ": "fi",
  "ﬂ": "fl",
  "ﬃ": "ffi",
  "ﬄ": "ffl",
  "ﬅ": "ſt",
  "ﬆ": "st",
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join("")}]`, "g");
// Halfwidth/fullwidth forms (U+FF01..U+FFEF) become their NFKC form; the ideographic space becomes a space.
const WIDTH_FORMS = /[\u3000\uff01-\uffef]/g;

// Python's html.unescape for "&#...;": its replacements for invalid references, then ftfy's rule that a
// reference only partly decoded is left as written.
const NONCHAR = (cp: number) => (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
function numericReference(ref: string): string {
  const m = /^&#(?:([0-9]+)|[xX]([0-9a-fA-F]+));$/.exec(ref);
  if (!m) return ref;
  const cp = m[1] !== undefined ? Number(m[1]) : parseInt(m[2], 16);
  if (cp === 0) return "\ufffd";
  if (cp === 0x0d) return "\r";
  if (cp >= 0x80 && cp <= 0x9f) return CP1252_C1[cp - 0x80];
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || !Number.isFinite(cp)) return "\ufffd";
  if ((cp >= 0x1 && cp <= 0x8) || cp === 0xb || (cp >= 0xe && cp <= 0x1f) || cp === 0x7f || NONCHAR(cp)) {
    return "";
  }
  return String.fromCodePoint(cp);
}

function unescapeEntity(ref: string): string {
  if (ref.startsWith("&#")) return numericReference(ref);
  const strict = decodeHTMLStrict(ref);
  if (strict !== ref) return strict;
  // ftfy also reads all-caps spellings of lowercase entity names (P&EACUTE;REZ) unless that spelling means
  // something else to html.unescape.
  const lower = ref.toLowerCase();
  if (ref === lower.toUpperCase() && decodeHTML(ref) === ref) {
    const char = decodeHTMLStrict(lower);
    if (char !== lower) return char.toUpperCase();
  }
  return ref;
}

function fixOnce(text: string, unescapeHtml: boolean): string {
  if (unescapeHtml) text = text.replace(HTML_ENTITY, unescapeEntity);
  text = text.replace(C1_CONTROLS, (c) => CP1252_C1[c.charCodeAt(0) - 0x80]);
  text = text.replace(LIGATURE_RE, (c) => LIGATURES[c]);
  text = text.replace(WIDTH_FORMS, (c) => (c === "\u3000" ? " " : c.normalize("NFKC")));
  text = text.replace(DOUBLE_QUOTES, '"').replace(SINGLE_QUOTES, "'");
  text = text.replace(/\r\n|[\r\u2028\u2029\u0085]/g, "\n");
  text = text.replace(LONE_SURROGATE, "\ufffd");
  text = text.replace(ANSI_ESCAPE, "").replace(CONTROL_CHARS, "");
  return text.normalize("NFC");
}

/** ftfy.fix_text with its default settings, minus mojibake repair (see above). */
export function fixText(text: string): string {
  let out = "";
  let unescapeHtml = true;
  // ftfy fixes line by line; a line containing "<" looks like HTML and turns entity decoding off from there on.
  for (const line of text.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
    if (line.includes("<")) unescapeHtml = false;
    let fixed = line;
    for (let prev = ""; prev !== fixed;) [prev, fixed] = [fixed, fixOnce(fixed, unescapeHtml)];
    out += fixed;
  }
  return out;
}

/** What CLIPTokenizer feeds its pre-tokenizer: fixed text, whitespace runs collapsed and trimmed, lowercase. */
export function normalizeText(text: string): string {
  return fixText(text).replace(WS_RUN, " ").replace(WS_EDGES, "").toLowerCase();
}

// ------------------------------------------------------------------------------------------------- tokenizer

// GPT-2/CLIP's reversible map from bytes to printable characters, so BPE never sees spaces or control bytes.
const BYTE_CHARS: string[] = (() => {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const chars: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) chars[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  return chars;
})();

interface AddedToken {
  id: number;
  lstrip: boolean;
  rstrip: boolean;
}

type TokenSpec = string | { content: string; lstrip?: boolean; rstrip?: boolean };

interface TokenizerConfig {
  bos_token?: TokenSpec;
  eos_token?: TokenSpec;
  unk_token?: TokenSpec;
  pad_token?: TokenSpec | null;
  model_max_length?: number;
  added_tokens_decoder?: Record<string, { content: string; lstrip?: boolean; rstrip?: boolean }>;
}

/** The parts of a "fast" tokenizer.json this reads. */
interface FastTokenizerJson {
  model?: { type?: string; vocab?: Record<string, number>; merges?: (string | [string, string])[] };
  added_tokens?: { id: number; content: string; lstrip?: boolean; rstrip?: boolean }[];
}

/** The files of one tokenizer, already read. */
export interface ClipTokenizerFiles {
  /** vocab.json: token → id. */
  vocab: Record<string, number>;
  /** merges.txt, whole. */
  merges: string;
  /** tokenizer_config.json, if any. */
  config?: TokenizerConfig;
  /** special_tokens_map.json, if any (used where the config is silent). */
  specialTokensMap?: TokenizerConfig;
}

const encoder = new TextEncoder();

export class ClipTokenizer {
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly unkId: number;
  /** Sequence length of the text encoder (77 for every Stable Diffusion CLIP). */
  readonly maxLength: number;
  private readonly vocab: Map<string, number>;
  private readonly ranks = new Map<string, number>();
  private readonly added = new Map<string, AddedToken>();
  private readonly addedByLength: string[];
  private readonly cache = new Map<string, string[]>();

  constructor(files: ClipTokenizerFiles) {
    this.vocab = new Map(Object.entries(files.vocab));
    const lines = files.merges.trim().split("\n").slice(1, MERGE_COUNT + 1);
    lines.forEach((line, rank) => this.ranks.set(line.trim().split(/\s+/).join(" "), rank));

    const cfg = files.config ?? {};
    const map = files.specialTokensMap ?? {};
    const spec = (key: "bos_token" | "eos_token" | "unk_token" | "pad_token", fallback: string): TokenSpec =>
      cfg[key] ?? map[key] ?? fallback;
    const idOf = (s: TokenSpec, what: string): number => {
      const content = typeof s === "string" ? s : s.content;
      const id = this.vocab.get(content) ?? this.addedId(cfg, content);
      if (id === undefined) {
        throw new Error(`tokenizer: ${what} ${JSON.stringify(content)} is not in the vocabulary`);
      }
      this.addToken(content, id, s);
      return id;
    };
    this.unkId = idOf(spec("unk_token", "<|endoftext|>"), "unk_token");
    this.bosId = idOf(spec("bos_token", "<|startoftext|>"), "bos_token");
    this.eosId = idOf(spec("eos_token", "<|endoftext|>"), "eos_token");
    this.padId = idOf(spec("pad_token", "<|endoftext|>") ?? "<|endoftext|>", "pad_token");
    for (const [id, tok] of Object.entries(cfg.added_tokens_decoder ?? {})) {
      this.addToken(tok.content, Number(id), tok);
    }
    this.addedByLength = [...this.added.keys()].sort((a, b) => b.length - a.length);
    this.maxLength = cfg.model_max_length && cfg.model_max_length < 1e6
      ? cfg.model_max_length
      : CLIP_MAX_LENGTH;
  }

  /** Reads a tokenizer from a folder holding vocab.json and merges.txt (or only a tokenizer.json, as some
   * transformers.js folders have), or from a diffusers model folder whose tokenizer/ subfolder holds them. */
  static async load(dir: string): Promise<ClipTokenizer> {
    const own = ["vocab.json", "tokenizer.json"].some((f) => existsSync(join(dir, f)));
    const root = own ? dir : join(dir, "tokenizer");
    const read = async (name: string) => {
      try {
        return await Deno.readTextFile(join(root, name));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return undefined;
        throw e;
      }
    };
    const parse = <T>(text: string | undefined, name: string): T | undefined => {
      if (text === undefined) return undefined;
      try {
        return JSON.parse(text) as T;
      } catch (e) {
        throw new Error(`tokenizer: ${join(root, name)} is not valid JSON: ${(e as Error).message}`);
      }
    };
    const [vocabText, merges, config, specialTokensMap] = await Promise.all(
      ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"].map(read),
    );
    const files = {
      config: parse<TokenizerConfig>(config, "tokenizer_config.json"),
      specialTokensMap: parse<TokenizerConfig>(specialTokensMap, "special_tokens_map.json"),
    };
    if (vocabText !== undefined && merges !== undefined) {
      return new ClipTokenizer({
        vocab: parse<Record<string, number>>(vocabText, "vocab.json")!,
        merges,
        ...files,
      });
    }
    const fast = parse<FastTokenizerJson>(await read("tokenizer.json"), "tokenizer.json");
    if (fast?.model?.type !== "BPE" || !fast.model.vocab || !Array.isArray(fast.model.merges)) {
      throw new Error(
        `tokenizer: no vocab.json and merges.txt (nor a BPE tokenizer.json) in ${dir} or ${root}`,
      );
    }
    // tokenizer.json holds the same vocabulary and merges; merges.txt has a header line the parser skips.
    const lines = fast.model.merges.map((m) => (Array.isArray(m) ? m.join(" ") : m));
    const added = Object.fromEntries((fast.added_tokens ?? []).map((t) => [String(t.id), t]));
    const cfg = {
      ...files.config,
      added_tokens_decoder: { ...added, ...files.config?.added_tokens_decoder },
    };
    return new ClipTokenizer({
      vocab: fast.model.vocab,
      merges: ["#", ...lines].join("\n"),
      ...files,
      config: cfg,
    });
  }

  /** The id of a vocabulary entry, e.g. ",</w>" for A1111's comma. */
  tokenId(token: string): number | undefined {
    return this.vocab.get(token) ?? this.added.get(token)?.id;
  }

  /** Token ids of a text without BOS/EOS and without truncation. */
  tokenize(text: string): number[] {
    const ids: number[] = [];
    for (const piece of this.splitAdded(text)) {
      if (typeof piece === "number") ids.push(piece);
      else for (const token of this.bpeTokens(piece)) ids.push(this.vocab.get(token) ?? this.unkId);
    }
    return ids;
  }

  /** BOS + ids + EOS, untruncated. */
  encode(text: string): number[] {
    return [this.bosId, ...this.tokenize(text), this.eosId];
  }

  /** BOS + ids + EOS truncated and padded to maxLength, as the pipelines feed the text encoder. */
  encodePadded(text: string): Int32Array {
    const out = new Int32Array(this.maxLength).fill(this.padId);
    const ids = this.tokenize(text).slice(0, this.maxLength - 2);
    out[0] = this.bosId;
    out.set(ids, 1);
    out[ids.length + 1] = this.eosId;
    return out;
  }

  private addedId(cfg: TokenizerConfig, content: string): number | undefined {
    const hit = Object.entries(cfg.added_tokens_decoder ?? {}).find(([, t]) => t.content === content);
    return hit ? Number(hit[0]) : undefined;
  }

  private addToken(content: string, id: number, spec: TokenSpec): void {
    if (!Number.isInteger(id)) throw new Error(`tokenizer: added token ${JSON.stringify(content)} has no id`);
    const flags: { lstrip?: boolean; rstrip?: boolean } = typeof spec === "string" ? {} : spec;
    this.added.set(content, { id, lstrip: flags.lstrip ?? false, rstrip: flags.rstrip ?? false });
  }

  /** Splits out added tokens (leftmost, longest first) before any normalization, as transformers does. */
  private splitAdded(text: string): (string | number)[] {
    const parts: (string | number)[] = [];
    let start = 0;
    let i = 0;
    let stripNext = false;
    while (i < text.length) {
      const hit = this.addedByLength.find((t) => t.length > 0 && text.startsWith(t, i));
      if (hit === undefined) {
        i++;
        continue;
      }
      const tok = this.added.get(hit)!;
      let before = text.slice(start, i);
      if (stripNext) before = before.replace(PY_STRIP_LEFT, "");
      if (tok.lstrip) before = before.replace(PY_STRIP_RIGHT, "");
      if (before) parts.push(before);
      parts.push(tok.id);
      stripNext = tok.rstrip;
      i += hit.length;
      start = i;
    }
    let rest = text.slice(start);
    if (stripNext) rest = rest.replace(PY_STRIP_LEFT, "");
    if (rest) parts.push(rest);
    return parts;
  }

  private bpeTokens(text: string): string[] {
    const out: string[] = [];
    for (const [word] of normalizeText(text).matchAll(PRE_TOKENIZE)) {
      if (word === "<|startoftext|>" || word === "<|endoftext|>") {
        out.push(word);
        continue;
      }
      let chars = "";
      for (const b of encoder.encode(word)) chars += BYTE_CHARS[b];
      out.push(...this.bpe(chars));
    }
    return out;
  }

  private bpe(token: string): string[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const word = [...token];
    word[word.length - 1] += "</w>";
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i + 1 < word.length; i++) {
        const rank = this.ranks.get(word[i] + " " + word[i + 1]);
        if (rank !== undefined && rank < bestRank) [best, bestRank] = [i, rank];
      }
      if (best < 0) break;
      const [first, second] = [word[best], word[best + 1]];
      // Merge every occurrence of the best pair, left to right.
      for (let i = 0; i + 1 < word.length; i++) {
        if (word[i] === first && word[i + 1] === second) word.splice(i, 2, first + second);
      }
    }
    if (this.cache.size < 100_000) this.cache.set(token, word);
    return word;
  }
}

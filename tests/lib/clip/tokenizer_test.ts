import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { join } from "node:path";
import { ClipTokenizer, fixText, normalizeText } from "../../../lib/clip/tokenizer.ts";
import { MODELS, refs } from "../../fixtures.ts";

interface TokenizerCase {
  name: string;
  prompt: string;
  ids_sd1: number[];
  ids77_sd1: number[];
  ids_sd2: number[];
  ids77_sd2: number[];
}

const cases = refs().tokenizer as TokenizerCase[];
const sd1 = await ClipTokenizer.load(join(MODELS, "tiny-sd1"));
const sd2 = await ClipTokenizer.load(join(MODELS, "tiny-sd2", "tokenizer"));

for (const [label, tok, key] of [["sd1", sd1, "sd1"], ["sd2", sd2, "sd2"]] as const) {
  Deno.test(`tokenizer ${label}: every reference prompt gives transformers' ids`, () => {
    for (const c of cases) {
      assertEquals(tok.encode(c.prompt), c[`ids_${key}`], `${c.name} full`);
      assertEquals([...tok.encodePadded(c.prompt)], c[`ids77_${key}`], `${c.name} padded to 77`);
    }
  });
}

Deno.test("tokenizer: the reference set covers truncation and both pad tokens", () => {
  assertEquals(sd1.padId, 49407);
  assertEquals(sd2.padId, 0);
  assertEquals([sd1.bosId, sd1.eosId, sd1.maxLength], [49406, 49407, 77]);
  const long = cases.find((c) => c.name === "long")!;
  assertEquals(long.ids_sd1.length > 77, true);
  assertEquals(sd1.encodePadded(long.prompt).at(-1), 49407);
});

Deno.test("tokenizer: transformers.js folder layout loads the same tokenizer", async () => {
  const clip1 = await ClipTokenizer.load(join(MODELS, "tiny-sd1-clip"));
  const clip2 = await ClipTokenizer.load(join(MODELS, "tiny-sd2-clip"));
  for (const c of cases) assertEquals(clip1.encode(c.prompt), c.ids_sd1, c.name);
  assertEquals(clip2.padId, sd2.padId);
});

Deno.test("tokenizer: a folder with only tokenizer.json gives the same ids", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const f of ["tokenizer.json", "tokenizer_config.json"]) {
      await Deno.copyFile(join(MODELS, "tiny-sd2-clip", f), join(dir, f));
    }
    const fast = await ClipTokenizer.load(dir);
    for (const c of cases) assertEquals([...fast.encodePadded(c.prompt)], c.ids77_sd2, c.name);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tokenizer: A1111's comma token and added tokens typed in the prompt", () => {
  assertEquals(sd1.tokenId(",</w>"), 267);
  assertEquals(sd1.tokenize("a <|endoftext|> b"), [sd1.tokenId("a</w>"), 49407, sd1.tokenId("b</w>")]);
  // SD 2.x's pad "!" is an added token: split out before BPE, so "!!" is two ids 0.
  assertEquals(sd2.tokenize("hi!!"), [sd2.tokenId("hi</w>"), 0, 0]);
  assertEquals(sd1.tokenize("hi!!"), sd1.tokenize("hi !!"));
});

Deno.test("fixText: the ftfy fixes a prompt can need", () => {
  assertEquals(fixText("\u201chere\u2019s\u201d"), `"here's"`);
  assertEquals(fixText("ﬂuﬃeﬆ"), "fluffiest");
  assertEquals(fixText("ＬＯＵＤ\u3000ＮＯＩＳＥＳ"), "LOUD NOISES");
  assertEquals(fixText("Ｕﾀｰﾝ"), "Uターン");
  assertEquals(
    fixText("fish &amp; chips &#x2019; &#8364; P&EACUTE;REZ &nTILDE; &bogus;"),
    "fish & chips ' € PÉREZ &nTILDE; &bogus;",
  );
  assertEquals(fixText("<b>&amp;</b>\n&amp;"), "<b>&amp;</b>\n&amp;");
  assertEquals(fixText("&amp;\n<i>&amp;"), "&\n<i>&amp;");
  assertEquals(fixText("\x1b[36mblue\x1b[0m\x00\ufeff"), "blue");
  assertEquals(fixText("a\r\nb\rc\u2028d"), "a\nb\nc\nd");
  assertEquals(fixText("\x93quoted\x94 \x80"), `"quoted" €`);
  assertEquals(fixText("e\u0301"), "é");
  assertEquals(fixText("\ud800x"), "\ufffdx");
});

Deno.test("normalizeText: collapses Unicode whitespace, trims and lowercases", () => {
  assertEquals(normalizeText("  MiXeD\u00a0\u3000CaSe\u2029\n "), "mixed case");
  // ftfy reads a stray U+0085 as Windows-1252's ellipsis before it could count as a line break.
  assertEquals(normalizeText("a\u0085b"), "a…b");
});

Deno.test("ClipTokenizer.load: a folder without vocab says so", async () => {
  let message = "";
  try {
    await ClipTokenizer.load(MODELS);
  } catch (e) {
    message = (e as Error).message;
  }
  assertEquals(message.includes("no vocab.json and merges.txt (nor a BPE tokenizer.json)"), true);
  throws(() => new ClipTokenizer({ vocab: {}, merges: "#version\n" }), /not in the vocabulary/);
});

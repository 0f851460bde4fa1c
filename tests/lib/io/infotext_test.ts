// A1111 infotext: formatting as create_infotext does, parsing as parse_generation_parameters does.
import {
  AESTHETIC_KEYS,
  aestheticParams,
  findParams,
  formatInfotext,
  parseGenerationParameters,
  parseInfotext,
  pythonFloat,
  quote,
  unquote,
} from "../../../lib/io/infotext.ts";
import { readPngParameters, withPngTexts } from "../../../lib/io/png.ts";
import { FIXTURES } from "../../fixtures.ts";
import { seededRandom } from "../../seeded_random.ts";
import { join } from "node:path";

function assertEqual(actual: unknown, expected: unknown, what: string) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}:\n  got      ${a}\n  expected ${e}`);
}

const aesthetic = aestheticParams({
  lr: 0.0001,
  weight: 0.9,
  steps: 15,
  embedding: "laion_7plus",
  slerp: false,
  text: "a painting, by: someone",
  textNegative: false,
  slerpAngle: 0.1,
});

Deno.test("parses A1111's own example the way parse_generation_parameters does", () => {
  const text = "girl with an artist's beret, determined, blue eyes, desert scene, ((eyeshadow)), detailed\n" +
    "Negative prompt: ugly, fat, (((deformed))), [blurry], bad anatomy\n" +
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b";
  const res = parseGenerationParameters(text);
  assertEqual(
    [
      res.Prompt,
      res["Negative prompt"],
      res.Steps,
      res.Sampler,
      res["CFG scale"],
      res.Seed,
      res["Size-1"],
      res["Size-2"],
    ],
    [
      "girl with an artist's beret, determined, blue eyes, desert scene, ((eyeshadow)), detailed",
      "ugly, fat, (((deformed))), [blurry], bad anatomy",
      "20",
      "Euler a",
      "7",
      "965400086",
      "512",
      "512",
    ],
    "fields",
  );
  assertEqual([res["Model hash"], res["Clip skip"], res["Hires resize-1"], res.RNG], [
    "45dee52b",
    "1",
    0,
    "GPU",
  ], "defaults");
  if ("Size" in res) throw new Error("Size must be split into Size-1/Size-2");
});

Deno.test("round trip field for field: multi-line prompts, quoted values, unicode, aesthetic fields", () => {
  const params: [string, string][] = [
    ["Steps", "20"],
    ["Sampler", "DPM++ 2M Karras"],
    ["CFG scale", "7.5"],
    ["Seed", "4294967295"],
    ["Size", "640x512"],
    ["Model hash", "9e3c4a5b1f"],
    ["Model", "tiny-sd1"],
    ["Lora hashes", "detail: 1a2b, style: 3c4d"],
    ["Note", "line one\nline two"],
    ["Quoted", '"already quoted"'],
    ["Émoji key", "🎨 日本語, «ok»"],
    ...aesthetic,
  ];
  const info = {
    prompt: "a (masterpiece:1.2) of a lighthouse,\nstormy sky — “quotes” 日本語",
    negativePrompt: "blurry, lowres\nwatermark: text",
    params,
  };
  const text = formatInfotext(info);
  assertEqual(parseInfotext(text), info, "round trip");
  // Values with a comma, colon or newline are JSON strings, exactly as A1111 writes them.
  if (
    !text.includes('Lora hashes: "detail: 1a2b, style: 3c4d"') ||
    !text.includes('Note: "line one\\nline two"')
  ) {
    throw new Error(text);
  }
  if (!text.includes('Aesthetic text: "a painting, by: someone", Aesthetic text negative: False')) {
    throw new Error(text);
  }
  if (!text.includes("Aesthetic LR: 0.0001, Aesthetic weight: 0.9, Aesthetic steps: 15")) {
    throw new Error(text);
  }
});

Deno.test("a PNG carrying the infotext reads back the same fields", async () => {
  const png = await Deno.readFile(join(FIXTURES, "images", "rgb.png"));
  const info = {
    prompt: "café au lait, 日本",
    negativePrompt: "",
    params: [["Steps", "30"], ["Sampler", "DDIM"], ["Seed", "7"], ...aesthetic] as [string, string][],
  };
  const reread = parseInfotext(readPngParameters(withPngTexts(png, { parameters: formatInfotext(info) }))!);
  assertEqual(reread, info, "PNG round trip");
});

Deno.test("formatting follows create_infotext: None dropped, key == value bare, no negative line when empty", () => {
  const text = formatInfotext({
    prompt: "p",
    params: {
      "Steps": 4,
      "Hires upscaler": null,
      "Face restoration": "Face restoration",
      "Tiling": true,
      "Aesthetic slerp": false,
    },
  });
  assertEqual(text, "p\nSteps: 4, Face restoration, Tiling: True, Aesthetic slerp: False", "text");
  let err = "";
  try {
    formatInfotext({ prompt: "p", params: [["bad:key", "1"]] });
  } catch (e) {
    err = (e as Error).message;
  }
  if (!/cannot be parsed back/.test(err)) throw new Error("bad key accepted");
});

Deno.test("parser edge cases as A1111: short last line is prompt, empty values drop, bad quotes stay raw", () => {
  assertEqual(parseInfotext("a prompt, with: colons, and commas").params, [], "prompt only");
  assertEqual(
    parseInfotext("a prompt, with: colons, and commas").prompt,
    "a prompt, with: colons, and commas",
    "prompt",
  );
  const p = parseInfotext('p\nSteps: 1, Sampler: x, Empty: , Seed: 2, Bad: "unterminated, Next: 3');
  assertEqual(p.params, [["Steps", "1"], ["Sampler", "x"], ["Seed", "2"], ["Bad", '"unterminated'], [
    "Next",
    "3",
  ]], "params");
  const res = parseGenerationParameters("p\nSteps: 1, Sampler: x, First pass size: 0x0, Size: 1024x1024");
  assertEqual([res["Size-1"], res["Size-2"], res["Hires resize-1"], res["Hires resize-2"]], [
    512,
    512,
    1024,
    1024,
  ], "hires");
  const hyper = parseGenerationParameters("p\nSteps: 1, Sampler: x, Hypernet: anime");
  assertEqual(hyper.Prompt, "p<hypernet:anime:1.0>", "hypernet");
});

Deno.test("quote/unquote and Python float printing match A1111's Python", () => {
  assertEqual([quote("a"), quote("a,b"), quote("日本: x")], ["a", '"a,b"', '"日本: x"'], "quote");
  assertEqual(
    [unquote('"a\\"b"'), unquote('"broken'), unquote('"\\x"')],
    ['a"b', '"broken', '"\\x"'],
    "unquote",
  );
  assertEqual([0.0001, 0.00001, 7, 0.9, 1e16, -2.5].map(pythonFloat), [
    "0.0001",
    "1e-05",
    "7.0",
    "0.9",
    "1e+16",
    "-2.5",
  ], "floats");
  assertEqual(aesthetic.map(([k]) => k), [...AESTHETIC_KEYS], "aesthetic key order");
});

// The backtracking pattern the scanner replaced (re_param of infotext_utils.py): the reference for what a
// line's fields are. Quadratic, so it only sees short lines here.
const OLD_PARAM = /\s*([\p{L}\p{M}\p{N}_][\p{L}\p{M}\p{N}_ \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)/gu;
const oldFields = (line: string) => [...line.matchAll(OLD_PARAM)].map((m) => [m[1], m[2]]);

// Characters that steer the pattern: key characters, separators, quotes, escapes, \s and line terminators
// other than \n, non-ASCII letters and marks, an astral letter, lone surrogates.
const ALPHABET = [
  "a",
  "Z",
  "_",
  "7",
  " ",
  " ",
  "-",
  "/",
  ":",
  ":",
  ",",
  ",",
  '"',
  '"',
  "\\",
  "\t",
  "\r",
  "\u00a0",
  "\u2028",
  "é",
  "e\u0301",
  "日",
  "𝒜",
  "😀",
  "\ud800",
  "\udc00",
  "x",
  "=",
  ".",
]; // deno-fmt-ignore

Deno.test("fuzz: the scanner finds the same fields as the old pattern on random and crafted lines", () => {
  const rnd = seededRandom(19);
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)];
  const keys = ["Steps", "CFG scale", "Size-1", "Model hash", "a/b c", "Aesthetic text", "日本", "𝒜x"];
  // Quoted values with commas inside, escapes of line terminators (which `.` does not match) and a trailing
  // backslash: where the quoted and the plain alternative of the pattern part ways.
  const values = ["20", "Euler a", '"a, b"', '"q\\"uote"', '"open', '""', "", " ", '"x" y', '"\\\\"', "a:b"];
  values.push('"\\\r,b"', '"\\\u2028,x"', '"a,\\', '"\\,", "', '"a\\",b"');
  for (let n = 0; n < 6000; n++) {
    let line = "";
    if (n % 2 === 0) {
      const len = Math.floor(rnd() * 60);
      for (let i = 0; i < len; i++) line += pick(ALPHABET);
    } else {
      // Well-formed and near-well-formed field lists, as infotexts are.
      const count = 1 + Math.floor(rnd() * 6);
      const parts: string[] = [];
      for (let i = 0; i < count; i++) {
        const sep = pick([": ", ":", " :", ":  "]);
        parts.push(rnd() < 0.1 ? pick(keys) : `${pick(keys)}${sep}${pick(values)}`);
      }
      line = parts.join(pick([", ", ",", " , "]));
      if (rnd() < 0.3) line = pick(ALPHABET) + line + pick(ALPHABET);
    }
    const got = findParams(line), want = oldFields(line);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      throw new Error(`case ${n}: ${JSON.stringify(line)}\n  got  ${JSON.stringify(got)}\n  want ${
        JSON.stringify(want)
      }`);
    }
  }
  const crafted = [
    'k: "\\\r,a", x: 1, y: 2',
    'k: "\\\u2029,a", x: 1',
    'k: "a\\',
    'k: "",x: 1',
    "ab\t cd: 1, ef: 2",
    "a-b: 1, -x: 2, /y: 3, _z: 4, 9a: 5",
    "𝒜b: 1, é\u0301x: 2",
    "  Steps: 20 ,Sampler: a:b,Size: 512x512",
  ];
  for (const line of crafted) assertEqual(findParams(line), oldFields(line), JSON.stringify(line));
  // Infotexts this project writes parse back the same through both.
  for (let n = 0; n < 300; n++) {
    const params: [string, string][] = [];
    for (let i = 0; i < 3 + (n % 9); i++) params.push([pick(keys), values[(n + i) % values.length] + pick(ALPHABET)]);
    const text = formatInfotext({ prompt: "p, q", negativePrompt: "n", params });
    const last = text.slice(text.lastIndexOf("\n") + 1);
    assertEqual(findParams(last), oldFields(last), `formatted ${n}`);
  }
});

Deno.test("fuzz: 1 MB hostile infotexts parse in linear time", () => {
  const MB = 1 << 20;
  const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
  const rnd = seededRandom(7);
  let noise = "";
  while (noise.length < MB) noise += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
  const inputs: Record<string, string> = {
    "one long key without a colon": fill("a"),
    "key characters and spaces": fill("ab "),
    "words split by tabs": fill("ab\t"),
    "non-ASCII key characters": fill("日本 "),
    "astral letters": fill("𝒜"),
    "an unterminated quoted value": 'Steps: 1, Sampler: x, K: "' + fill('a\\"'),
    "escapes ending in a line terminator": 'a: b, c: d, K: "' + fill("\\\\") + "\\\r",
    "many tiny fields": fill("ab: c, "),
    "many keys without values": fill("ab:, "),
    "colons only": fill(":"),
    "random noise": noise.slice(0, MB),
    "a prompt of 1 MB and fields": fill("x") + "\nSteps: 20, Sampler: Euler a, Seed: 1",
  };
  for (const [name, text] of Object.entries(inputs)) {
    // Best of three: a busy machine can stall one run, but a quadratic parse is slow every time. The old
    // pattern took 29 s for 150 KB; linear time is a few hundred ms at most for 1 MB.
    let ms = Infinity;
    for (let run = 0; run < 3 && ms > 1000; run++) {
      const t0 = performance.now();
      parseGenerationParameters(text);
      ms = Math.min(ms, performance.now() - t0);
    }
    if (ms > 1000) throw new Error(`${name}: ${ms.toFixed(0)} ms for ${text.length} characters`);
  }
});

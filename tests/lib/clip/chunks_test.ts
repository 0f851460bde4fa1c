import { deepStrictEqual as assertEquals, rejects } from "node:assert";
import { join } from "node:path";
import {
  applyEmphasis,
  CHUNK_LENGTH,
  chunkTokens,
  emptyChunk,
  encodeChunks,
  type PromptChunk,
  promptChunks,
} from "../../../lib/clip/chunks.ts";
import { ClipTokenizer } from "../../../lib/clip/tokenizer.ts";
import { assertClose, MODELS, refs } from "../../fixtures.ts";

const sd1 = await ClipTokenizer.load(join(MODELS, "tiny-sd1"));
const sd2 = await ClipTokenizer.load(join(MODELS, "tiny-sd2"));
const IDS = { bos: 100, eos: 101, pad: 101, comma: 9 };
const repeat = (v: number, n: number) => new Array<number>(n).fill(v);
/** The prompt tokens of a chunk: between BOS and the first EOS. */
const body = (c: PromptChunk) => [...c.ids.slice(1, c.ids.indexOf(IDS.eos))];

Deno.test("promptChunks: a short weighted prompt is one padded chunk (SD 1.x pads with EOS)", () => {
  const { chunks, tokenCount } = promptChunks("a (red:1.5) cat", sd1);
  const [a, red, cat] = [sd1.tokenId("a</w>")!, sd1.tokenId("red</w>")!, sd1.tokenId("cat</w>")!];
  assertEquals(chunks.length, 1);
  assertEquals([...chunks[0].ids], [49406, a, red, cat, ...repeat(49407, 73)]);
  assertEquals([...chunks[0].weights], [1, 1, 1.5, 1, ...repeat(1, 73)]);
  assertEquals(tokenCount, 3);
});

Deno.test("promptChunks: SD 2.x pads after the first EOS with its pad id 0", () => {
  const { chunks } = promptChunks("a cat", sd2);
  assertEquals([...chunks[0].ids], [
    49406,
    sd2.tokenId("a</w>")!,
    sd2.tokenId("cat</w>")!,
    49407,
    ...repeat(0, 73),
  ]);
  assertEquals([...emptyChunk({ bos: 49406, eos: 49407, pad: 0 }).ids], [49406, 49407, ...repeat(0, 75)]);
});

Deno.test("promptChunks: the empty prompt is one chunk of padding", () => {
  const { chunks, tokenCount } = promptChunks("", sd1);
  assertEquals(chunks.length, 1);
  assertEquals([...chunks[0].ids], [49406, ...repeat(49407, 76)]);
  assertEquals(tokenCount, 0);
});

Deno.test("promptChunks: the long reference prompt, with BREAK and a comma backtrack (from A1111's algorithm)", () => {
  const long = (refs().tokenizer as { name: string; prompt: string; ids_sd1: number[] }[])
    .find((c) => c.name === "long")!;
  const plain = promptChunks(long.prompt, sd1);
  // 134 tokens; the 75th is a comma, so nothing moves: 75 + 59.
  assertEquals(plain.chunks.map((c) => c.ids.indexOf(49407, 1) - 1), [75, 59]);
  assertEquals(
    plain.chunks.flatMap((c) => [...c.ids.slice(1, c.ids.indexOf(49407, 1))]),
    long.ids_sd1.slice(1, -1),
  );
  assertEquals(plain.tokenCount, 134);

  const { chunks, tokenCount } = promptChunks(`(masterpiece:1.2), ${long.prompt} BREAK [blurry]`, sd1);
  // Now a word would start the 76th place 1 token after a comma: it moves on, leaving 74.
  assertEquals(chunks.map((c) => c.ids.indexOf(49407, 1) - 1), [74, 62, 1]);
  assertEquals(tokenCount, 151);
  assertEquals([...chunks[0].ids.slice(0, 3)], [49406, 12066, 267]);
  assertEquals(chunks[0].weights[1], Math.fround(1.2));
  assertEquals(chunks[2].weights[1], Math.fround(1 / 1.1));
  assertEquals([chunks[1].ids[76], chunks[2].ids[2]], [49407, 49407]);
});

Deno.test("chunkTokens: comma padding backtrack moves the words after a near comma", () => {
  const runs = [{ ids: [...repeat(1, 70), 9, ...repeat(2, 10)], weight: 1 }];
  const moved = chunkTokens(runs, IDS);
  assertEquals(moved.chunks.map(body), [[...repeat(1, 70), 9], repeat(2, 10)]);
  assertEquals(moved.tokenCount, 85);
  // Comma farther back than the setting allows: the chunk is cut at 75.
  const cut = chunkTokens(runs, IDS, { commaPaddingBacktrack: 3 });
  assertEquals(cut.chunks.map(body), [[...repeat(1, 70), 9, ...repeat(2, 4)], repeat(2, 6)]);
  assertEquals(cut.tokenCount, 81);
  assertEquals(chunkTokens(runs, IDS, { commaPaddingBacktrack: 0 }).chunks.map(body), cut.chunks.map(body));
});

Deno.test("chunkTokens: moved tokens keep their weights; a comma in 76th place starts the next chunk", () => {
  const runs = [{ ids: repeat(1, 72), weight: 1 }, { ids: [9, 3, 4, 5, 6], weight: 2 }];
  const { chunks } = chunkTokens(runs, IDS);
  assertEquals(chunks.map(body), [[...repeat(1, 72), 9], [3, 4, 5, 6]]);
  assertEquals([...chunks[1].weights.slice(0, 6)], [1, 2, 2, 2, 2, 1]);
  const comma = chunkTokens([{ ids: [...repeat(1, 75), 9, 7], weight: 1 }], IDS);
  assertEquals(comma.chunks.map(body), [repeat(1, 75), [9, 7]]);
});

Deno.test("chunkTokens: exactly 75 tokens fit one chunk, 76 need two; BREAK forces one", () => {
  assertEquals(chunkTokens([{ ids: repeat(1, 75), weight: 1 }], IDS).chunks.length, 1);
  assertEquals(chunkTokens([{ ids: repeat(1, 76), weight: 1 }], IDS).chunks.map(body), [repeat(1, 75), [1]]);
  const broken = chunkTokens([{ ids: [1], weight: 1 }, { break: true }, { ids: [2], weight: 1 }], IDS);
  assertEquals(broken.chunks.map(body), [[1], [2]]);
  assertEquals(broken.tokenCount, 76);
  assertEquals(chunkTokens([{ break: true }], IDS).chunks.map(body), [[]]);
});

Deno.test("promptChunks: emphasis off reads brackets and BREAK as text", () => {
  const { chunks } = promptChunks("(a) BREAK b", sd1, { emphasis: false });
  assertEquals(chunks.length, 1);
  const ids = sd1.tokenize("(a) BREAK b");
  assertEquals([...chunks[0].ids.slice(1, ids.length + 2)], [...ids, 49407]);
  assertEquals([...new Set(chunks[0].weights)], [1]);
});

Deno.test("applyEmphasis: scales each token, then restores the chunk mean", () => {
  // 2 tokens × 2 hidden: mean before = 2.5; weighted [1,2,6,8] has mean 4.25, rescaled by 2.5/4.25.
  const out = applyEmphasis(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 2]));
  assertClose(out, [1, 2, 6, 8].map((v) => (v * 2.5) / 4.25), 1e-6, "emphasis");
  assertClose(
    applyEmphasis(new Float32Array([1, -2, 3, 4]), new Float32Array([1, 1])),
    [1, -2, 3, 4],
    0,
    "unit",
  );
});

Deno.test("encodeChunks: chunks laid end to end, weighted or not, with their ids", async () => {
  const a = promptChunks("a BREAK (b:2)", sd1).chunks;
  const hidden = 3;
  const seen: Int32Array[] = [];
  const encode = (ids: Int32Array) => {
    seen.push(ids);
    return Promise.resolve(
      Float32Array.from({ length: CHUNK_LENGTH * hidden }, (_, i) => ids[Math.floor(i / hidden)] % 7 + i),
    );
  };
  const weighted = await encodeChunks(a, encode);
  assertEquals([weighted.tokens, weighted.hidden, weighted.data.length], [154, 3, 154 * 3]);
  assertEquals(weighted.chunkIds, a.map((c) => c.ids));
  assertEquals(seen, a.map((c) => c.ids));
  const raw = await Promise.all(a.map((c) => encode(c.ids)));
  assertClose(weighted.data.subarray(0, 231), applyEmphasis(raw[0], a[0].weights), 0, "chunk 0");
  assertClose(weighted.data.subarray(231), applyEmphasis(raw[1], a[1].weights), 0, "chunk 1");
  const plain = await encodeChunks(a, encode, { weighted: false });
  assertClose(plain.data, [...raw[0], ...raw[1]], 0, "unweighted");
  await rejects(encodeChunks(a, () => Promise.resolve(new Float32Array(5))), /returned 5 values/);
});

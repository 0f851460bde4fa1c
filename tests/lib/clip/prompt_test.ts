import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { parsePrompt, type PromptPart } from "../../../lib/clip/prompt.ts";

const t = (text: string, weight: number): PromptPart => ({ kind: "text", text, weight });
const BREAK: PromptPart = { kind: "break" };

Deno.test("parsePrompt: A1111's documented examples", () => {
  assertEquals(parsePrompt("normal text"), [t("normal text", 1)]);
  assertEquals(parsePrompt("an (important) word"), [t("an ", 1), t("important", 1.1), t(" word", 1)]);
  assertEquals(parsePrompt("(unbalanced"), [t("unbalanced", 1.1)]);
  assertEquals(parsePrompt("\\(literal\\]"), [t("(literal]", 1)]);
  assertEquals(parsePrompt("(unnecessary)(parens)"), [t("unnecessaryparens", 1.1)]);
  // Weights are multiplied innermost first, so floats come out as Python's: 1.3·1.1·1.1.
  assertEquals(parsePrompt("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky)))."), [
    t("a ", 1),
    t("house", 1.5730000000000004),
    t(" ", 1.1),
    t("on", 1),
    t(" a ", 1.1),
    t("hill", 0.55),
    t(", sun, ", 1.1),
    t("sky", 1.4641000000000006),
    t(".", 1.1),
  ]);
});

Deno.test("parsePrompt: nesting, explicit weights and square brackets", () => {
  assertEquals(parsePrompt("a (red:1.5) cat"), [t("a ", 1), t("red", 1.5), t(" cat", 1)]);
  assertEquals(parsePrompt("((word))"), [t("word", 1.2100000000000002)]);
  assertEquals(parsePrompt("[word]"), [t("word", 0.9090909090909091)]);
  assertEquals(parsePrompt("[[word]]"), [t("word", 0.8264462809917354)]);
  assertEquals(parsePrompt("(word: 0.5 )"), [t("word", 0.5)]);
  assertEquals(parsePrompt("(word:-1)"), [t("word", -1)]);
  assertEquals(parsePrompt("(a:.5)(b:2.)"), [t("a", 0.5), t("b", 2)]);
  // [x:1.5] is not a weight (only round brackets take one): ":1.5]" stays text, then ] applies.
  assertEquals(parsePrompt("[x:1.5]"), [t("x:1.5", 0.9090909090909091)]);
});

Deno.test("parsePrompt: escapes, stray brackets and colons are text", () => {
  assertEquals(parsePrompt("a\\\\b"), [t("a\\b", 1)]);
  assertEquals(parsePrompt("trailing\\"), [t("trailing", 1)]);
  assertEquals(parsePrompt("a) b] c"), [t("a) b] c", 1)]);
  assertEquals(parsePrompt("time: 5:30"), [t("time: 5:30", 1)]);
  assertEquals(parsePrompt("x:2) y"), [t("x:2) y", 1)]);
  assertEquals(parsePrompt("x (y:1.5"), [t("x ", 1), t("y:1.5", 1.1)]);
  assertEquals(parsePrompt("[a (b] c)"), [t("a ", 0.9090909090909091), t("b", 1), t(" c", 1.1)]);
});

Deno.test("parsePrompt: BREAK", () => {
  assertEquals(parsePrompt("a BREAK b"), [t("a", 1), BREAK, t("b", 1)]);
  assertEquals(parsePrompt("BREAK"), [t("", 1), BREAK, t("", 1)]);
  assertEquals(parsePrompt("a\nBREAK\tb"), [t("a", 1), BREAK, t("b", 1)]);
  // Only the whole word, and only upper case.
  assertEquals(parsePrompt("aBREAK b, break c, BREAKING, éBREAK"), [
    t("aBREAK b, break c, BREAKING, éBREAK", 1),
  ]);
  assertEquals(parsePrompt("(x) BREAK y"), [t("x", 1.1), t("", 1), BREAK, t("y", 1)]);
  // Inside brackets A1111 multiplies the marker's weight too, and it is then just the text "BREAK".
  assertEquals(parsePrompt("(a BREAK b)"), [t("a", 1.1), t("BREAK", -1.1), t("b", 1.1)]);
});

Deno.test("parsePrompt: empty prompt and bad weights", () => {
  assertEquals(parsePrompt(""), [t("", 1)]);
  assertEquals(parsePrompt("()"), [t("", 1)]);
  throws(() => parsePrompt("(a:1.2.3)"), /emphasis weight "1.2.3" is not a number/);
  throws(() => parsePrompt("(a:.)"), /not a number/);
});

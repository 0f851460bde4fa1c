// AUTOMATIC1111's prompt emphasis syntax: "(word)" ×1.1, "[word]" ÷1.1, "(word:1.5)", escapes "\(" "\)" "\["
// "\]" "\\", unbalanced brackets closed at the end, and "BREAK" forcing a new 75-token chunk. The result is the
// same list A1111's parse_prompt_attention returns, including its quirks (weights are multiplied in the same
// order, so floats match, and a BREAK caught inside brackets stops being a BREAK, as it does there).

/** A run of prompt text and the weight its tokens get. */
export interface WeightedText {
  kind: "text";
  text: string;
  weight: number;
}

/** "BREAK": the tokens after it start a new chunk. */
export interface PromptBreak {
  kind: "break";
}

export type PromptPart = WeightedText | PromptBreak;

// Python's str.isspace() set, which `re`'s \s matches (JavaScript's \s lacks U+001C..U+001F and U+0085).
const SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const ATTENTION = new RegExp(
  [
    "\\\\\\(", // \(
    "\\\\\\)", // \)
    "\\\\\\[", // \[
    "\\\\\\]", // \]
    "\\\\\\\\", // \\
    "\\\\", // a lone backslash
    "\\(",
    "\\[",
    `:[${SPACE}]*([+-]?[.\\d]+)[${SPACE}]*\\)`, // ":1.5)" closes a bracket with an explicit weight
    "\\)",
    "\\]",
    "[^\\\\()\\[\\]:]+",
    ":",
  ].join("|"),
  "gu",
);
// Python's \b around BREAK: a word character there is a letter, a number or "_" in any script.
const BREAK = new RegExp(`[${SPACE}]*(?<![\\p{L}\\p{N}_])BREAK(?![\\p{L}\\p{N}_])[${SPACE}]*`, "u");

const ROUND = 1.1;
const SQUARE = 1 / 1.1;

/** Parses a prompt's emphasis and BREAKs. Never returns an empty list: "" gives one empty text of weight 1. */
export function parsePrompt(prompt: string): PromptPart[] {
  // [text, weight] pairs exactly as A1111 builds them; BREAK is ["BREAK", -1] until the end.
  const res: [string, number][] = [];
  const round: number[] = [];
  const square: number[] = [];
  const multiplyFrom = (start: number, by: number) => {
    for (let p = start; p < res.length; p++) res[p][1] *= by;
  };

  for (const m of prompt.matchAll(ATTENTION)) {
    const text = m[0];
    const weight = m[1];
    if (text.startsWith("\\")) res.push([text.slice(1), 1.0]);
    else if (text === "(") round.push(res.length);
    else if (text === "[") square.push(res.length);
    else if (weight !== undefined && round.length > 0) {
      multiplyFrom(round.pop()!, parseWeight(weight, prompt));
    } else if (text === ")" && round.length > 0) multiplyFrom(round.pop()!, ROUND);
    else if (text === "]" && square.length > 0) multiplyFrom(square.pop()!, SQUARE);
    else {
      text.split(BREAK).forEach((part, i) => {
        if (i > 0) res.push(["BREAK", -1]);
        res.push([part, 1.0]);
      });
    }
  }
  for (const pos of round) multiplyFrom(pos, ROUND);
  for (const pos of square) multiplyFrom(pos, SQUARE);
  if (res.length === 0) res.push(["", 1.0]);

  // Neighbours with equal weights become one run.
  for (let i = 0; i + 1 < res.length;) {
    if (res[i][1] === res[i + 1][1]) res[i][0] += res.splice(i + 1, 1)[0][0];
    else i++;
  }
  return res.map(([text, weight]) =>
    text === "BREAK" && weight === -1 ? { kind: "break" } : { kind: "text", text, weight }
  );
}

// Python's float() on what [.\d]+ matched: "1.", ".5" are numbers, "1.2.3" and "." are errors there too.
function parseWeight(s: string, prompt: string): number {
  const w = Number(s);
  if (!/\d/.test(s) || Number.isNaN(w)) {
    throw new Error(`prompt: emphasis weight "${s}" is not a number in ${JSON.stringify(prompt)}`);
  }
  return w;
}

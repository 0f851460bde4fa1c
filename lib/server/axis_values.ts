// An X/Y axis's values as A1111's X/Y/Z plot reads them: a comma list where an item may be a range,
// "0-20" (step 1), "0-20 (+5)" (a step; decimals allowed), or "1-5 [3]" (that many values, evenly spaced).
// Ranges are sized before they are expanded, so "0-1e9" cannot make a huge list. Text axes (samplers, Prompt
// S/R) are a CSV row, as A1111 reads them: quotes keep a comma inside a value.
import { InputError } from "../io/input_error.ts";
import { parseCsv } from "./styles.ts";

const NUM = String.raw`[+-]?\s*\d+(?:\.\d*)?`;
const STEP_RANGE = new RegExp(String.raw`^(${NUM})\s*-\s*(${NUM})(?:\s*\(\s*([+-]\d+(?:\.\d*)?)\s*\))?$`);
const COUNT_RANGE = new RegExp(String.raw`^(${NUM})\s*-\s*(${NUM})\s*\[\s*(\d+)\s*]$`);

const num = (s: string) => Number(s.replace(/\s+/g, ""));
/** Drops float noise (0.1 + 0.2) from stepped values. */
const tidy = (v: number) => Number(v.toPrecision(12));

export function parseAxisValues(
  text: string,
  max = 16,
  loc: (string | number)[] = ["xy_grid", "values"],
  /** The axis takes whole numbers (true) or any (false); unset: as the range's ends are written. */
  integer?: boolean,
): number[] {
  const out: number[] = [];
  const room = (n: number) => {
    if (out.length + n > max) throw new InputError(`at most ${max} values`, loc);
  };
  for (const raw of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const count = COUNT_RANGE.exec(raw);
    const step = STEP_RANGE.exec(raw);
    if (count) {
      const [a, b, n] = [num(count[1]), num(count[2]), Number(count[3])];
      room(n);
      // An int axis truncates (A1111's int(linspace)), a float axis keeps the fractions; unknown, the ends'
      // spelling decides ("0-1" integers, "0.0-1.0" floats).
      const ints = integer ?? (!count[1].includes(".") && !count[2].includes("."));
      for (let i = 0; i < n; i++) {
        const v = n === 1 ? a : a + (i * (b - a)) / (n - 1);
        out.push(ints ? Math.trunc(v) : tidy(v));
      }
    } else if (step) {
      const [a, b] = [num(step[1]), num(step[2])];
      const d = step[3] === undefined ? 1 : num(step[3]);
      if (d === 0) throw new InputError(`${raw}: the step cannot be 0`, loc);
      const n = Math.max(0, Math.floor((b - a) / d + 1e-9) + 1);
      room(n);
      for (let i = 0; i < n; i++) out.push(tidy(a + i * d));
    } else {
      const v = Number(raw);
      if (!Number.isFinite(v)) throw new InputError(`${JSON.stringify(raw)} is not a number or a range`, loc);
      room(1);
      out.push(v);
    }
  }
  return out;
}

/** A CSV row's values, trimmed and without empty ones: `a, "b, c"` → ["a", "b, c"] (lines are rows too). */
export function splitAxisText(text: string): string[] {
  return parseCsv(text).flat().map((s) => s.trim()).filter(Boolean);
}

// A1111's X/Y/Z range syntax.
import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { parseAxisValues, splitAxisText } from "../../../lib/server/axis_values.ts";

Deno.test("lists, ranges with a step, ranges with a count", () => {
  assertEquals(parseAxisValues("0,2, 5 ,10,20"), [0, 2, 5, 10, 20]);
  assertEquals(parseAxisValues("1-5"), [1, 2, 3, 4, 5]);
  assertEquals(parseAxisValues("0-20 (+5)"), [0, 5, 10, 15, 20]);
  assertEquals(parseAxisValues("10-0 (-5)"), [10, 5, 0]);
  assertEquals(parseAxisValues("1-5 [3]"), [1, 3, 5]);
  assertEquals(parseAxisValues("0-10 [4]"), [0, 3, 6, 10]);
  assertEquals(parseAxisValues("0.5-1 (+0.25), 2"), [0.5, 0.75, 1, 2]);
  assertEquals(parseAxisValues("0-1 [3]"), [0, 0, 1], "integer ends give integers, as A1111's int(linspace)");
  assertEquals(parseAxisValues("0.0-1.0 [3]"), [0, 0.5, 1]);
  assertEquals(
    parseAxisValues("0-1 [3]", 16, [], false),
    [0, 0.5, 1],
    "a float axis (CFG Scale) keeps fractions",
  );
  assertEquals(parseAxisValues("0.0-1.0 [3]", 16, [], true), [0, 0, 1], "an int axis (Steps) truncates");
  assertEquals(
    parseAxisValues("5-1"),
    [],
    "a descending range without a negative step is empty, as in A1111",
  );
});

Deno.test("bad values and oversized ranges are refused before they are expanded", () => {
  throws(() => parseAxisValues("1,x"), /"x" is not a number or a range/);
  throws(() => parseAxisValues("0-1000000000"), /at most 16 values/);
  throws(() => parseAxisValues("1-5 [100000000]"), /at most 16 values/);
  throws(() => parseAxisValues("1-5 (+0)"), /the step cannot be 0/);
});

Deno.test("text axes are a CSV row: quotes keep commas, empty values are dropped", () => {
  assertEquals(splitAxisText("Euler a, DPM++ 2M ,LMS"), ["Euler a", "DPM++ 2M", "LMS"]);
  assertEquals(splitAxisText('cat, "a dog, running", "say ""hi"""'), ["cat", "a dog, running", 'say "hi"']);
  assertEquals(splitAxisText(" , ,"), []);
});

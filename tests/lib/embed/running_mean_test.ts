import { deepStrictEqual as assertEquals, throws } from "node:assert";
import { RunningMean } from "../../../lib/embed/running_mean.ts";

Deno.test("RunningMean averages rows added in batches of any size", () => {
  const m = new RunningMean(2);
  m.add(new Float32Array([1, 10, 3, 30]), 2);
  m.add(new Float32Array([5, 50]), 1);
  assertEquals(m.count, 3);
  assertEquals([...m.mean()], [3, 30]);
});

Deno.test("RunningMean refuses mismatched widths and an empty mean", () => {
  const m = new RunningMean(3);
  throws(() => m.add(new Float32Array(4), 1), /expected 1×3 values, got 4/);
  throws(() => m.mean(), /mean of no vectors/);
  throws(() => new RunningMean(0), /positive integer/);
});

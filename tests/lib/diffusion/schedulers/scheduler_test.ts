import {
  combine,
  indexForTimestep,
  resolveConfig,
  type Schema,
} from "../../../../lib/diffusion/schedulers/scheduler.ts";
import { assertThrows } from "./reference.ts";

interface Demo {
  a: number;
  b: boolean;
  c: string | null;
  d: number;
}
const SCHEMA: Schema<Demo> = {
  a: ["integer", 1],
  b: ["boolean", false],
  c: ["string|null", null],
  d: ["number", 0],
};

Deno.test("resolveConfig: overrides beat the file, the file beats defaults, unknown keys are ignored", () => {
  const got = resolveConfig(SCHEMA, { a: 5, b: true, zzz: 1, d: "-Infinity" }, { a: 7 }, "Demo");
  if (JSON.stringify({ ...got, d: String(got.d) }) !== '{"a":7,"b":true,"c":null,"d":"-Infinity"}') {
    throw new Error(JSON.stringify(got));
  }
  assertThrows(() => resolveConfig(SCHEMA, { a: 1.5 }, {}, "Demo"), /Demo a must be an integer/, "integer");
  assertThrows(
    () => resolveConfig(SCHEMA, { b: "yes" }, {}, "Demo"),
    /Demo b must be true or false/,
    "boolean",
  );
  assertThrows(() => resolveConfig(SCHEMA, { c: 3 }, {}, "Demo"), /Demo c must be a string/, "string");
});

Deno.test("combine rounds like float32 torch ops; indexForTimestep takes the second of repeated timesteps", () => {
  const x = Float32Array.from([1, 1e8]);
  const y = Float32Array.from([1e-8, 1]);
  const out = combine([[1, x], [1, y]]);
  // 1 + 1e-8 and 1e8 + 1 are not representable in float32: both round back.
  if (out[0] !== 1 || out[1] !== 1e8) throw new Error(`[${out}]`);
  const sub = combine([[3, x], [-0.5, y]]);
  if (sub[0] !== Math.fround(3 - Math.fround(0.5 * 1e-8))) throw new Error("subtraction");
  if (indexForTimestep([9, 7, 7, 5], 7) !== 2 || indexForTimestep([9, 7, 5], 7) !== 1) {
    throw new Error("index");
  }
  assertThrows(() => indexForTimestep([9, 7], 8), /not in the schedule/, "missing");
  assertThrows(() => combine([[1, x], [1, new Float32Array(3)]]), /lengths differ/, "shape");
});

import {
  arange,
  checkSteps,
  interpIndex,
  linspace,
  roundHalfEven,
  spacedTimesteps,
} from "../../../../lib/diffusion/schedulers/timesteps.ts";
import { assertThrows } from "./reference.ts";

Deno.test("numpy helpers: round half to even, linspace endpoint, arange length, interp", () => {
  const rounded = [0.5, 1.5, 2.5, -0.5, -1.5, 2.4, 2.6].map(roundHalfEven);
  if (JSON.stringify(rounded) !== JSON.stringify([0, 2, 2, -0, -2, 2, 3])) throw new Error(`[${rounded}]`);
  const l = linspace(0, 999, 7);
  if (l[6] !== 999 || l[1] !== 166.5) throw new Error(`[${l}]`);
  if (arange(1000, 0, -1000 / 7).length !== 7) throw new Error("arange");
  if (
    interpIndex(1.25, [0, 4, 8]) !== 5 || interpIndex(2, [0, 4, 8]) !== 8 || interpIndex(-1, [3, 4]) !== 3
  ) {
    throw new Error("interp");
  }
});

Deno.test("spacings as diffusers computes them for 1000 training steps", () => {
  const run = (
    spacing: "linspace" | "leading" | "trailing",
    roundLinspace: boolean,
    steps = 7,
    stepsOffset = 1,
  ) =>
    JSON.stringify(spacedTimesteps({ spacing, numTrainTimesteps: 1000, steps, stepsOffset, roundLinspace }));
  const cases: [string, string][] = [
    [run("linspace", true), "[999,832,666,500,333,166,0]"],
    [run("linspace", false), "[999,832.5,666,499.5,333,166.5,0]"],
    [run("leading", true), "[853,711,569,427,285,143,1]"],
    [run("leading", true, 8), "[876,751,626,501,376,251,126,1]"],
    [run("trailing", true), "[999,856,713,570,428,285,142]"],
    [run("linspace", true, 1), "[0]"],
  ];
  for (const [got, want] of cases) if (got !== want) throw new Error(`${got} != ${want}`);
});

Deno.test("step counts below 1, fractional, or above the training steps are refused", () => {
  assertThrows(() => checkSteps(0, 1000), />= 1/, "0");
  assertThrows(() => checkSteps(2.5, 1000), /integer/, "2.5");
  assertThrows(() => checkSteps(1001, 1000), /cannot exceed/, "1001");
});

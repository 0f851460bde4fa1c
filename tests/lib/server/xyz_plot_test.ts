// The X/Y/Z plot: axes resolved from what a client typed, each value checked, cells in A1111's order, seeds
// fixed, labels and the grid's infotext.
import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert";
import { InputError } from "../../../lib/io/input_error.ts";
import { formatInfotext } from "../../../lib/io/infotext.ts";
import {
  applyCell,
  cellCount,
  cellLabel,
  gridInfotext,
  plotCells,
  type PlotContext,
  plotSweeps,
  resolvePlot,
} from "../../../lib/server/xyz_plot.ts";
import { jobRequest } from "../../job_request.ts";

function context(change: Partial<PlotContext> = {}): PlotContext {
  return {
    mode: "txt2img",
    extensions: [],
    base: { request: jobRequest({ seed: -1, prompt: "a cat" }), scripts: [] },
    maxValues: 64,
    checkCell: ({ request }) => {
      if (request.steps > 30) throw new InputError("steps 40 is over this server's limit of 30", ["steps"]);
    },
    loc: (axis, part) => ["script_args", `${axis}_${part}`],
    ...change,
  };
}

Deno.test("axes from types and typed values: ranges, text lists, Nothing", async () => {
  const plot = await resolvePlot({
    x: { type: 4, values: "1-5 [3]" },
    y: { type: "Sampler", values: "Euler, LMS" },
    z: { type: 0, values: "ignored" },
  }, context());
  assertEquals(plot.x.values, [1, 3, 5]);
  assertEquals(plot.x.text, "1-5 [3]");
  assertEquals(plot.y.values, ["Euler", "LMS"]);
  assertEquals(plot.z.label, "Nothing");
  assertEquals(cellCount(plot), 6);
  assertEquals([plot.drawLegend, plot.includeLoneImages, plot.includeSubGrids], [true, false, false]);
  // Cells: x fastest, then y, then z, as A1111 lays out its grid.
  assertEquals(plotCells(plot).map((c) => `${c.ix}${c.iy}${c.iz}`), [
    "000",
    "100",
    "200",
    "010",
    "110",
    "210",
  ]);
  const cell = applyCell(plot, { ix: 2, iy: 1, iz: 0 }, context());
  assertEquals([cell.request.steps, cell.request.sampler], [5, "LMS"]);
  assertEquals(cellLabel(plot, { ix: 2, iy: 1, iz: 0 }), "Steps: 5, LMS");
  assertEquals(plotSweeps(plot), [{ axis: "Steps", values: [1, 3, 5] }]);
  const dropdown = await resolvePlot(
    { x: { type: 9, values: "", dropdown: ["DDIM", "Euler a"] } },
    context(),
  );
  assertEquals(dropdown.x.values, ["DDIM", "Euler a"], "A1111's multiselect values for axes with choices");
});

Deno.test("a bad value is refused naming the axis and the value, at its place in the request", async () => {
  const refused = async (spec: Parameters<typeof resolvePlot>[0], msg: RegExp, loc: string) => {
    const e = await resolvePlot(spec, context()).then(() => undefined, (e) => e);
    ok(e instanceof InputError, String(e));
    ok(msg.test(e.message), e.message);
    assertEquals(e.loc, ["script_args", loc]);
  };
  await refused(
    { x: { type: 4, values: "5, 0" } },
    /X values \(Steps\): 0 must be from 1 to 10000/,
    "x_values",
  );
  await refused(
    { y: { type: 4, values: "10-40 (+30)" } },
    /Y values \(Steps\): 40 steps 40 is over/,
    "y_values",
  );
  await refused(
    { z: { type: 6, values: "7, x" } },
    /Z values \(CFG Scale\): "x" is not a number/,
    "z_values",
  );
  await refused(
    { x: { type: 9, values: "Euler, Nope" } },
    /X values \(Sampler\): "Nope" is not one of/,
    "x_values",
  );
  await refused({ x: { type: 4, values: " , " } }, /X values \(Steps\): no values/, "x_values");
  await refused({ x: { type: 4, values: "1-100" } }, /at most 64 values/, "x_values");
  await refused({ x: { type: 11, values: "a" } }, /11 \(Checkpoint name\) is not supported/, "x_type");
  // A problem of the request itself is its field's, not blamed on an axis.
  const base = context({ base: { request: jobRequest({ steps: 40 }), scripts: [] } });
  const e = await resolvePlot({ x: { type: 4, values: "1" } }, base).then(() => undefined, (e) => e);
  assertEquals([e.message, e.loc], ["steps 40 is over this server's limit of 30", ["steps"]]);
});

Deno.test("seeds: -1 on a Seed axis is drawn once and written as Fixed values, unless Keep -1 for seeds", async () => {
  const fixed = await resolvePlot({ x: { type: 1, values: "-1, 7" } }, context());
  ok(fixed.x.fixed);
  ok(typeof fixed.x.values[0] === "number" && fixed.x.values[0] >= 0, String(fixed.x.values));
  assertEquals(fixed.x.values[1], 7);
  const kept = await resolvePlot({ x: { type: 1, values: "-1, 7" }, noFixedSeeds: true }, context());
  assertEquals([kept.x.values, kept.x.fixed], [[-1, 7], false]);
});

Deno.test("the grid's infotext: the first cell's, then the plot's fields as A1111 writes them", async () => {
  const plot = await resolvePlot({
    x: { type: 1, values: "-1, 3" },
    y: { type: 7, values: "cat, dog" },
    z: { type: 6, values: "5-7 (+2)" },
  }, context());
  const first = formatInfotext({
    prompt: "a cat",
    negativePrompt: "",
    params: [["Steps", 2], ["Seed", 1], ["Size", "64x64"]],
  });
  const main = gridInfotext(first, plot, true);
  ok(
    main.endsWith(
      `Steps: 2, Seed: 1, Size: 64x64, Script: X/Y/Z plot, X Type: Seed, X Values: "-1, 3", ` +
        `Fixed X Values: "${plot.x.values[0]}, 3", Y Type: Prompt S/R, Y Values: "cat, dog", ` +
        `Z Type: CFG Scale, Z Values: 5-7 (+2)`,
    ),
    main,
  );
  ok(!gridInfotext(first, plot, false).includes("Z Type"), "a sub-grid's has no Z fields");
  await rejects(resolvePlot({ y: { type: 7, values: "bird, x" } }, context()), /"bird" is not in the prompt/);
});

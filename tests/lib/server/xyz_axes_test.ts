// The X/Y/Z plot's axes: A1111's indices, what each sets, each value's own check.
import { deepStrictEqual as assertEquals, rejects, throws } from "node:assert";
import type { Extension, Values } from "../../../lib/extensions/adapter.ts";
import { A1111_AXES, findAxis, plotAxes } from "../../../lib/server/xyz_axes.ts";
import { jobRequest } from "../../job_request.ts";

const ext: Extension = {
  id: "demo",
  title: "Demo",
  controls: [
    { kind: "slider", id: "steps", label: "Demo steps", min: 0, max: 50, step: 1, value: 0 },
    {
      kind: "dropdown",
      id: "name",
      label: "Demo name",
      value: "a",
      choices: () => Promise.resolve(["a", "b"]),
    },
    { kind: "checkbox", id: "on", label: "Demo on", value: false },
  ],
  args: ["steps", "name", "on"],
  infotextFields: [],
  axes: [
    { label: "Demo steps", control: "steps", example: "0,5" },
    { label: "Demo name", control: "name", example: "a, b" },
    { label: "Demo on", control: "on", example: "False, True" },
  ],
  process: () => Promise.resolve(),
};
const base = { request: jobRequest({ prompt: "a cat on a mat", negativePrompt: "blurry cat" }), scripts: [] };

Deno.test("axis indices are A1111's for each tab; ours and the extensions' come after its list", () => {
  const index = (mode: "txt2img" | "img2img", label: string) =>
    plotAxes(mode, [ext]).find((o) => o.axis.label === label)?.index;
  const txt: Record<string, number> = {
    Nothing: 0,
    Seed: 1,
    "Var. seed": 2,
    "Var. strength": 3,
    Steps: 4,
    "Hires steps": 5,
    "CFG Scale": 6,
    "Prompt S/R": 7,
    Sampler: 9,
    "Hires sampler": 10,
    "Sigma Churn": 13,
    "Schedule type": 17,
    Eta: 21,
    "Clip skip": 22,
    Denoising: 23,
    "Hires upscaler": 26,
    "RNG source": 37,
    Width: 38,
    Height: 39,
    Size: 40,
    "Demo steps": 41,
  };
  for (const [label, i] of Object.entries(txt)) assertEquals(index("txt2img", label), i, label);
  const img: Record<string, number> = {
    "CFG Scale": 5,
    Sampler: 9,
    "Schedule type": 16,
    Denoising: 22,
    "RNG source": 36,
  };
  for (const [label, i] of Object.entries(img)) assertEquals(index("img2img", label), i, label);
  assertEquals(index("img2img", "Hires steps"), undefined, "hires axes are txt2img's");
  assertEquals(A1111_AXES.txt2img.length, 38);
  assertEquals(A1111_AXES.img2img.length, 37);
});

Deno.test("an axis A1111 has but this server does not run is refused by name", () => {
  throws(() => findAxis("txt2img", [], 11, ["script_args", 0]), /11 \(Checkpoint name\) is not supported/);
  throws(() => findAxis("txt2img", [], 99, []), /99 is not supported/);
  throws(() => findAxis("txt2img", [], "Nope", []), /"Nope" is not supported/);
  assertEquals(
    findAxis("txt2img", [], "cfg scale", []).label,
    "CFG Scale",
    "labels match case-insensitively",
  );
});

Deno.test("standard axes set their request field; Prompt S/R replaces the first value in both prompts", () => {
  const steps = findAxis("txt2img", [], 4, []);
  assertEquals(steps.apply(base, 9, [9]).request.steps, 9);
  throws(() => steps.check(0, [0], base), /from 1 to 10000/);
  throws(() => steps.check(1.5, [1.5], base), /whole number/);
  const sr = findAxis("txt2img", [], 7, []);
  const dog = sr.apply(base, "dog", ["cat", "dog"]).request;
  assertEquals([dog.prompt, dog.negativePrompt], ["a dog on a mat", "blurry dog"]);
  throws(() => sr.check("x", ["bird", "x"], base), /"bird" is not in the prompt/);
  const sampler = findAxis("txt2img", [], 9, []);
  assertEquals(sampler.apply(base, "euler", ["euler"]).request.sampler, "Euler", "A1111's spelling");
  throws(() => sampler.check("Nope", ["Nope"], base), /is not one of: .*Euler a/);
  const size = findAxis("txt2img", [], "Size", []);
  const r = size.apply(base, "128x64", ["128x64"]).request;
  assertEquals([r.width, r.height], [128, 64]);
  throws(() => size.check("128", ["128"], base), /WIDTHxHEIGHT/);
  const strength = findAxis("img2img", [], 3, []);
  throws(() => strength.check(2, [2], base), /from 0 to 1/);
});

Deno.test("extension axes set their control and check values by the control's own rules", async () => {
  const scripts: [Extension, Values][] = [[ext, { steps: 0, name: "a", on: false }]];
  const cell = { ...base, scripts };
  const steps = findAxis("txt2img", [ext], "Demo steps", []);
  assertEquals(steps.kind, "int");
  assertEquals(steps.apply(cell, 7, [7]).scripts[0][1], { steps: 7, name: "a", on: false });
  await rejects(async () => await steps.check(51, [51], cell), /Demo steps/);
  const name = findAxis("txt2img", [ext], "Demo name", []);
  assertEquals(await name.choices!(), ["a", "b"]);
  await rejects(async () => await name.check("c", ["c"], cell), /"c" is not one of: a, b/);
  const on = findAxis("txt2img", [ext], "Demo on", []);
  assertEquals(on.apply(cell, "True", ["True"]).scripts[0][1].on, true);
});

import { deepStrictEqual as assertEquals, rejects, throws } from "node:assert";
import {
  checkChoices,
  defaultValues,
  type Extension,
  ExtensionInputError,
  extensionView,
  valuesFromArgs,
  valuesFromInfotext,
  valuesFromObject,
} from "../../../lib/extensions/adapter.ts";

const ext: Extension = {
  id: "demo",
  title: "Demo script",
  controls: [
    { kind: "slider", id: "w", label: "Weight", min: 0, max: 1, step: 0.1, value: 0.5 },
    { kind: "number", id: "n", label: "Count", integer: true, min: 0, value: 3 },
    { kind: "checkbox", id: "on", label: "On", value: false },
    { kind: "text", id: "t", label: "Text", value: "", maxLength: 5 },
    {
      kind: "dropdown",
      id: "d",
      label: "Pick",
      value: "None",
      choices: () => Promise.resolve(["None", "a", "b"]),
      refresh: true,
      check: (v) => {
        if (v.includes("..")) throw new Error(`bad name ${v}`);
      },
    },
  ],
  args: ["n", "w", "on", "d", "t"],
  infotextFields: [
    { key: "Demo count", control: "n" },
    { key: "Demo on", control: "on" },
    { key: "Demo pick", control: "d" },
  ],
  process: () => Promise.resolve(),
};

Deno.test("args map positionally in the declared order; missing trailing args keep defaults", () => {
  assertEquals(valuesFromArgs(ext, [7, 0.25, true]), { w: 0.25, n: 7, on: true, t: "", d: "None" });
  assertEquals(valuesFromArgs(ext, []), defaultValues(ext));
});

Deno.test("args of the wrong type or out of range name the arg and the control", () => {
  const bad: [unknown[], RegExp][] = [
    [["seven"], /args\[0\] \(Count\).*expected number/],
    [[1.5], /args\[0\] \(Count\).*expected int/],
    [[1, 2], /args\[1\] \(Weight\).*<=1/],
    [[1, 0.5, "yes"], /args\[2\] \(On\).*expected boolean/],
    [[1, 0.5, true, "a", "toolong"], /args\[4\] \(Text\)/],
  ];
  for (const [args, why] of bad) {
    throws(
      () => valuesFromArgs(ext, args),
      (e: Error) => e instanceof ExtensionInputError && why.test(e.message),
    );
  }
});

Deno.test("as A1111 passes them: numeric strings are numbers, args past the script's own are dropped", () => {
  const v = valuesFromArgs(ext, ["7", "0.5", "true", "a", "b", "extra", 6]);
  assertEquals([v.n, v.w, v.on], [7, 0.5, true]);
});

Deno.test("values by control id; unknown ids are refused", () => {
  assertEquals(valuesFromObject(ext, { on: true }).on, true);
  throws(() => valuesFromObject(ext, { nope: 1 }), /unknown control "nope"/);
});

Deno.test("dropdown values must be current choices and pass the control's check", async () => {
  await checkChoices(ext, { ...defaultValues(ext), d: "a" });
  await rejects(
    checkChoices(ext, { ...defaultValues(ext), d: "zzz" }),
    /Pick "zzz" is not one of: None, a, b/,
  );
  await rejects(checkChoices(ext, { ...defaultValues(ext), d: "../x" }), /bad name \.\.\/x/);
});

Deno.test("an infotext restores the controls it names, defaults for the rest, nothing when absent", () => {
  const params = new Map([["Demo count", "12"], ["Demo on", "True"], ["Demo pick", "b"], ["Steps", "20"]]);
  assertEquals(valuesFromInfotext(ext, params), { w: 0.5, n: 12, on: true, t: "", d: "b" });
  assertEquals(valuesFromInfotext(ext, new Map([["Steps", "20"]])), undefined);
  // Unreadable values keep the default rather than becoming NaN.
  assertEquals(valuesFromInfotext(ext, new Map([["Demo count", "many"]]))?.n, 3);
});

Deno.test("the view resolves dropdown choices and keeps the args order", async () => {
  const view = await extensionView(ext);
  assertEquals(view.args, ext.args);
  assertEquals(view.controls.find((c) => c.id === "d")?.choices, ["None", "a", "b"]);
  assertEquals(view.controls.find((c) => c.id === "w"), {
    kind: "slider",
    id: "w",
    label: "Weight",
    elemId: undefined,
    value: 0.5,
    min: 0,
    max: 1,
    step: 0.1,
  });
});

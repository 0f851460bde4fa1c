// The X/Y/Z plot as A1111 clients run it: script_name "x/y/z plot" with xyz_grid's positional script_args.
import { deepStrictEqual as assertEquals, ok, throws } from "node:assert";
import sharp from "sharp";
import { readPngParameters } from "../../lib/io/png.ts";
import { decodeBase64Image } from "../../routes/sdapi.ts";
import { plotSpecFromArgs } from "../../routes/xyz_script.ts";
import { post, startServer } from "./server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** A1111's run() args: x, y, z (type index, values, dropdown), then the checkboxes and the rest. */
function scriptArgs(
  x: [number, string],
  y: [number, string] = [0, ""],
  z: [number, string] = [0, ""],
  flags = { legend: true, lone: true, subGrids: false, keepSeeds: false },
) {
  return [
    ...[x, y, z].flatMap(([t, v]) => [t, v, []]),
    flags.legend,
    flags.lone,
    flags.subGrids,
    flags.keepSeeds,
    0,
    false,
    false,
  ];
}

const payload = (args: unknown[]) => ({
  prompt: "a red lighthouse",
  negative_prompt: "blurry",
  seed: 5,
  steps: 2,
  width: 64,
  height: 64,
  sampler_name: "Euler",
  script_name: "X/Y/Z plot",
  script_args: args,
});

Deno.test("script_args map onto the plot as A1111's run() signature, with its UI defaults", () => {
  const spec = plotSpecFromArgs([4, "1-3", null, 6, "5,7", ["x"], 0, "", [], false, true, true, true, 0]);
  assertEquals(spec, {
    x: { type: 4, values: "1-3", dropdown: [] },
    y: { type: 6, values: "5,7", dropdown: ["x"] },
    z: { type: 0, values: "", dropdown: [] },
    drawLegend: false,
    includeLoneImages: true,
    includeSubGrids: true,
    noFixedSeeds: true,
  });
  assertEquals(plotSpecFromArgs([]).x, { type: 1, values: "", dropdown: [] }, "A1111's X defaults to Seed");
  throws(() => plotSpecFromArgs([4, "1", [], true]), (e: Error & { loc: unknown[] }) => {
    assertEquals(e.loc, ["script_args", 3]);
    return true;
  });
});

Deno.test("x/y/z plot through the API: grids first, each cell's infotext has its values", opts, async () => {
  const s = await startServer();
  try {
    // X Steps (index 4), Y CFG Scale (6), Z Prompt S/R (7); sub-grids and the cells' images asked for.
    const r = await post(
      `${s.url}/sdapi/v1/txt2img`,
      payload(scriptArgs([4, "1-2"], [6, "5, 7"], [7, "red, blue"], {
        legend: true,
        lone: true,
        subGrids: true,
        keepSeeds: false,
      })),
    );
    assertEquals(r.status, 200, await r.clone().text());
    const body = await r.json();
    const info = JSON.parse(body.info);
    assertEquals(body.images.length, 1 + 2 + 8, "the main grid, one per Z value, then 8 cells");
    assertEquals(info.index_of_first_image, 3);
    const texts = body.images.map((b: string) => readPngParameters(decodeBase64Image(b)!)!);
    assertEquals(texts, info.infotexts);
    const cells = texts.slice(3).map((t: string) =>
      [
        /Steps: (\d+)/.exec(t)![1],
        /CFG scale: (\d+)/.exec(t)![1],
        t.startsWith("a red") ? "red" : t.startsWith("a blue") ? "blue" : "?",
      ].join(" ")
    );
    assertEquals(cells, [
      "1 5 red",
      "2 5 red",
      "1 7 red",
      "2 7 red",
      "1 5 blue",
      "2 5 blue",
      "1 7 blue",
      "2 7 blue",
    ]);
    assertEquals(new Set(info.all_seeds), new Set([5]), "one seed for every cell");
    ok(texts[0].startsWith("a red lighthouse"), "the grid's infotext is the first cell's");
    ok(
      texts[0].endsWith(
        'Script: X/Y/Z plot, X Type: Steps, X Values: 1-2, Y Type: CFG Scale, Y Values: "5, 7", ' +
          'Z Type: Prompt S/R, Z Values: "red, blue"',
      ),
      texts[0],
    );
    ok(!texts[1].includes("Z Type") && texts[1].includes("Y Type: CFG Scale"), texts[1]);
    assertEquals(info.labels.slice(0, 5), [
      "Steps: 1, 2; CFG Scale: 5, 7; Prompt S/R: red, blue",
      "red",
      "blue",
      "Steps: 1, CFG Scale: 5, red",
      "Steps: 2, CFG Scale: 5, red",
    ]);
    // Sub-grids: two 64 px columns and rows after the label margins; the main grid holds both side by side.
    const size = async (i: number) => await sharp(decodeBase64Image(body.images[i])!).metadata();
    const [main, sub] = [await size(0), await size(1)];
    ok(sub.width! > 128 && sub.height! > 128, `labels beside the cells: ${sub.width}x${sub.height}`);
    assertEquals(main.width, 2 * sub.width!);
    ok(main.height! > sub.height!, "the Z labels above");

    // Without include_lone_images only the grid comes back, with every cell's infotext kept.
    const lone = await post(
      `${s.url}/sdapi/v1/txt2img`,
      payload(scriptArgs([1, "-1, 3"], [0, ""], [0, ""], {
        legend: true,
        lone: false,
        subGrids: false,
        keepSeeds: false,
      })),
    );
    const loneBody = await lone.json();
    const loneInfo = JSON.parse(loneBody.info);
    assertEquals(loneBody.images.length, 1);
    assertEquals(loneInfo.infotexts.length, 3);
    const seeds = loneInfo.infotexts.slice(1).map((t: string) => Number(/Seed: (\d+)/.exec(t)![1]));
    assertEquals(seeds[1], 3);
    ok(loneInfo.infotexts[0].includes(`Fixed X Values: "${seeds[0]}, 3"`), loneInfo.infotexts[0]);

    // Seed -1: drawn once for every cell, or per cell with "Keep -1 for seeds".
    const cellSeeds = async (keepSeeds: boolean) => {
      const flags = { legend: true, lone: true, subGrids: false, keepSeeds };
      const r = await post(`${s.url}/sdapi/v1/txt2img`, {
        ...payload(scriptArgs([4, "1, 2"], [0, ""], [0, ""], flags)),
        seed: -1,
      });
      return JSON.parse((await r.json()).info).all_seeds.slice(1);
    };
    const [fixedA, fixedB] = await cellSeeds(false);
    assertEquals(fixedA, fixedB, "one seed across the cells");
    const [keptA, keptB] = await cellSeeds(true);
    ok(keptA !== keptB, `each cell its own seed: ${keptA}, ${keptB}`);
  } finally {
    await s.close();
  }
});

Deno.test("x/y/z plot on img2img: Denoising and Sampler by img2img's indices", opts, async () => {
  const s = await startServer();
  try {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#808080" } }).png()
      .toBuffer();
    const r = await post(`${s.url}/sdapi/v1/img2img`, {
      ...payload(scriptArgs([22, "0.5, 1"], [9, "Euler, LMS"])),
      init_images: [png.toString("base64")],
    });
    assertEquals(r.status, 200, await r.clone().text());
    const info = JSON.parse((await r.json()).info);
    const cells = info.infotexts.slice(1).map((t: string) =>
      `${/Denoising strength: ([\d.]+)/.exec(t)![1]} ${/Sampler: ([^,]+)/.exec(t)![1]}`
    );
    assertEquals(cells, ["0.5 Euler", "1 Euler", "0.5 LMS", "1 LMS"]);
    ok(
      info.infotexts[0].includes('X Type: Denoising, X Values: "0.5, 1", Y Type: Sampler'),
      info.infotexts[0],
    );
  } finally {
    await s.close();
  }
});

Deno.test("x/y/z plot input problems: 422 naming the arg, the axis and the value", opts, async () => {
  const s = await startServer({ limits: { maxImages: 6 } });
  try {
    const detail = async (body: unknown) => {
      const r = await post(`${s.url}/sdapi/v1/txt2img`, body);
      assertEquals(r.status, 422);
      return (await r.json()).detail[0] as { loc: unknown[]; msg: string };
    };
    const unsupported = await detail(payload(scriptArgs([11, "a"])));
    assertEquals(unsupported.loc, ["body", "script_args", 0]);
    ok(/11 \(Checkpoint name\) is not supported/.test(unsupported.msg), unsupported.msg);
    const zero = await detail(payload(scriptArgs([4, "2, 0"])));
    assertEquals(zero.loc, ["body", "script_args", 1]);
    ok(/X values \(Steps\): 0 must be from 1/.test(zero.msg), zero.msg);
    const sampler = await detail(payload(scriptArgs([4, "1"], [9, "Euler, Nope"])));
    assertEquals(sampler.loc, ["body", "script_args", 4]);
    ok(/Y values \(Sampler\): "Nope" is not one of/.test(sampler.msg), sampler.msg);
    const aesthetic = await detail(payload(scriptArgs([41, "1, 100000"])));
    ok(/Aesthetic steps.*100000/.test(aesthetic.msg), aesthetic.msg);
    const many = await detail(payload(scriptArgs([4, "1-4"], [6, "1, 2"])));
    ok(/number of images .* 8 is over this server's limit of 6/.test(many.msg), many.msg);
    // /script-info describes the plot's args as A1111's, types listed in index order.
    const infos = await (await fetch(`${s.url}/sdapi/v1/script-info`)).json();
    const xyz = infos.find((i: { name: string; is_img2img: boolean }) =>
      i.name === "x/y/z plot" && !i.is_img2img
    );
    assertEquals(xyz.args.length, 16);
    assertEquals([xyz.args[0].label, xyz.args[0].value], ["X type", "Seed"]);
    assertEquals([xyz.args[0].choices[9], xyz.args[0].choices[11], xyz.args[0].choices[41]], [
      "Sampler",
      "Checkpoint name",
      "Aesthetic steps",
    ]);
    assertEquals(xyz.args[12].label, "Keep -1 for seeds");
    const other = await detail({ ...payload([]), script_name: "loopback" });
    assertEquals(other.loc, ["body", "script_name"]);
  } finally {
    await s.close();
  }
});

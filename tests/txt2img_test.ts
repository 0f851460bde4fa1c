// The txt2img and img2img CLIs as subprocesses in temp folders: PNGs whose infotext reads back field for field,
// A1111 numbering, the --json report, and bad input refused with one clear line and no image written.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { readPngParameters } from "../lib/io/png.ts";
import { parseInfotext } from "../lib/io/infotext.ts";
import { loadImage } from "../lib/io/image.ts";
import { FIXTURES, MODELS } from "./fixtures.ts";
import { linkFixture } from "./lib/models/model_dirs.ts";
import { runCli } from "./run_cli.ts";

const SD1 = join(MODELS, "tiny-sd1");
const CLIP = join(MODELS, "tiny-sd1-clip");
const SMALL = ["--H", "32", "--W", "48", "--ddim_steps", "3", "--n_samples", "1", "--n_iter", "1"];

function run(cli: "txt2img" | "img2img", args: string[]) {
  return runCli(`${cli}.ts`, args);
}

async function files(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

Deno.test("txt2img writes numbered PNGs whose infotext reads back field for field, personalized", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = [
      "--prompt",
      "a (lighthouse:1.2), stormy sky",
      "--negative",
      "blurry",
      "--seed",
      "7",
      "--plms",
      "--scale",
      "5",
      ...SMALL,
      "--n_samples",
      "2",
      "--model",
      SD1,
      "--clip",
      CLIP,
      "--aesthetic_steps",
      "2",
      "--aesthetic_lr",
      "0.001",
      "--aesthetic_weight",
      "0.5",
      "--aesthetic_embedding",
      join(FIXTURES, "embeddings", "tiny-sd1-images.pt"),
      "--outdir",
      dir,
      "--json",
    ];
    const r = await run("txt2img", args);
    ok(r.code === 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assertEquals(report.images.map((i: { seed: number }) => i.seed), [7, 8]);
    assertEquals(await files(dir), ["00000-7.png", "00001-8.png"]);
    const first = report.images[0];
    assertEquals(first.path, join(dir, "00000-7.png"));
    assertEquals(first.aesthetic.similarity.length, 3); // before each of 2 steps and after the last
    ok(
      first.aesthetic.similarity[2] > first.aesthetic.similarity[0],
      `similarity did not rise: ${first.aesthetic.similarity}`,
    );
    const png = await Deno.readFile(first.path);
    const text = readPngParameters(png)!;
    assertEquals(text, first.infotext);
    const info = parseInfotext(text);
    assertEquals([info.prompt, info.negativePrompt], ["a (lighthouse:1.2), stormy sky", "blurry"]);
    const fields = Object.fromEntries(info.params);
    delete fields["Model hash"];
    // "Aesthetic text: " (empty) is written, and dropped on reading as A1111's parser drops empty values.
    ok(text.includes("Aesthetic text: ,"), "the empty aesthetic text is not written");
    assertEquals(fields, {
      "Steps": "3",
      "Sampler": "PLMS",
      "CFG scale": "5",
      "Seed": "7",
      "Size": "48x32",
      "Model": "tiny-sd1",
      "Aesthetic LR": "0.001",
      "Aesthetic weight": "0.5",
      "Aesthetic steps": "2",
      "Aesthetic embedding": "tiny-sd1-images",
      "Aesthetic slerp": "False",
      "Aesthetic text negative": "False",
      "Aesthetic slerp angle": "0.1",
    });
    ok(/^[0-9a-f]{10}$/.test(info.params.find(([k]) => k === "Model hash")![1]), "no model hash");
    const img = await loadImage(first.path);
    ok(img.ok, img.ok ? "" : img.skip.message);
    assertEquals([img.image.width, img.image.height], [48, 32]);

    // A second run continues the numbering; the same seed gives the same pixels.
    const again = await run("txt2img", args);
    ok(again.code === 0, again.stderr);
    assertEquals(await files(dir), ["00000-7.png", "00001-8.png", "00002-7.png", "00003-8.png"]);
    const same = await loadImage(join(dir, "00002-7.png"));
    assertEquals(same.ok && same.image.data, img.image.data);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("noise flags: GPU noise by default, --rng CPU, variation seeds and a schedule type in the infotext", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const base = [
      "--prompt",
      "a lighthouse",
      "--seed",
      "3",
      "--model",
      SD1,
      ...SMALL,
      "--outdir",
      dir,
      "--json",
    ];
    const fields = async (extra: string[]) => {
      const r = await run("txt2img", [...base, ...extra]);
      ok(r.code === 0, r.stderr);
      const image = JSON.parse(r.stdout).images[0];
      return {
        fields: Object.fromEntries(parseInfotext(image.infotext).params),
        pixels: await Deno.readFile(image.path),
      };
    };
    const gpu = await fields([]);
    const cpu = await fields(["--rng", "cpu"]);
    assertEquals([gpu.fields["RNG"], cpu.fields["RNG"]], [undefined, "CPU"]);
    ok(gpu.pixels.some((b, i) => b !== cpu.pixels[i]), "GPU and CPU noise gave the same image");
    const varied = await fields([
      "--subseed",
      "9",
      "--subseed_strength",
      "0.25",
      "--sampler",
      "Euler a",
      "--scheduler",
      "Karras",
      "--ensd",
      "31337",
    ]);
    assertEquals(
      [
        varied.fields["Variation seed"],
        varied.fields["Variation seed strength"],
        varied.fields["Schedule type"],
        varied.fields["ENSD"],
      ],
      ["9", "0.25", "Karras", "31337"],
    );
    // DDIM (eta 0) draws no sampler noise: A1111 does not name the ENSD then.
    assertEquals((await fields(["--ensd", "31337"])).fields["ENSD"], undefined);
    const badEnsd = await run("txt2img", [...base, "--ensd", "1.5"]);
    ok(badEnsd.code === 2 && /etaNoiseSeedDelta must be a whole number/.test(badEnsd.stderr), badEnsd.stderr);
    const bad = await run("txt2img", [...base, "--rng", "TPU"]);
    ok(bad.code === 2 && /--rng must be one of CPU, GPU, NV, got "TPU"/.test(bad.stderr), bad.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("img2img writes the denoising strength; without personalization the report says null", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await run("img2img", [
      "--prompt",
      "a lighthouse",
      "--init-img",
      join(FIXTURES, "images", "rgb.png"),
      "--strength",
      "0.5",
      "--sampler",
      "Euler a",
      ...SMALL,
      "--model",
      SD1,
      "--outdir",
      dir,
      "--json",
    ]);
    ok(r.code === 0, r.stderr);
    const [image] = JSON.parse(r.stdout).images;
    assertEquals(image.aesthetic, null);
    const fields = Object.fromEntries(parseInfotext(image.infotext).params);
    assertEquals([fields["Sampler"], fields["Denoising strength"], fields["Seed"]], ["Euler a", "0.5", "42"]);
    assertEquals(await files(dir), ["00000-42.png"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad input: one clear error each, exit code 2, no image written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const broken = await linkFixture("tiny-sd1", join(dir, "broken"));
    await Deno.remove(join(broken, "unet", "model.onnx"));
    const out = join(dir, "out");
    const base = ["--prompt", "x", ...SMALL, "--model", SD1, "--outdir", out];
    const cases: [string[], RegExp][] = [
      [["--sampler", "Heun++"], /unknown sampler "Heun\+\+"/],
      [["--W", "60"], /width must be a positive multiple of 8, got 60/],
      [["--ddim_steps", "0"], /steps must be a whole number from 1/],
      [["--model", broken], /unet\/model\.onnx is missing/],
      [
        [
          "--clip",
          CLIP,
          "--aesthetic_steps",
          "2",
          "--aesthetic_embedding",
          join(FIXTURES, "embeddings", "vitl-f32-1x768.pt"),
        ],
        /embedding has 768 dimensions but the CLIP pair .* expects 16/,
      ],
      [["--plms", "--ddim"], /--plms and --ddim cannot both be given/],
      [["--scale", "lots"], /--scale must be a number, got "lots"/],
    ];
    for (const [extra, message] of cases) {
      const r = await run("txt2img", [...base, ...extra]);
      ok(r.code === 2 && message.test(r.stderr), `${extra.join(" ")}: exit ${r.code}, stderr ${r.stderr}`);
    }
    const noInit = await run("img2img", base);
    ok(noInit.code === 2 && /--init-img FILE is required/.test(noInit.stderr), noInit.stderr);
    const badInit = await run("img2img", [...base, "--init-img", join(dir, "missing.png")]);
    ok(
      badInit.code === 2 && /--init-img .*missing\.png: cannot read the file/.test(badInit.stderr),
      badInit.stderr,
    );
    const written = await files(out).catch(() => []);
    assertEquals(written, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// deno task demo-images as a user runs it: seeded folders of PNGs with their captions, bad flags refused.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { join } from "node:path";
import { loadImage } from "../lib/io/image.ts";
import type { CaptionRecord } from "../lib/demo/dataset.ts";
import { isHeldOut } from "../lib/demo/world.ts";
import { runCli } from "./run_cli.ts";

async function readRecords(path: string): Promise<CaptionRecord[]> {
  return (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
}

Deno.test("demo-images writes N seeded 64×64 PNGs of the asked style and their captions", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = (out: string) => [
      "--style",
      "pastel",
      "--count",
      "6",
      "--out",
      join(dir, out),
      "--seed",
      "3",
      "--colors",
      "red,orange",
      "--split",
      "held-out",
      "--captions",
      join(dir, `${out}.jsonl`),
    ];
    const run = await runCli("demo_images.ts", args("a"));
    assertEquals(run.code, 0, run.stderr);
    const files = [...Deno.readDirSync(join(dir, "a"))].map((e) => e.name).sort();
    assertEquals(files, ["00000.png", "00001.png", "00002.png", "00003.png", "00004.png", "00005.png"]);
    const records = await readRecords(join(dir, "a.jsonl"));
    assertEquals(records.map((r) => r.file), files);
    for (const r of records) {
      assert(r.style === "pastel" && ["red", "orange"].includes(r.color) && isHeldOut(r.color, r.shape));
      const img = await loadImage(join(dir, "a", r.file));
      assert(img.ok && img.image.width === 64 && img.image.height === 64);
    }
    // The same seed makes the same bytes.
    assertEquals((await runCli("demo_images.ts", args("b"))).code, 0);
    for (const f of files) {
      assertEquals(await Deno.readFile(join(dir, "b", f)), await Deno.readFile(join(dir, "a", f)));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("demo-images refuses bad flags with exit code 2 and names the problem", async () => {
  const cases: [string[], string][] = [
    [["--count", "3"], "--out DIR is required"],
    [["--out", "x", "--count", "0"], "--count must be a whole number ≥ 1"],
    [["--out", "x", "--count", "2", "--style", "cubist"], 'unknown "cubist"'],
    [["--out", "x", "--count", "2", "--shapes", "hexagon"], 'unknown "hexagon"'],
    [["--out", "x", "--count", "2", "--split", "test"], "--split must be one of"],
    [["--out", "x", "--count", "2", "--style", "neon", "--colors", "black"], "no scene fits"],
    [["--out", "x", "--count", "2", "--bogus"], "bogus"],
  ];
  for (const [args, message] of cases) {
    const run = await runCli("demo_images.ts", args);
    assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert(run.stderr.includes(message), `${args.join(" ")}: ${run.stderr}`);
  }
});

// deno task eval at CI's small size on the embedded demo world (the default model and embedding): 2 prompts × 1 seed × steps 0,5, with the demo
// checker and a predictor; its outputs are checked, and bad flags are refused.
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert";
import { join } from "node:path";
import sharp from "sharp";
import type { EvalReport } from "../lib/eval/run.ts";
import { writeSafetensors } from "../lib/io/safetensors.ts";
import { runCli } from "./run_cli.ts";

Deno.test("eval writes a row per prompt × seed × steps, a summary per steps value, a contact sheet and a chart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "prompts.txt"), "a red star on a white background\n\na blue ring\n");
    const w = Float32Array.from({ length: 32 }, (_, i) => (i % 3) - 1);
    await Deno.writeFile(
      join(dir, "predictor.safetensors"),
      writeSafetensors([{ name: "weight", data: w, shape: [1, 32], dtype: "float32" }]),
    );
    const out = join(dir, "out");
    const run = await runCli("eval.ts", [
      ...["--prompts", join(dir, "prompts.txt"), "--seeds", "3", "--steps", "5,0", "--lr", "0.001"],
      ...["--size", "32", "--sampling-steps", "3", "--checker", "demo", "--out", out, "--json"],
      ...["--predictor", join(dir, "predictor.safetensors")],
    ]);
    assertEquals(run.code, 0, run.stderr);
    const printed: EvalReport = JSON.parse(run.stdout);
    const report: EvalReport = JSON.parse(await Deno.readTextFile(join(out, "report.json")));
    assertEquals(printed, report);
    assertEquals(report.settings.steps, [0, 5]);
    assertEquals(report.rows.map((r) => [r.prompt, r.seed, r.steps]), [
      ["a red star on a white background", 3, 0],
      ["a red star on a white background", 3, 5],
      ["a blue ring", 3, 0],
      ["a blue ring", 3, 5],
    ]);
    for (const r of report.rows) {
      const img = await sharp(join(out, r.image)).metadata();
      assert(img.width === 32 && img.height === 32);
      for (const v of [r.aesthetic_similarity, r.prompt_similarity, r.text_similarity, r.predictor!]) {
        assert(Number.isFinite(v) && Math.abs(v) <= 1 + 1e-6 || v === r.predictor);
      }
      assert(r.demo !== undefined && (r.steps === 0) === (r.demo.toward === undefined));
    }
    // "a blue ring" has a color to check; a prompt with none would be null.
    assert(report.rows.every((r) => typeof r.demo!.color_right === "boolean"));
    // Personalization moved the text toward the aesthetic: the optimization's own measure rises with the steps.
    for (const p of [0, 2]) assert(report.rows[p + 1].text_similarity > report.rows[p].text_similarity);
    assertEquals(report.summary.map((s) => s.steps), [0, 5]);
    for (const s of report.summary) {
      const m = s.measures.aesthetic_similarity;
      assert(m.n === 2 && m.low <= m.mean && m.mean <= m.high);
      assert(s.measures["demo.color_right"].n === 2 && s.measures.predictor.n === 2);
    }
    assert(report.summary[1].measures["demo.toward.pastel"].n === 2);
    const sheet = await sharp(join(out, "contact_sheet.png")).metadata();
    assert(sheet.height! > 2 * 128 && sheet.width! > 2 * 128, `${sheet.width}×${sheet.height}`);
    const chart = await sharp(join(out, "chart.png")).metadata();
    assert(chart.width! > 0 && chart.format === "png");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval refuses bad flags with exit code 2 and names the problem", async () => {
  const cases: [string[], string][] = [
    [["--steps", "0,x"], "--steps must be a comma-separated list of whole numbers"],
    [["--seeds", "1.5"], "--seeds must be"],
    [["--checker", "clip"], "--checker must be demo"],
    [["--predictor", "README.md"], "a predictor is a .pth, .pt or .safetensors state dict"],
    [["--size", "36", "--steps", "0", "--seeds", "1"], "width"],
    [["--nope"], "nope"],
  ];
  const dir = await Deno.makeTempDir();
  try {
    for (const [args, message] of cases) {
      const run = await runCli("eval.ts", [...args, "--out", join(dir, "out")]);
      assertEquals(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert(run.stderr.includes(message), `${args.join(" ")}: ${run.stderr}`);
    }
    assertEquals([...Deno.readDirSync(dir)], [], "nothing is written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

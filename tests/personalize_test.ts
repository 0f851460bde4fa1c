// The personalize CLI, run as a user would.
import { ok } from "node:assert";
import { join } from "node:path";
import { FIXTURES, MODELS } from "./fixtures.ts";
import { TINY_DEMO_EMBEDDING } from "../lib/models/defaults.ts";
import { runCli } from "./run_cli.ts";

function run(args: string[]) {
  return runCli("personalize.ts", args);
}

const base = [
  "--model",
  join(MODELS, "tiny-sd1"),
  "--clip",
  join(MODELS, "tiny-sd1-clip"),
  "--prompt",
  "a painting of a lighthouse",
];

Deno.test("personalize --json reports the similarity at each step and the conditioning change", async () => {
  const r = await run([
    ...base,
    "--embedding",
    join(FIXTURES, "embeddings", "tiny-sd1-images.pt"),
    "--steps",
    "4",
    "--lr",
    "1e-3",
    "--json",
  ]);
  ok(r.code === 0, r.stderr);
  const report = JSON.parse(r.stdout);
  ok(report.similarity.length === 5, `expected 5 similarities: ${r.stdout}`);
  ok(report.similarity[4] > report.similarity[0], "similarity did not rise");
  ok(report.conditioning_delta_l2 > 0, "conditioning did not change");
  ok(report.dims.embedding === 16 && report.dims.hidden === 16, `dims ${JSON.stringify(report.dims)}`);
});

Deno.test("personalize names both dimensions when the embedding does not fit the CLIP pair", async () => {
  const r = await run([...base, "--embedding", join(FIXTURES, "embeddings", "vitl-f16-768.pt")]);
  ok(
    r.code !== 0 && /embedding has 768 dimensions but the CLIP pair .* expects 16/.test(r.stderr),
    `${r.code} ${r.stderr}`,
  );
});

Deno.test("with --steps 0, personalize reports the starting similarity and changes nothing", async () => {
  const r = await run(["--prompt", "a cat", "--steps", "0", "--json"]);
  ok(r.code === 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const two = JSON.parse((await run(["--prompt", "a cat", "--steps", "2", "--json"])).stdout);
  // The forward graph and the gradient graph compute it in a different order: equal to float32 rounding.
  ok(
    report.similarity.length === 1 && !(Math.abs(report.similarity[0] - two.similarity[0]) > 1e-6),
    `${r.stdout} vs ${JSON.stringify(two.similarity)}`,
  );
  ok(report.conditioning_delta_l2 === 0, r.stdout);
});

Deno.test("personalize refuses negative steps", async () => {
  const r = await run([
    ...base,
    "--embedding",
    join(FIXTURES, "embeddings", "tiny-sd1-images.pt"),
    "--steps=-2",
  ]);
  ok(r.code !== 0 && /--steps must be a whole number/.test(r.stderr), r.stderr);
});

Deno.test("with no model given, personalize runs on the embedded demo; a model's matching pair is found", async () => {
  const demo = await run(["--prompt", "a cat", "--steps", "2", "--json"]);
  ok(demo.code === 0, demo.stderr);
  ok(JSON.parse(demo.stdout).similarity.length === 3, demo.stdout);
  // tiny-sd2's sibling tiny-sd2-clip is the only pair of its width: chosen without --clip.
  const sd2 = await run([
    "--prompt",
    "a castle",
    "--model",
    join(MODELS, "tiny-sd2"),
    ...["--embedding", TINY_DEMO_EMBEDDING],
    "--steps",
    "1",
    "--json",
  ]);
  ok(sd2.code === 0, sd2.stderr);
  ok(JSON.parse(sd2.stdout).dims.hidden === 12, sd2.stdout);
});

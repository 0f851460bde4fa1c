// The import benchmark's plumbing on the tiny fixture: each round a fresh process importing into an empty
// folder, measures read back, the report's rows and verdicts (the timing itself is never asserted).
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { importReport, importRounds } from "../../bench/import_bench.ts";
import { FIXTURES, MODELS } from "../fixtures.ts";

Deno.test("bench import: rounds in fresh processes, measured and reported against the targets", async () => {
  const file = join(FIXTURES, "single_file", "tiny-sd1.safetensors");
  const work = await Deno.makeTempDir({ prefix: "bench-import-test-" });
  try {
    const runs = await importRounds(file, {
      rounds: 2,
      config: join(MODELS, "tiny-sd1-torch"),
      workDir: work,
    });
    assertEquals(runs.length, 2);
    for (const r of runs) {
      ok(r.import_s > 0 && r.process_s >= r.import_s, JSON.stringify(r));
      ok(r.peak_rss_mb > 10, JSON.stringify(r));
      assertEquals(r.file_mb, Deno.statSync(file).size / 2 ** 20);
    }
    assertEquals([...Deno.readDirSync(work)], []); // each round's folder is removed
    const report = importReport(runs);
    ok(report.includes("| import wall time (s), hashing included |"), report);
    ok(report.includes("| peak memory / file size |"), report);
    ok(/time target met, memory target NOT met/.test(report), report); // a 2 MB file: the runtime dominates
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

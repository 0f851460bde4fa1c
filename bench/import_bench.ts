// `deno task bench import`: imports a real-size SD 1.5 single file several times, each in a fresh process into
// an empty folder, and reports the import's time and peak memory against the targets (under 60 s,
// under 1.5× the file's size).
import { join } from "node:path";
import { runJson } from "./run_json.ts";
import { cell, type Measures, median, ratios, table } from "./stats.ts";

const root = join(import.meta.dirname!, "..");

export interface ImportBenchOptions {
  rounds: number;
  /** A diffusers folder for what the file cannot say (the tiny fixtures need it; real SD 1.5 does not). */
  config?: string;
  /** Where the imported folders go (one per round, removed after it); default the system's temp folder. */
  workDir?: string;
}

/** Runs the rounds; each imports `file` afresh in its own process (bench/import_run.ts). */
export async function importRounds(file: string, opts: ImportBenchOptions): Promise<Measures[]> {
  const runs: Measures[] = [];
  for (let round = 0; round < opts.rounds; round++) {
    const dir = await Deno.makeTempDir({ prefix: "bench_import_", dir: opts.workDir });
    try {
      const args = ["run", "--frozen", "-A", join(root, "bench", "import_run.ts"), file, dir];
      runs.push(await runJson(Deno.execPath(), opts.config ? [...args, opts.config] : args));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
  return runs;
}

/** The Markdown table of the rounds: median (min–max) of each measure, with the targets. */
export function importReport(runs: Measures[]): string {
  const col = (key: string) => runs.map((r) => r[key]);
  const fileMb = median(col("file_mb"));
  const peakRatio = ratios(col("peak_rss_mb"), col("file_mb"));
  const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
  return table(["measure", "value", "target"], [
    ["file size (MB)", fileMb.toFixed(0), ""],
    ["import wall time (s), hashing included", cell(col("import_s"), 1), "< 60"],
    ["whole process, start to imported (s)", cell(col("process_s"), 1), ""],
    ["peak resident memory (MB)", cell(col("peak_rss_mb"), 0), ""],
    ["peak memory / file size", cell(peakRatio, 2), "< 1.50"],
  ]) +
    `\ntime target ${verdict(median(col("import_s")) < 60)}, memory target ${
      verdict(median(peakRatio) < 1.5)
    } (medians)`;
}

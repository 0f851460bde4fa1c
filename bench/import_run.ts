// One measured single-file import in its own process, as `deno task models import FILE` runs it: the import's
// wall time (hashing included), the whole process's, and the peak resident memory.
// Usage: import_run.ts FILE MODELS_DIR [CONFIG_DIR] → one JSON line.
import { importSingleFile } from "../lib/models/single_file/import.ts";
import { processAgeS } from "./process_age.ts";

const [file, modelsDir, config] = Deno.args;
const started = performance.now();
await importSingleFile(file, { modelsDir, name: "bench", config });
const importS = (performance.now() - started) / 1000;
const peakKb = Number(/VmHWM:\s+(\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]);
console.log(JSON.stringify({
  import_s: importS,
  process_s: processAgeS(),
  peak_rss_mb: peakKb / 1024,
  file_mb: Deno.statSync(file).size / 2 ** 20,
}));

import { deepStrictEqual as assertEquals } from "node:assert";
import { formatDuration, formatProgress } from "../../../lib/embed/progress_bar.ts";

Deno.test("formatProgress shows the bar, counts, rate and ETA", () => {
  const line = formatProgress(
    { done: 5, total: 10, used: 4, skipped: 1, elapsedSeconds: 2, imagesPerSecond: 2.5, etaSeconds: 2 },
    10,
  );
  assertEquals(line, "[#####-----] 5/10, 1 skipped  2.5 img/s  ETA 0:02");
  assertEquals(formatDuration(3725), "1:02:05");
  assertEquals(formatDuration(Infinity), "?");
});

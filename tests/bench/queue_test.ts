// The queue benchmark's plumbing at the smallest size: every side runs, and each cell is a number in the table.
// (Timings are not checked here: they are measured by `deno task bench queue` on a quiet machine.)
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { queueBench } from "../../bench/queue.ts";
import { redisMissing } from "../lib/queue/redis_server.ts";

Deno.test("bench queue: in-process, 1 and 2 workers, first-step time and throughput per round", {
  ignore: redisMissing !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const r = await queueBench({ rounds: 1, latencyJobs: 1, burstJobs: 2, steps: 20 });
  assertEquals(Object.keys(r.runs), ["in-process", "1 worker", "2 workers"]);
  for (const runs of Object.values(r.runs)) {
    assertEquals(runs.length, 1);
    ok(runs[0].first_step_s > 0 && runs[0].jobs_per_s > 0, JSON.stringify(runs));
  }
  const lines = r.table.split("\n");
  assertEquals(lines.length, 6, r.table);
  ok(lines[0].includes("queue, 2 workers") && lines[3].includes("queue overhead per job"), r.table);
  ok(!r.table.includes("NaN"), r.table);
});

// every(): a tick is skipped while the previous run is still going, and a run's error does not stop the timer.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { every } from "../../../lib/queue/every.ts";

Deno.test("every: no overlapping runs; errors dropped, the timer goes on", async () => {
  let running = 0;
  let most = 0;
  let runs = 0;
  const stop = every(2, async () => {
    runs++;
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 15));
    running--;
    if (runs === 1) throw new Error("a failing run");
  });
  const deadline = Date.now() + 10_000;
  while (runs < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  stop();
  ok(runs >= 3, `ran ${runs} times`);
  assertEquals(most, 1, "one run at a time");
});

// watchLinks(): stuck links (renewals failing or hanging while Redis answers) are rebuilt once, after the stall
// time; failing renewals while Redis itself is down rebuild nothing; settlesWithin() tells a hang from success.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { settlesWithin, watchLinks } from "../../../lib/queue/watchdog.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond() && Date.now() < deadline) await sleep(2);
}

Deno.test("settlesWithin: success, rejection and a hang", async () => {
  assertEquals(await settlesWithin(Promise.resolve(1), 50), true);
  assertEquals(await settlesWithin(Promise.reject(new Error("down")), 50), false);
  assertEquals(await settlesWithin(new Promise(() => {}), 20), false);
});

Deno.test("watchLinks: healthy renewals never rebuild", async () => {
  let renewals = 0;
  let rebuilds = 0;
  const stop = watchLinks({
    renew: () => (renewals++, Promise.resolve()),
    reachable: () => Promise.resolve(true),
    rebuild: () => (rebuilds++, Promise.resolve()),
    intervalMs: 2,
    stallMs: 10,
  });
  await until(() => renewals >= 20);
  stop();
  ok(renewals >= 20, `renewed ${renewals} times`);
  assertEquals(rebuilds, 0);
});

Deno.test("watchLinks: hanging renewals while Redis answers rebuild the links once, after the stall time", async () => {
  let stuck = true;
  let rebuilds = 0;
  const start = performance.now();
  let rebuiltAfter = 0;
  const stop = watchLinks({
    renew: () => stuck ? new Promise(() => {}) : Promise.resolve(),
    reachable: () => Promise.resolve(true),
    rebuild: () => {
      rebuilds++;
      rebuiltAfter = performance.now() - start;
      stuck = false; // the new links work
      return Promise.resolve();
    },
    intervalMs: 5,
    stallMs: 40,
  });
  await until(() => rebuilds > 0);
  await sleep(100); // healthy again: no second rebuild
  stop();
  assertEquals(rebuilds, 1);
  ok(rebuiltAfter >= 40, `rebuilt after ${rebuiltAfter.toFixed(0)} ms, before the stall time`);
});

Deno.test("watchLinks: failing renewals while Redis is down rebuild nothing", async () => {
  let renewals = 0;
  let probes = 0;
  let rebuilds = 0;
  const stop = watchLinks({
    renew: () => (renewals++, Promise.reject(new Error("Connection is closed"))),
    reachable: () => (probes++, Promise.resolve(false)),
    rebuild: () => (rebuilds++, Promise.resolve()),
    intervalMs: 2,
    stallMs: 10,
  });
  await until(() => probes >= 5);
  stop();
  ok(probes >= 5, `probed ${probes} times`);
  assertEquals(rebuilds, 0);
});

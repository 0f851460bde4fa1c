import { deepStrictEqual as assertEquals, rejects, throws } from "node:assert";
import { JobQueue, QueueClosedError } from "../../../lib/server/job_queue.ts";
import { Unavailable } from "../../../lib/server/unavailable.ts";

/** A job the test finishes by hand (the queue's test double for a generation). */
function gate<T>() {
  let open!: (v: T) => void;
  let fail!: (e: Error) => void;
  const p = new Promise<T>((res, rej) => {
    open = res;
    fail = rej;
  });
  return { p, open, fail };
}

Deno.test("jobs run one at a time, first in first out", async () => {
  const q = new JobQueue();
  const log: string[] = [];
  let active = 0;
  let maxActive = 0;
  const jobs = Array.from({ length: 20 }, (_, i) =>
    q.enqueue(async (id) => {
      active++;
      maxActive = Math.max(maxActive, active);
      log.push(`start ${i}`);
      await new Promise((r) => setTimeout(r, (20 - i) % 3));
      log.push(`end ${i}`);
      active--;
      return id;
    }));
  const ids = await Promise.all(jobs.map((j) => j.result));
  assertEquals(ids, jobs.map((j) => j.id));
  assertEquals(ids, Array.from({ length: 20 }, (_, i) => i + 1));
  assertEquals(maxActive, 1);
  assertEquals(log, Array.from({ length: 20 }, (_, i) => [`start ${i}`, `end ${i}`]).flat());
});

Deno.test("positions count the running job as 0 and drop finished jobs", async () => {
  const q = new JobQueue();
  const a = gate<string>();
  const b = gate<string>();
  const ja = q.enqueue(() => a.p);
  const jb = q.enqueue(() => b.p);
  const jc = q.enqueue(() => Promise.resolve("c"));
  assertEquals([q.position(ja.id), q.position(jb.id), q.position(jc.id)], [0, 1, 2]);
  assertEquals([q.running, q.pending], [ja.id, 2]);
  a.open("a");
  assertEquals(await ja.result, "a");
  await Promise.resolve();
  assertEquals([q.position(ja.id), q.position(jb.id), q.position(jc.id)], [undefined, 0, 1]);
  b.open("b");
  assertEquals(await jc.result, "c");
  await q.idle();
  assertEquals([q.running, q.pending], [undefined, 0]);
});

Deno.test("a failing job rejects only its own result", async () => {
  const q = new JobQueue();
  const bad = q.enqueue(() => Promise.reject(new Error("boom")));
  const sync = q.enqueue(() => {
    throw new Error("thrown synchronously");
  });
  const good = q.enqueue(() => Promise.resolve(7));
  await rejects(bad.result, /boom/);
  await rejects(sync.result, /thrown synchronously/);
  assertEquals(await good.result, 7);
});

Deno.test("close rejects the waiting jobs, lets the running one finish, refuses new ones", async () => {
  const q = new JobQueue();
  const a = gate<number>();
  const running = q.enqueue(() => a.p);
  const waiting = q.enqueue(() => Promise.resolve(2));
  q.close();
  await rejects(waiting.result, QueueClosedError);
  await rejects(waiting.result, Unavailable, "the API answers it 503, not 500");
  throws(() => q.enqueue(() => Promise.resolve(3)), QueueClosedError);
  a.open(1);
  assertEquals(await running.result, 1);
  await q.idle();
});

Deno.test("idle resolves at once on an empty queue", async () => {
  await new JobQueue().idle();
});

// TaskRegistry: a waiting task's place (this server's count, or the shared queue's when lib/queue gives one),
// and one task's snapshot as /sdapi/v1/progress?id_task= answers it.
import { deepStrictEqual as assertEquals } from "node:assert";
import { TaskRegistry } from "../../../lib/server/tasks.ts";

Deno.test("TaskRegistry: a waiting task's place, counted here or given by a shared queue", () => {
  const tasks = new TaskRegistry();
  const running = tasks.create("task(a)");
  running.phase = "running";
  running.state.begin("scripts_txt2img", 1, 10);
  const waiting = tasks.create("task(b)");
  assertEquals(tasks.progress("task(b)").textinfo, "In queue: 1 ahead");
  // A shared queue (two workers busy, one job before it) knows better than this server.
  waiting.ahead = 3;
  waiting.waitingFor = "no worker has the model m yet";
  const p = tasks.progress("task(b)");
  assertEquals([p.queue_position, p.textinfo], [3, "In queue: 3 ahead; no worker has the model m yet"]);
  assertEquals(tasks.snapshot("task(b)")!.textinfo, "In queue: 3 ahead; no worker has the model m yet");
  running.state.setStep(5);
  assertEquals(tasks.snapshot("task(a)")!.progress, 0.5);
  assertEquals(tasks.snapshot("task(none)"), undefined);
  tasks.finish(running);
  assertEquals(tasks.snapshot("task(a)")!.progress, 1);
});

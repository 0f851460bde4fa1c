// A1111's per-task endpoints: each job is followed and stopped by its own task id (force_task_id).
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import type { TaskProgress } from "../../lib/server/tasks.ts";
import { post, startServer } from "./server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

function job(id: string, steps: number, size = 256) {
  return { prompt: "a lighthouse", steps, width: size, height: size, seed: 1, force_task_id: id };
}

async function progress(url: string, id: string, previewId = -1): Promise<TaskProgress> {
  return await (await post(`${url}/internal/progress`, { id_task: id, id_live_preview: previewId })).json();
}

Deno.test(
  "two jobs: each task sees its own progress and queue place; interrupt reaches only its task",
  opts,
  async () => {
    const s = await startServer();
    try {
      const a = post(`${s.url}/sdapi/v1/txt2img`, job("task(a)", 150));
      let pa = await progress(s.url, "task(a)");
      for (let i = 0; i < 400 && !(pa.active && pa.sampling_step >= 1); i++) {
        await new Promise((r) => setTimeout(r, 10));
        pa = await progress(s.url, "task(a)");
      }
      ok(pa.active && pa.sampling_steps === 150, JSON.stringify(pa));
      const b = post(`${s.url}/sdapi/v1/txt2img`, job("task(b)", 2, 64));
      let pb = await progress(s.url, "task(b)");
      for (let i = 0; i < 100 && !pb.queued; i++) pb = await progress(s.url, "task(b)");
      assertEquals([pb.queued, pb.active, pb.queue_position, pb.textinfo], [
        true,
        false,
        1,
        "In queue: 1 ahead",
      ]);
      assertEquals((await progress(s.url, "task(unknown)")).textinfo, "Waiting...");

      // A preview already seen is not sent again. Previews come in messages of their own once their PNG is
      // encoded, so under load the first may take a while: wait up to 20 s, not a number of polls.
      for (const end = Date.now() + 20_000; !pa.live_preview && Date.now() < end;) {
        await new Promise((r) => setTimeout(r, 20));
        pa = await progress(s.url, "task(a)");
      }
      ok(pa.live_preview?.startsWith("data:image/png;base64,"), "a live preview of task a");
      const again = await progress(s.url, "task(a)", pa.id_live_preview);
      ok(again.live_preview === null || again.id_live_preview !== pa.id_live_preview);

      // A second job with a task id in use is refused, naming the field.
      const dup = await post(`${s.url}/sdapi/v1/txt2img`, job("task(a)", 1, 64));
      assertEquals(dup.status, 422);
      assertEquals((await dup.json()).detail[0].loc, ["body", "force_task_id"]);

      assertEquals(await (await post(`${s.url}/internal/interrupt`, { id_task: "task(a)" })).json(), {
        found: true,
      });
      const ra = JSON.parse((await (await a).json()).info);
      const rb = JSON.parse((await (await b).json()).info);
      assertEquals(ra.interrupted, true);
      ok(ra.steps_done < 150);
      assertEquals([rb.interrupted, rb.steps_done, rb.all_seeds.length], [false, 2, 1], "task b ran whole");
      assertEquals((await progress(s.url, "task(b)")).completed, true);
    } finally {
      await s.close();
    }
  },
);

Deno.test("a task interrupted while it waits never renders", opts, async () => {
  const s = await startServer();
  try {
    const a = post(`${s.url}/sdapi/v1/txt2img`, job("task(first)", 30));
    let pa = await progress(s.url, "task(first)");
    for (let i = 0; i < 400 && !pa.active; i++) pa = await progress(s.url, "task(first)");
    const b = post(`${s.url}/sdapi/v1/txt2img`, job("task(second)", 3, 64));
    let pb = await progress(s.url, "task(second)");
    for (let i = 0; i < 400 && !pb.queued; i++) pb = await progress(s.url, "task(second)");
    await post(`${s.url}/internal/interrupt`, { id_task: "task(second)" });
    const rb = JSON.parse((await (await b).json()).info);
    assertEquals([rb.interrupted, rb.all_seeds], [true, []]);
    assertEquals(JSON.parse((await (await a).json()).info).interrupted, false, "the running job went on");
  } finally {
    await s.close();
  }
});

Deno.test("skip abandons only the current image: the next one runs", opts, async () => {
  const s = await startServer();
  try {
    // The first image alone would take minutes: only a skip brings the job to its second image in time.
    const a = post(`${s.url}/sdapi/v1/txt2img`, { ...job("task(skip1)", 1000), n_iter: 2 });
    let pa = await progress(s.url, "task(skip1)");
    for (let i = 0; i < 2000 && !(pa.active && pa.sampling_step >= 1); i++) {
      pa = await progress(s.url, "task(skip1)");
    }
    await post(`${s.url}/sdapi/v1/skip`, {});
    let state = (await (await fetch(`${s.url}/sdapi/v1/progress`)).json()).state;
    for (let i = 0; i < 2000 && !(state.job_no === 1 && state.sampling_step >= 2); i++) {
      await new Promise((r) => setTimeout(r, 10));
      state = (await (await fetch(`${s.url}/sdapi/v1/progress`)).json()).state;
    }
    assertEquals([state.job, state.job_no], ["scripts_txt2img", 1], "the second image runs");
    await post(`${s.url}/internal/interrupt`, { id_task: "task(skip1)" });
    assertEquals(JSON.parse((await (await a).json()).info).interrupted, true);
  } finally {
    await s.close();
  }
});

// serve --queue with deno task worker processes, against a real redis-server on a loopback port: thirty jobs
// from concurrent clients complete exactly once each with the images one process makes, even with a worker
// killed mid-job (the other runs its job again with the same seeds); interrupt reaches the worker that runs the
// job; each waiting job says its place in its model's queue; a job for a model no worker holds waits, saying so.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { join } from "node:path";
import { Queue, QueueEvents } from "bullmq";
import { TINY_DEMO_CLIP_DIR, TINY_DEMO_MODEL_DIR } from "../../../lib/models/defaults.ts";
import { connect, disconnect, parseRedisUrl } from "../../../lib/queue/redis.ts";
import {
  queueName,
  type WireEmbedResult,
  type WireProgress,
  type WireResult,
} from "../../../lib/queue/wire.ts";
import { readEmbedding } from "../../../lib/io/embedding.ts";
import { makeEmbedding } from "../../../lib/embed/make_embedding.ts";
import type { TaskProgress } from "../../../lib/server/tasks.ts";
import { post, startServer, type TestServer } from "../../routes/server.ts";
import { FIXTURES } from "../../fixtures.ts";
import { redisMissing, startRedis, startWorker, type WorkerProcess } from "./redis_server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, ignore: redisMissing !== undefined };

interface Answer {
  images: string[];
  info: string;
}

function job(seed: number, extra: Record<string, unknown> = {}) {
  return { prompt: "a lighthouse at dusk", seed, steps: 3, width: 64, height: 64, ...extra };
}

const AESTHETIC = {
  alwayson_scripts: {
    "Aesthetic embeddings": { args: [0.9, 2, 0.0001, false, "tiny-demo", "", 0.1, false] },
  },
};
/** Long enough to be caught mid-job on a busy machine. */
const LONG = { steps: 120, width: 192, height: 192 };

async function txt2img(url: string, body: unknown): Promise<Answer> {
  const r = await post(`${url}/sdapi/v1/txt2img`, body);
  if (r.status !== 200) throw new Error(`txt2img answered ${r.status}: ${await r.text()}`);
  return await r.json();
}

async function progress(url: string, id: string): Promise<TaskProgress> {
  return await (await post(`${url}/internal/progress`, { id_task: id })).json();
}

async function until<T>(what: string, probe: () => Promise<T>, good: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const v = await probe();
    if (good(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Models folders by links: the server knows the demo and tiny-sd1; the workers hold only the demo. */
async function modelsDirs(root: string): Promise<{ server: string; workers: string }> {
  const server = join(root, "server-models");
  const workers = join(root, "worker-models");
  for (const dir of [server, workers]) {
    await Deno.mkdir(dir);
    await Deno.symlink(TINY_DEMO_MODEL_DIR, join(dir, "tiny-demo"));
    await Deno.symlink(TINY_DEMO_CLIP_DIR, join(dir, "tiny-demo-clip"));
  }
  await Deno.symlink(join(FIXTURES, "models", "tiny-sd1"), join(server, "tiny-sd1"));
  return { server, workers };
}

Deno.test("serve --queue with two workers on a real redis-server", opts, async (t) => {
  const root = await Deno.makeTempDir({ prefix: "queue-test-" });
  const dirs = await modelsDirs(root);
  // Thirty jobs: plain, personalized (the embedding travels in the job), batches and batch counts; the first is
  // long enough that the worker running it can be killed mid-job.
  const variants = [{}, AESTHETIC, { batch_size: 2 }, AESTHETIC, { n_iter: 2 }, {}];
  const requests = Array.from(
    { length: 30 },
    (_, i) => job(11 + i, i === 0 ? LONG : variants[i % variants.length]),
  );

  // The reference: the same requests in one process.
  const single = await startServer({ modelsDir: dirs.server, model: "tiny-demo" });
  const reference: Answer[] = [];
  try {
    for (const r of requests) reference.push(await txt2img(single.url, r));
  } finally {
    await single.close();
  }

  const redis = await startRedis();
  const workers: WorkerProcess[] = [];
  let server: TestServer | undefined;
  const client = connect(parseRedisUrl(redis.url));
  const demoQueue = new Queue(queueName("tiny-demo"), { connection: connect(parseRedisUrl(redis.url)) });
  try {
    // A short lock, so a killed worker's job is taken over within seconds; not shorter, or a loaded machine
    // that holds a worker back a few seconds makes its job look stalled (twice: then it fails).
    for (let i = 0; i < 2; i++) {
      workers.push(await startWorker(redis.url, dirs.workers, ["--lock-ms", "6000"]));
    }
    server = await startServer({ modelsDir: dirs.server, model: "tiny-demo", queue: redis.url });
    const url = server.url;
    const sdProgress = async (id: string) =>
      await (await fetch(`${url}/sdapi/v1/progress?id_task=${encodeURIComponent(id)}`)).json();

    await t.step("workers announce the models they hold", async () => {
      const keys = (await client.keys("ag:worker:*")).sort();
      assertEquals(keys.length, 2);
      for (const v of await client.mget(...keys)) assertEquals(JSON.parse(v!).models, ["tiny-demo"]);
    });

    await t.step(
      "interrupt reaches the worker that runs the job; progress and queue position follow each job",
      async () => {
        const a = txt2img(url, { ...job(31, LONG), force_task_id: "task(qa)" });
        const b = txt2img(url, { ...job(32, LONG), force_task_id: "task(qb)" });
        await until("both jobs to run", async () => {
          const [pa, pb] = [await progress(url, "task(qa)"), await progress(url, "task(qb)")];
          return pa.active && pa.sampling_step >= 1 && pb.active && pb.sampling_step >= 1;
        }, Boolean);
        // Both workers are busy: a third job has the two running jobs before it, wherever they run.
        const c = txt2img(url, { ...job(33), force_task_id: "task(qc)" });
        const pc = await until(
          "the third job's place",
          () => progress(url, "task(qc)"),
          (p) => p.textinfo === "In queue: 2 ahead",
        );
        assertEquals([pc.queued, pc.queue_position], [true, 2]);
        assertEquals((await sdProgress("task(qc)")).textinfo, "In queue: 2 ahead");
        const sd = await (await fetch(`${url}/sdapi/v1/progress`)).json();
        ok(sd.progress > 0 && sd.state.job === "scripts_txt2img", JSON.stringify(sd.state));
        const pa = await progress(url, "task(qa)");
        assertEquals(pa.sampling_steps, LONG.steps);
        const preview = await until(
          "a live preview",
          () => progress(url, "task(qa)"),
          (p) => p.live_preview !== null,
        );
        ok(preview.live_preview!.startsWith("data:image/png;base64,"));
        const sa = await sdProgress("task(qa)");
        ok(sa.state.sampling_steps === LONG.steps && sa.progress > 0, JSON.stringify(sa.state));
        assertEquals(await (await post(`${url}/internal/interrupt`, { id_task: "task(qa)" })).json(), {
          found: true,
        });
        const [ra, rb] = [JSON.parse((await a).info), JSON.parse((await b).info)];
        assertEquals(ra.interrupted, true);
        ok(ra.steps_done < LONG.steps, `stopped early (${ra.steps_done})`);
        assertEquals(
          [rb.interrupted, rb.steps_done],
          [false, LONG.steps],
          "the other worker's job ran whole",
        );
        assertEquals(JSON.parse((await c).info).steps_done, 3, "the waiting job ran after them");
        const unknown = await fetch(`${url}/sdapi/v1/progress?id_task=task(none)`);
        assertEquals(unknown.status, 422);
        await unknown.body?.cancel();
      },
    );
    await t.step("skip reaches the worker: it moves on to the next image", async () => {
      // The first image alone would take minutes: only a skip brings the job to its second image in time.
      const body = {
        ...job(51, { steps: 1000, width: 256, height: 256, n_iter: 2 }),
        force_task_id: "task(skip)",
      };
      const a = txt2img(url, body);
      await until(
        "the job to run",
        () => progress(url, "task(skip)"),
        (p) => p.active && p.sampling_step >= 1,
      );
      await post(`${url}/sdapi/v1/skip`, {});
      const state = async () => (await (await fetch(`${url}/sdapi/v1/progress`)).json()).state;
      await until("the second image", state, (s) => s.job_no === 1);
      await post(`${url}/internal/interrupt`, { id_task: "task(skip)" });
      assertEquals(JSON.parse((await a).info).interrupted, true);
    });

    await t.step("an input the worker refuses is the request's fault (422), as in one process", async () => {
      const before = (await demoQueue.getJobCounts("completed")).completed;
      // Only the worker decodes the init image.
      const r = await post(`${url}/sdapi/v1/img2img`, { ...job(61), init_images: [btoa("not an image")] });
      const body = await r.json();
      assertEquals(r.status, 422, JSON.stringify(body));
      ok(/init image cannot be used/.test(body.detail[0].msg), body.detail[0].msg);
      assertEquals((await demoQueue.getJobCounts("completed")).completed, before + 1, "answered by a worker");
      assertEquals((await demoQueue.getJobCounts("failed")).failed, 0, "not a failed job");
    });

    await t.step("jobs for a model no worker holds wait in order and say so", async () => {
      const ids = ["task(nm1)", "task(nm2)", "task(nm3)"];
      const waiting: Promise<Response>[] = [];
      try {
        // One after the other, so their order in the queue is known.
        for (const [i, id] of ids.entries()) {
          waiting.push(post(`${url}/sdapi/v1/txt2img`, {
            ...job(41 + i),
            override_settings: { sd_model_checkpoint: "tiny-sd1" },
            force_task_id: id,
          }));
          const p = await until(
            `${id} to say why it waits`,
            () => progress(url, id),
            (p) => p.textinfo === `In queue: ${i} ahead; no worker has the model tiny-sd1 yet`,
          );
          assertEquals([p.active, p.queue_position], [false, i]);
        }
        await new Promise((r) => setTimeout(r, 500));
        assertEquals((await progress(url, ids[2])).queued, true, "still waiting");
        // Interrupted while it waits, a job leaves the queue without an image, and those behind it move up.
        await post(`${url}/internal/interrupt`, { id_task: ids[0] });
        // Each waiting job reads the queue again within a fraction of a second.
        await until("the others to move up", () => progress(url, ids[2]), (p) => p.queue_position === 1);
        await until(
          "the next to be first",
          () => sdProgress(ids[1]),
          (p) => p.textinfo === "In queue: 0 ahead; no worker has the model tiny-sd1 yet",
        );
      } finally {
        for (const id of ids) await post(`${url}/internal/interrupt`, { id_task: id });
      }
      for (const w of waiting) {
        const r = await w;
        assertEquals(r.status, 200);
        const info = JSON.parse((await r.json()).info);
        assertEquals([info.interrupted, info.all_seeds], [true, []]);
      }
    });

    await t.step("the embedding tab's jobs run on a worker; the server saves what comes back", async () => {
      const events = new QueueEvents(queueName("tiny-demo"), {
        connection: connect(parseRedisUrl(redis.url)),
      });
      const ranOn: string[] = [];
      events.on("completed", ({ returnvalue }) => {
        const r = returnvalue as unknown as WireEmbedResult;
        if ("made" in r) ranOn.push(r.worker);
      });
      await events.waitUntilReady();
      const src = join(root, "embed-src");
      await Deno.mkdir(src);
      for (const f of ["rgb.png", "rgb.jpg", "gray.png"]) {
        await Deno.copyFile(join(FIXTURES, "images", f), join(src, f));
      }
      const tab = `${url}/extensions/aesthetic/create`;
      const finished = async (r: Response) => {
        assertEquals(r.status, 202, await r.clone().text());
        return await until("the embedding", async () => await (await fetch(tab)).json(), (s) => !s.running);
      };
      try {
        // A folder on the server: its images travel in the job.
        const fromFolder = await finished(
          await post(tab, { name: "queued.safetensors", source: src, batchSize: 2 }),
        );
        assertEquals([fromFolder.ok, fromFolder.message], [true, "Created queued from 3 images (16-d)"]);
        assertEquals(fromFolder.progress.total, 3, "the worker's progress came back");
        assertEquals(fromFolder.quality.images.length, 3);
        const saved = await readEmbedding(join(server!.embeddingsDir, "queued.safetensors"));
        const local = await makeEmbedding({ src, clipDir: TINY_DEMO_CLIP_DIR, batchSize: 2 });
        assertEquals(saved.data.length, local.embedding.length);
        ok(
          saved.data.every((v, i) => Math.abs(v - local.embedding[i]) < 1e-6),
          "the vector one process makes",
        );
        assertEquals(saved.metadata?.source_model, "tiny-demo-clip");
        // Uploaded images, one of them not an image file.
        const form = new FormData();
        form.append("name", "uploaded");
        for (const f of ["rgb.png", "gray.png"]) {
          form.append("files", new File([await Deno.readFile(join(src, f))], `set/${f}`));
        }
        form.append("files", new File(["not an image"], "set/notes.txt"));
        // As the tab posts it: from the server's own page.
        const fromUploads = await finished(
          await fetch(tab, { method: "POST", body: form, headers: { origin: url } }),
        );
        assertEquals(fromUploads.message, "Created uploaded from 2 images, 1 skipped (16-d)");
        assertEquals(fromUploads.skipped, [{
          file: "set/notes.txt",
          reason: "not an image file (by its extension)",
        }]);
        const names = fromUploads.quality.images.map((i: { file: string }) => i.file).sort();
        assertEquals(names, ["set/gray.png", "set/rgb.png"]);
        await until("both jobs' results", () => Promise.resolve(ranOn.length), (n) => n === 2);
        ok(ranOn.every((w) => workers.some((p) => p.id === w)), `made on the workers: ${ranOn}`);
        // Saved, it is usable at once: a personalized job carries it to a worker.
        const personalized = await txt2img(url, {
          ...job(81),
          alwayson_scripts: {
            "Aesthetic embeddings": { args: [0.9, 2, 0.0001, false, "queued", "", 0.1, false] },
          },
        });
        ok(JSON.parse(personalized.info).infotexts[0].includes("Aesthetic embedding: queued"));
      } finally {
        await events.close();
      }
    });

    await t.step(
      "30 concurrent jobs, a worker killed mid-job: all complete once, with the images of one process",
      async () => {
        const before = await demoQueue.getJobCounts("completed", "failed");
        const answers = requests.map((r, i) =>
          txt2img(url, i === 0 ? { ...r, force_task_id: "task(kill)" } : r)
        );
        await until(
          "the long job to run",
          () => progress(url, "task(kill)"),
          (p) => p.active && p.sampling_step >= 1,
        );
        const active = (await demoQueue.getActive()).find((j) => j.data.request.seed === requests[0].seed)!;
        const runner = (active.progress as unknown as WireProgress).worker;
        const victim = workers.find((w) => runner.endsWith(`:${w.pid}`))!;
        ok(victim, `the job runs on one of the workers (${runner})`);
        await victim.kill("SIGKILL");
        const got = await Promise.all(answers);
        for (let i = 0; i < requests.length; i++) {
          assertEquals(got[i].images, reference[i].images, `request ${i}: the same PNGs`);
          const [info, ref] = [JSON.parse(got[i].info), JSON.parse(reference[i].info)];
          assertEquals([info.all_seeds, info.infotexts], [ref.all_seeds, ref.infotexts]);
        }
        const after = await demoQueue.getJobCounts("completed", "failed", "active", "wait");
        assertEquals(after, {
          completed: before.completed + requests.length,
          failed: before.failed,
          active: 0,
          wait: 0,
        }, "each job completed exactly once");
        const done = (await demoQueue.getCompleted()).find((j) => j.id === active.id)!;
        ok((done.returnvalue as WireResult).worker !== runner, "the killed job finished on the other worker");
        assertEquals(done.stalledCounter, 1, "recovered once by BullMQ's stalled-job check");
      },
    );

    await t.step(
      "an X/Y/Z plot keeping -1 for seeds gives each cell its own seed, as in one process",
      async () => {
        // xyz_grid's run() args: Steps over "1, 2" on X, nothing on Y and Z, then the checkboxes.
        const cellSeeds = async (keep: boolean): Promise<number[]> => {
          const args = [4, "1, 2", [], 0, "", [], 0, "", [], true, true, false, keep, 0, false, false];
          const answer = await txt2img(url, { ...job(-1), script_name: "X/Y/Z plot", script_args: args });
          return JSON.parse(answer.info).all_seeds.slice(1);
        };
        const [fixedA, fixedB] = await cellSeeds(false);
        assertEquals(fixedA, fixedB, "one seed across the cells");
        const [keptA, keptB] = await cellSeeds(true);
        ok(keptA !== keptB, `each cell its own seed: ${keptA}, ${keptB}`);
      },
    );

    await t.step("SIGTERM drains a worker: its running job finishes, then it leaves", async () => {
      const last = workers.find((w) => !w.stopped)!;
      const answer = txt2img(url, { ...job(71, LONG), force_task_id: "task(drain)" });
      await until(
        "the job to run",
        () => progress(url, "task(drain)"),
        (p) => p.active && p.sampling_step >= 1,
      );
      await last.kill("SIGTERM");
      assertEquals((await last.status).code, 0);
      const info = JSON.parse((await answer).info);
      assertEquals([info.interrupted, info.steps_done], [false, LONG.steps]);
      assertEquals(await client.exists(`ag:worker:${last.id}`), 0, "its announcement is gone");
    });
  } finally {
    await server?.close();
    for (const w of workers) await w.kill();
    await demoQueue.close();
    await disconnect(client);
    await redis.stop();
    await Deno.remove(root, { recursive: true });
  }
});

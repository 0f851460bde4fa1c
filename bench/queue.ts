// deno task bench queue: what `serve --queue` costs and gives on the tiny demo. One redis-server, one server
// rendering in-process and one with --queue, and three `deno task worker` processes: one holding the demo under
// the name tiny-demo-1, two holding it as tiny-demo-2, so a job's model chooses 1 or 2 workers. Each round runs
// the three sides in turn (in-process, 1 worker, 2 workers): the time from sending a job to its first sampling
// step as the server sees it (jobs one at a time), then the throughput of a burst of concurrent jobs.
import { join } from "node:path";
import { DEFAULT_MODEL_DIR } from "../lib/models/defaults.ts";
import { serve, type Server } from "../main.ts";
import { closeRenderer } from "../lib/server/render.ts";
import { startRedis, startWorker, type WorkerProcess } from "../tests/lib/queue/redis_server.ts";
import { cell, interleaved, median, ratios, table } from "./stats.ts";

export interface QueueBenchOptions {
  rounds: number;
  /** Jobs sent one at a time per round and side, for the first-step time (its median is the round's). */
  latencyJobs: number;
  /** Jobs sent at once per round and side, for the throughput. */
  burstJobs: number;
  /** Sampling steps of each 64×64 job. */
  steps: number;
  log?: (line: string) => void;
}

export interface QueueBenchResult {
  /** Per side, per round: first_step_s (median of the round's jobs) and jobs_per_s. */
  runs: Record<Side, { first_step_s: number; jobs_per_s: number }[]>;
  table: string;
}

const SIDES = ["in-process", "1 worker", "2 workers"] as const;
type Side = typeof SIDES[number];
const MODEL: Record<Side, string> = {
  "in-process": "tiny-demo-1",
  "1 worker": "tiny-demo-1",
  "2 workers": "tiny-demo-2",
};

async function linkedModels(root: string, names: string[]): Promise<string> {
  const dir = join(root, names.join("+"));
  await Deno.mkdir(dir);
  for (const n of names) await Deno.symlink(DEFAULT_MODEL_DIR, join(dir, n));
  return dir;
}

let seed = 1000;

async function send(server: Server, model: string, steps: number, taskId?: string): Promise<void> {
  const r = await fetch(`${server.url}/sdapi/v1/txt2img`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      prompt: "a red circle on a blue background",
      seed: seed++,
      steps,
      width: 64,
      height: 64,
      save_images: false,
      override_settings: { sd_model_checkpoint: model },
      ...(taskId ? { force_task_id: taskId } : {}),
    }),
  });
  if (r.status !== 200) throw new Error(`txt2img answered ${r.status}: ${await r.text()}`);
  await r.body?.cancel();
}

/** Seconds from sending one job to the server's task showing its first sampling step. */
async function firstStep(server: Server, model: string, steps: number): Promise<number> {
  const id = `task(bench-${seed})`;
  const t0 = performance.now();
  const answer = send(server, model, steps, id);
  let seen: number | undefined;
  let finished = false;
  answer.finally(() => (finished = true)).catch(() => {});
  while (seen === undefined && !finished) {
    if ((server.service.tasks.get(id)?.state.snapshot().state.sampling_step ?? 0) >= 1) {
      seen = performance.now();
    } else await new Promise((r) => setTimeout(r, 1));
  }
  await answer;
  if (seen === undefined) {
    throw new Error(`a job on ${model} ended before its first step was seen: raise the steps`);
  }
  return (seen - t0) / 1000;
}

async function burst(server: Server, model: string, steps: number, jobs: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: jobs }, () => send(server, model, steps)));
  return jobs / ((performance.now() - t0) / 1000);
}

export async function queueBench(o: QueueBenchOptions): Promise<QueueBenchResult> {
  const log = o.log ?? (() => {});
  const root = await Deno.makeTempDir({ prefix: "bench-queue-" });
  const redis = await startRedis();
  const workers: WorkerProcess[] = [];
  const servers: Server[] = [];
  try {
    const serverModels = await linkedModels(root, ["tiny-demo-1", "tiny-demo-2"]);
    const one = await linkedModels(root, ["tiny-demo-1"]);
    const two = await linkedModels(root, ["tiny-demo-2"]);
    // Every side with onnxruntime's default threads (one per core), as `serve` and `deno task worker` start.
    workers.push(...await Promise.all([one, two, two].map((dir) => startWorker(redis.url, dir))));
    const common = {
      port: 0,
      hostname: "127.0.0.1",
      modelsDir: serverModels,
      embeddingsDir: join(root, "embeddings"),
      outputsDir: join(root, "outputs"),
      model: "tiny-demo-1",
    };
    await Deno.mkdir(common.embeddingsDir);
    const local = await serve(common);
    servers.push(local);
    const queued = await serve({ ...common, queue: redis.url });
    servers.push(queued);
    log(`queue bench: redis ${redis.url}, workers ${workers.map((w) => w.id).join(", ")}`);
    // One job on each side first, so every model is open and every queue listened to before any timing.
    for (const side of SIDES) await send(side === "in-process" ? local : queued, MODEL[side], o.steps);

    const measure = (side: Side) => async (): Promise<Record<string, number>> => {
      const server = side === "in-process" ? local : queued;
      const times: number[] = [];
      for (let i = 0; i < o.latencyJobs; i++) times.push(await firstStep(server, MODEL[side], o.steps));
      const jobsPerS = await burst(server, MODEL[side], o.steps, o.burstJobs);
      log(`  ${side}: first step ${median(times).toFixed(3)} s, ${jobsPerS.toFixed(2)} jobs/s`);
      return { first_step_s: median(times), jobs_per_s: jobsPerS };
    };
    const sides = {
      "in-process": measure("in-process"),
      "1 worker": measure("1 worker"),
      "2 workers": measure("2 workers"),
    } satisfies Record<Side, unknown>;
    const runs = await interleaved(sides, o.rounds) as QueueBenchResult["runs"];
    const col = (side: Side, key: "first_step_s" | "jobs_per_s") => runs[side].map((r) => r[key]);
    const base = (key: "first_step_s" | "jobs_per_s") => col("in-process", key);
    const overhead = (side: Side) => col(side, "first_step_s").map((x, i) => x - base("first_step_s")[i]);
    const rows = [
      ["sent → first step (s), one job at a time", ...SIDES.map((s) => cell(col(s, "first_step_s"), 3))],
      [
        "queue overhead per job (s), vs in-process",
        "—",
        cell(overhead("1 worker"), 3),
        cell(overhead("2 workers"), 3),
      ],
      [
        `throughput (jobs/s, ${o.burstJobs} sent at once)`,
        ...SIDES.map((s) => cell(col(s, "jobs_per_s"), 2)),
      ],
      [
        "throughput ratio vs in-process",
        "1.00",
        cell(ratios(col("1 worker", "jobs_per_s"), base("jobs_per_s")), 2),
        cell(ratios(col("2 workers", "jobs_per_s"), base("jobs_per_s")), 2),
      ],
    ];
    return {
      runs,
      table: table(["measure", ...SIDES.map((s) => s === "in-process" ? s : `queue, ${s}`)], rows),
    };
  } finally {
    for (const s of servers) await s.shutdown();
    closeRenderer();
    for (const w of workers) await w.kill();
    await redis.stop();
    await Deno.remove(root, { recursive: true });
  }
}

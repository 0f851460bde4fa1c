// deno task bench queue: what `serve --queue` costs and gives on the tiny demo. One redis-server, two servers
// (`deno task serve`, rendering in its own process, and `serve --queue`), and three `deno task worker`
// processes: one holding the demo under the name tiny-demo-1, two holding it as tiny-demo-2, so a job's model
// chooses 1 or 2 workers. Each round runs the three sides in turn (in-process, 1 worker, 2 workers): the time
// from sending a job to its first sampling step as a client sees it (/internal/progress, jobs one at a time),
// then the throughput of a burst of concurrent jobs.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_MODEL_DIR } from "../lib/models/defaults.ts";
import { type ReadyProcess, type RedisServer, startReady, startRedis } from "./processes.ts";
import { cell, interleaved, median, ratios, table } from "./stats.ts";

export interface QueueBenchOptions {
  rounds: number;
  /** Jobs sent one at a time per round and side, for the first-step time (its median is the round's). */
  latencyJobs: number;
  /** Jobs sent at once per round and side, for the throughput. */
  burstJobs: number;
  /** Sampling steps of each 64×64 job. */
  steps: number;
  /** redis-server's path (Debian's by default). */
  redisServer?: string;
  log?: (line: string) => void;
}

const SIDES = ["in-process", "1 worker", "2 workers"] as const;
type Side = typeof SIDES[number];
const MODEL: Record<Side, string> = {
  "in-process": "tiny-demo-1",
  "1 worker": "tiny-demo-1",
  "2 workers": "tiny-demo-2",
};

export interface QueueBenchResult {
  /** Per side, per round: first_step_s (median of the round's jobs) and jobs_per_s. */
  runs: Record<Side, Record<string, number>[]>;
  table: string;
}

const root = fileURLToPath(new URL("..", import.meta.url));

async function linkedModels(dir: string, names: string[]): Promise<string> {
  const models = join(dir, names.join("+"));
  await Deno.mkdir(models);
  for (const n of names) await Deno.symlink(DEFAULT_MODEL_DIR, join(models, n));
  return models;
}

let seed = 1000;

async function post(url: string, body: unknown): Promise<Response> {
  return await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function send(url: string, model: string, steps: number, taskId?: string): Promise<void> {
  const r = await post(`${url}/sdapi/v1/txt2img`, {
    prompt: "a red circle on a blue background",
    seed: seed++,
    steps,
    width: 64,
    height: 64,
    save_images: false,
    override_settings: { sd_model_checkpoint: model },
    ...(taskId ? { force_task_id: taskId } : {}),
  });
  if (r.status !== 200) throw new Error(`txt2img answered ${r.status}: ${await r.text()}`);
  await r.body?.cancel();
}

/** Seconds from sending one job to /internal/progress showing its first sampling step. */
async function firstStep(url: string, model: string, steps: number): Promise<number> {
  const id = `task(bench-${seed})`;
  const t0 = performance.now();
  let finished = false;
  const answer = send(url, model, steps, id).finally(() => (finished = true));
  let seen: number | undefined;
  while (seen === undefined && !finished) {
    const p = await (await post(`${url}/internal/progress`, { id_task: id, live_preview: false })).json();
    if (p.sampling_step >= 1) seen = performance.now();
  }
  await answer;
  if (seen === undefined) {
    throw new Error(`a job on ${model} ended before its first step was seen: raise the steps`);
  }
  return (seen - t0) / 1000;
}

async function burst(url: string, model: string, steps: number, jobs: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: jobs }, () => send(url, model, steps)));
  return jobs / ((performance.now() - t0) / 1000);
}

export async function queueBench(o: QueueBenchOptions): Promise<QueueBenchResult> {
  const log = o.log ?? (() => {});
  const dir = await Deno.makeTempDir({ prefix: "bench-queue-" });
  const started: ReadyProcess[] = [];
  let redisServer: RedisServer | undefined;
  const deno = (args: string[], ready: RegExp, what: string) =>
    startReady(Deno.execPath(), ["run", "--frozen", "-A", ...args], ready, what, { cwd: dir });
  try {
    redisServer = await startRedis({ path: o.redisServer });
    const redis = redisServer.url;
    const serverModels = await linkedModels(dir, ["tiny-demo-1", "tiny-demo-2"]);
    const one = await linkedModels(dir, ["tiny-demo-1"]);
    const two = await linkedModels(dir, ["tiny-demo-2"]);
    await Deno.mkdir(join(dir, "embeddings"));
    // Every side with onnxruntime's default threads (one per core), as `serve` and `deno task worker` start.
    const workers = await Promise.all([one, two, two].map((models) =>
      deno(
        [join(root, "worker.ts"), "--queue", redis, "--models-dir", models],
        /^worker \S+ ready/,
        "a worker",
      )
    ));
    started.push(...workers);
    const server = (extra: string[]) =>
      deno(
        [
          join(root, "main.ts"),
          "--port",
          "0",
          "--models-dir",
          serverModels,
          "--embeddings-dir",
          join(dir, "embeddings"),
          "--data-dir",
          dir,
          "--model",
          "tiny-demo-1",
          ...extra,
        ],
        /WebUI on http:\/\/\S+/,
        "the server",
      );
    const [local, queued] = await Promise.all([server([]), server(["--queue", redis])]);
    started.push(local, queued);
    const url = (p: ReadyProcess) => /http:\/\/[^\s]+/.exec(p.line)![0];
    const sideUrl = (side: Side) => url(side === "in-process" ? local : queued);
    log(`queue bench: redis ${redis}, workers ${workers.map((w) => w.line.split(" ")[1]).join(", ")}`);
    // One job on each side first, so every model is open and every queue listened to before any timing.
    for (const side of SIDES) await send(sideUrl(side), MODEL[side], o.steps);

    const measure = (side: Side) => async (): Promise<Record<string, number>> => {
      const times: number[] = [];
      for (let i = 0; i < o.latencyJobs; i++) {
        times.push(await firstStep(sideUrl(side), MODEL[side], o.steps));
      }
      const jobsPerS = await burst(sideUrl(side), MODEL[side], o.steps, o.burstJobs);
      log(`  ${side}: first step ${median(times).toFixed(3)} s, ${jobsPerS.toFixed(2)} jobs/s`);
      return { first_step_s: median(times), jobs_per_s: jobsPerS };
    };
    const runs = await interleaved({
      "in-process": measure("in-process"),
      "1 worker": measure("1 worker"),
      "2 workers": measure("2 workers"),
    }, o.rounds);
    const col = (side: Side, key: string) => runs[side].map((r) => r[key]);
    const base = (key: string) => col("in-process", key);
    const overhead = (side: Side) => col(side, "first_step_s").map((x, i) => x - base("first_step_s")[i]);
    const speedup = (side: Side) => cell(ratios(col(side, "jobs_per_s"), base("jobs_per_s")), 2);
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
      ["throughput ratio vs in-process", "1.00", speedup("1 worker"), speedup("2 workers")],
    ];
    const header = ["measure", ...SIDES.map((s) => s === "in-process" ? s : `queue, ${s}`)];
    return { runs, table: table(header, rows) };
  } finally {
    // Servers first, then workers (SIGTERM lets them finish and withdraw), then Redis.
    for (const p of started.slice().reverse()) await p.stop();
    await redisServer?.stop();
    await Deno.remove(dir, { recursive: true });
  }
}

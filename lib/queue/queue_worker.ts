// A queue worker (`deno task worker`): announces the models it holds, takes jobs from those models' BullMQ
// queues, runs each through the same WebUIService step as one process does (extensions, render, infotext,
// grid; or the embedding tab's embedUploads with the model's CLIP pair), reports its progress as the job's progress, obeys interrupt/skip from the control channel, and
// returns the PNGs and infotexts as the job's result. A worker killed mid-job loses its lock; BullMQ's stalled
// job check then hands the job to another worker, once.
import { type Job, Worker } from "bullmq";
import type { Redis, RedisOptions } from "ioredis";
import { hostname } from "node:os";
import type { Extension, Values } from "../extensions/adapter.ts";
import { InputError } from "../io/input_error.ts";
import type { WebUIService } from "../server/service.ts";
import type { Task } from "../server/tasks.ts";
import { EmbeddingFailure, embedUploads } from "../server/embedding_maker.ts";
import { connect, disconnect, reachable, reportErrors } from "./redis.ts";
import { watchLinks } from "./watchdog.ts";
import { every } from "./every.ts";
import { S3Objects } from "./s3.ts";
import {
  cancelKey,
  CONTROL_CHANNEL,
  type ControlMessage,
  decodeEmbedJob,
  decodeJob,
  EMBED,
  encodeMade,
  encodeOutput,
  queueName,
  type WireEmbedJob,
  type WireEmbedProgress,
  type WireEmbedResult,
  type WireJob,
  type WireProgress,
  type WireResult,
  WORKER_KEY_PREFIX,
  WORKER_TTL_SECONDS,
  type WorkerAnnouncement,
} from "./wire.ts";

export interface QueueWorkerOptions {
  redis: RedisOptions;
  /** The service that runs jobs here: its models folder says which models this worker holds. */
  service: WebUIService;
  /** Jobs held at once per model (they still render one at a time on this machine's render thread). */
  concurrency?: number;
  /** How long a job's lock lives unrenewed: a killed worker's job goes to another after about this long. */
  lockMs?: number;
  /** Where images go instead of the job's result (--results s3://…): puts a named object, says its URL. */
  results?: ResultStore;
}

export interface ResultStore {
  put(name: string, body: Uint8Array | string, contentType: string): Promise<string>;
}

export interface QueueWorker {
  id: string;
  models: string[];
  device: string;
  /** Stops taking jobs, lets the running ones finish, and withdraws the announcement. */
  close(): Promise<void>;
}

/** Progress goes out at most this often, but an image's first step at once (so the page moves at once). */
const REPORT_MS = 100;
const WATCH_MS = 10;

export async function startQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorker> {
  const svc = opts.service;
  const id = `${hostname()}:${Deno.pid}`;
  const models = svc.checkpoints().map((m) => m.name);
  const running = new Map<string, Task>();
  // A server with --results puts embedding jobs' images in its bucket: read with this worker's AWS_* settings.
  const inputs = new S3Objects();

  const onControl = (_channel: string, raw: string) => {
    const m = JSON.parse(raw) as ControlMessage;
    const task = running.get(`${m.queue}/${m.job}`);
    if (!task) return;
    if (m.action === "interrupt") svc.tasks.interrupt(task);
    else task.state.skip();
  };

  const announcement: WorkerAnnouncement = {
    id,
    models,
    concurrency: opts.concurrency ?? 1,
    device: svc.config.device ?? "cpu",
  };
  // The current links' command client; set before their workers can take a job.
  let control!: Redis;
  const announce = async (client: Redis) => {
    await client.set(`${WORKER_KEY_PREFIX}${id}`, JSON.stringify(announcement), "EX", WORKER_TTL_SECONDS);
  };

  const embed = async (job: Job<WireEmbedJob, WireEmbedResult>): Promise<WireEmbedResult> => {
    const model = svc.checkpoint(job.data.model);
    if (!model) throw new Error(`worker ${id} has no model ${job.data.model}`);
    const { files, batchSize, label } = await decodeEmbedJob(job.data, (url) => inputs.read(url));
    try {
      const made = await embedUploads(files, {
        clipDir: svc.clipFor(model).path,
        batchSize,
        label,
        session: { device: svc.config.device, threads: svc.config.threads },
        onProgress: (p) => {
          const progress: WireEmbedProgress = { worker: id, embed: p };
          job.updateProgress(progress as unknown as object).catch(() => {});
        },
      });
      return { made: encodeMade(made), worker: id };
    } catch (e) {
      // No usable image, or no CLIP pair for the model: the answer, not a failure to retry.
      if (e instanceof EmbeddingFailure) {
        return { failure: { message: e.message, skipped: e.skipped }, worker: id };
      }
      if (e instanceof InputError) return { failure: { message: e.message, skipped: [] }, worker: id };
      throw e;
    }
  };

  const generate = async (job: Job<WireJob, WireResult>): Promise<WireResult> => {
    const data = job.data;
    const model = svc.checkpoint(data.model);
    if (!model) throw new Error(`worker ${id} has no model ${data.model}`);
    const scripts = data.scripts.map(([extId, values]): [Extension, Values] => {
      const ext = svc.extensions.find((e) => e.id === extId);
      if (!ext) throw new Error(`worker ${id} has no extension ${extId}`);
      return [ext, values];
    });
    const task = svc.tasks.create();
    const key = `${job.queueName}/${job.id}`;
    running.set(key, task);
    if (await control.get(cancelKey(job.queueName, job.id!))) svc.tasks.interrupt(task);
    let last = "";
    let sentPreview = -1;
    let sentAt = -Infinity;
    let sentStep = 0;
    const report = async () => {
      if (task.phase !== "running") return;
      const snap = task.state.snapshot();
      const step = snap.state.sampling_step;
      const firstStep = step > 0 && (sentStep === 0 || step < sentStep);
      if (performance.now() - sentAt < REPORT_MS && !firstStep) return;
      const previewId = task.state.previewId;
      const sig = JSON.stringify([snap.state, snap.textinfo, previewId]);
      if (sig === last) return;
      last = sig;
      sentAt = performance.now();
      sentStep = step;
      const p: WireProgress = { worker: id, state: snap.state, textinfo: snap.textinfo };
      if (previewId !== sentPreview && snap.current_image !== null) p.preview = snap.current_image;
      sentPreview = previewId;
      await job.updateProgress(p as unknown as object);
    };
    const stopReporting = every(WATCH_MS, report);
    try {
      const out = await svc.execute({ ...decodeJob(data), scripts }, model, task);
      const output = encodeOutput(out);
      if (opts.results) {
        // Named by the job, so a retried job puts the same objects again.
        const base = `${job.queueName}/${job.id}`;
        output.imageUrls = [];
        for (const [i, png] of out.images.entries()) {
          output.imageUrls.push(await opts.results.put(`${base}/${i}.png`, png, "image/png"));
          await opts.results.put(`${base}/${i}.txt`, out.infotexts[i], "text/plain; charset=utf-8");
        }
        output.images = [];
      }
      return { output, worker: id };
    } catch (e) {
      // The request's own fault: the answer, not a failure to retry.
      if (e instanceof InputError) return { inputError: { message: e.message, loc: e.loc }, worker: id };
      throw e;
    } finally {
      stopReporting();
      running.delete(key);
      svc.tasks.finish(task);
    }
  };

  const run = (job: Job<WireJob | WireEmbedJob, WireResult | WireEmbedResult>) =>
    job.name === EMBED
      ? embed(job as Job<WireEmbedJob, WireEmbedResult>)
      : generate(job as Job<WireJob, WireResult>);

  const lockMs = opts.lockMs ?? 30_000;
  // Everything that talks to Redis, made afresh when the watchdog finds it stuck.
  const open = async (): Promise<Links> => {
    const client = connect(opts.redis);
    control = client;
    const sub = connect(opts.redis);
    await sub.subscribe(CONTROL_CHANNEL);
    sub.on("message", onControl);
    await announce(client);
    const workerClients = models.map(() => connect(opts.redis));
    const workers = models.map((name, i) =>
      new Worker<WireJob | WireEmbedJob, WireResult | WireEmbedResult>(queueName(name), run, {
        connection: workerClients[i],
        concurrency: opts.concurrency ?? 1,
        lockDuration: lockMs,
        stalledInterval: lockMs,
        maxStalledCount: 1,
      })
    );
    workers.forEach((w, i) => reportErrors(w, `worker for ${models[i]}`));
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    return { client, sub, workers, workerClients };
  };
  let links = await open();

  const stopWatching = watchLinks({
    renew: () => announce(links.client),
    reachable: () => reachable(opts.redis),
    rebuild: async () => {
      console.error(
        `queue: worker ${id}: its Redis connections stopped answering while Redis does; reconnecting`,
      );
      const stuck = links;
      links = await open();
      // The stuck links cannot finish anything: a job they held goes back through BullMQ's stalled check.
      for (const w of stuck.workers) w.close(true).catch(() => {});
      for (const c of [stuck.client, stuck.sub, ...stuck.workerClients]) c.disconnect();
    },
    intervalMs: (WORKER_TTL_SECONDS * 1000) / 3,
    stallMs: (WORKER_TTL_SECONDS * 1000 * 2) / 3,
  });

  return {
    id,
    models,
    device: announcement.device,
    close: async () => {
      stopWatching();
      await Promise.all(links.workers.map((w) => w.close()));
      await links.client.del(`${WORKER_KEY_PREFIX}${id}`).catch(() => {});
      await disconnect(links.client);
      await disconnect(links.sub);
      await Promise.all(links.workerClients.map(disconnect));
    },
  };
}

interface Links {
  client: Redis;
  sub: Redis;
  workers: Worker[];
  workerClients: Redis[];
}

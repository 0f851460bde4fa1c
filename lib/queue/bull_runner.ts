// The web server's side of `serve --queue`: each checked generation becomes a BullMQ job in its model's queue;
// the worker's reported progress drives the task here (so /internal/progress and /sdapi/v1/progress answer as
// in one process), interrupt and skip go back over a Redis channel, and the result comes back as the job's
// return value, kept in Redis for a while (BullMQ's removeOnComplete age).
import { Queue, QueueEvents } from "bullmq";
import { Redis, type RedisOptions } from "ioredis";
import { randomUUID } from "node:crypto";
import { InputError } from "../io/input_error.ts";
import {
  chosenSeeds,
  emptyOutput,
  type GenerationOutput,
  type RemoteGeneration,
  type RemoteRunner,
} from "../server/service.ts";
import type { Task } from "../server/tasks.ts";
import type { Progress } from "../embed/make_embedding.ts";
import { EmbeddingFailure, type EmbedFiles, type MadeEmbedding } from "../server/embedding_maker.ts";
import { Unavailable } from "../server/unavailable.ts";
import { closeWithin, connect, disconnect, reportErrors } from "./redis.ts";
import { every } from "./every.ts";
import { type S3Config, S3Objects, type S3Results } from "./s3.ts";
import {
  cancelKey,
  CONTROL_CHANNEL,
  type ControlMessage,
  decodeMade,
  decodeOutput,
  EMBED,
  encodeEmbedJob,
  encodeJob,
  GENERATE,
  queueName,
  type WireEmbedProgress,
  type WireEmbedResult,
  type WireOutput,
  type WireProgress,
  type WireResult,
  WORKER_KEY_PREFIX,
  type WorkerAnnouncement,
} from "./wire.ts";

export interface BullRunnerOptions {
  redis: RedisOptions;
  /** How long a finished job's result stays in Redis (seconds); default one hour. */
  resultTtlSeconds?: number;
  /** Reads results workers put in a bucket (--results s3://…); default: from the AWS_* variables when needed. */
  s3?: S3Config;
  /** serve --results s3://…: embedding jobs' images go there, the jobs carrying their URLs only. */
  inputs?: S3Results;
}

type Outcome = Omit<GenerationOutput, "model" | "queueId">;

/** A job this server waits for: its reported progress and its end, as BullMQ's queue events bring them. */
interface Waiter {
  progress(p: unknown): void;
  settle(r: { result: unknown } | { failed: string }): void;
}

const WATCH_MS = 50;
/** How often a job checks that Redis still has it and which workers are there. */
const CHECK_EVERY_MS = 1000;
/** How long one reading of a queue's order serves every waiting job's position. */
const POSITIONS_MS = 250;

interface QueueOrder {
  /** Waiting job ids, oldest (next to run) first, by index. */
  waiting: Map<string, number>;
  active: number;
}

export class BullRunner implements RemoteRunner {
  readonly #opts: BullRunnerOptions;
  readonly #client: Redis;
  readonly #queues = new Map<string, Promise<{ queue: Queue; events: QueueEvents }>>();
  readonly #waiters = new Map<string, Waiter>();
  readonly #objects: S3Objects;
  readonly #orders = new Map<string, { at: number; order: Promise<QueueOrder> }>();

  private constructor(opts: BullRunnerOptions, client: Redis) {
    this.#opts = opts;
    this.#client = client;
    this.#objects = new S3Objects(opts.s3);
  }

  /** Connects, failing at once when Redis cannot be reached (not at the first job). */
  static async open(opts: BullRunnerOptions): Promise<BullRunner> {
    const probe = new Redis({ ...opts.redis, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    let why = "";
    probe.on("error", (e: Error) => (why ||= e.message));
    try {
      await probe.ping();
    } catch (e) {
      throw new Error(
        `cannot reach Redis at ${opts.redis.host}:${opts.redis.port}: ${why || (e as Error).message}`,
      );
    } finally {
      probe.disconnect();
    }
    return new BullRunner(opts, connect(opts.redis));
  }

  /** The models some live worker holds, by name. */
  async workerModels(): Promise<Set<string>> {
    const keys = await this.#client.keys(`${WORKER_KEY_PREFIX}*`);
    const values = keys.length ? await this.#client.mget(...keys) : [];
    const models = new Set<string>();
    for (const v of values) {
      if (v) { for (const m of (JSON.parse(v) as WorkerAnnouncement).models) models.add(m); }
    }
    return models;
  }

  /**
   * Jobs before `jobId` in its model's queue, as every server and worker sees it: the running ones, then those
   * waiting before it (undefined once it is no longer waiting).
   */
  async #ahead(name: string, queue: Queue, jobId: string): Promise<number | undefined> {
    let cached = this.#orders.get(name);
    if (!cached || performance.now() - cached.at > POSITIONS_MS) {
      const order = (async () => {
        const [ids, active] = await Promise.all([
          queue.getRanges(["wait"], 0, -1, true),
          queue.getActiveCount(),
        ]);
        return { waiting: new Map(ids.map((id, i) => [id, i])), active };
      })();
      cached = { at: performance.now(), order };
      this.#orders.set(name, cached);
      order.catch(() => this.#orders.delete(name));
    }
    const { waiting, active } = await cached.order;
    const i = waiting.get(jobId);
    return i === undefined ? undefined : active + i;
  }

  /** A job's output with its images, fetched from the bucket when the worker put them there. */
  async #output(out: WireOutput): Promise<Outcome> {
    if (!out.imageUrls) return decodeOutput(out);
    return decodeOutput(out, await Promise.all(out.imageUrls.map((url) => this.#objects.read(url))));
  }

  #queueFor(name: string): Promise<{ queue: Queue; events: QueueEvents }> {
    let q = this.#queues.get(name);
    if (!q) {
      q = (async () => {
        const queue = new Queue(name, { connection: connect(this.#opts.redis) });
        const events = new QueueEvents(name, { connection: connect(this.#opts.redis) });
        reportErrors(queue, `queue ${name}`);
        reportErrors(events, `events of ${name}`);
        events.on(
          "progress",
          ({ jobId, data }) => this.#waiters.get(`${name}/${jobId}`)?.progress(data),
        );
        events.on(
          "completed",
          ({ jobId, returnvalue }) => this.#waiters.get(`${name}/${jobId}`)?.settle({ result: returnvalue }),
        );
        events.on(
          "failed",
          ({ jobId, failedReason }) =>
            this.#waiters.get(`${name}/${jobId}`)?.settle({ failed: failedReason }),
        );
        // Listening before the first job is added, so no completion can be missed.
        await events.waitUntilReady();
        return { queue, events };
      })();
      this.#queues.set(name, q);
    }
    return q;
  }

  async run({ input, model, attachments }: RemoteGeneration, task: Task): Promise<Outcome> {
    // Seeds are fixed before the job leaves, so a job retried on another worker makes the same images; a plot
    // that keeps -1 for seeds (A1111's option: every cell draws its own) leaves them to the worker.
    const request = input.plot?.noFixedSeeds
      ? input.request
      : { ...input.request, ...chosenSeeds(input.request) };
    const name = queueName(model.name);
    const { queue } = await this.#queueFor(name);
    const jobId = randomUUID();
    const key = `${name}/${jobId}`;
    const ttl = this.#opts.resultTtlSeconds ?? 3600;
    const done = Promise.withResolvers<Outcome>();
    this.#waiters.set(key, {
      progress: (raw) => {
        const p = raw as WireProgress;
        task.phase = "running";
        task.waitingFor = undefined;
        task.state.follow(p.state, p.textinfo, p.preview);
      },
      settle: (s) => {
        if ("failed" in s) return done.reject(new Error(`the job failed on its worker: ${s.failed}`));
        const result = s.result as WireResult;
        if ("inputError" in result) {
          done.reject(new InputError(result.inputError.message, result.inputError.loc));
        } else this.#output(result.output).then(done.resolve, done.reject);
      },
    });
    const publish = (action: ControlMessage["action"]) =>
      this.#client.publish(CONTROL_CHANNEL, JSON.stringify({ queue: name, job: jobId, action }));
    let cancelling = false;
    let interruptSent = false;
    let skipSentFor = -1;
    let checkedAt = 0;
    let added = false;
    const watch = async () => {
      const snap = task.state.snapshot().state;
      if (task.cancelled || task.state.interrupted) {
        if (cancelling) return;
        cancelling = true;
        // Kept for a worker that takes the job later (a retry after a crash): it starts it stopped.
        await this.#client.set(cancelKey(name, jobId), "1", "EX", ttl);
        // A job still waiting is taken out of the queue; one a worker holds is stopped there.
        if (task.phase === "queued" && await queue.remove(jobId) === 1) {
          // As in one process, a job stopped before it started ends at once with no image.
          done.resolve({ ...emptyOutput(model, 0, "0"), interrupted: true });
        } else if (!interruptSent) {
          interruptSent = true;
          await publish("interrupt");
        }
        return;
      }
      if (task.state.skipped && snap.job_no !== skipSentFor) {
        skipSentFor = snap.job_no;
        await publish("skip");
      }
      if (task.phase === "queued" && added) {
        // Taken by a worker that has not reported yet: nothing is before it any more.
        task.ahead = (await this.#ahead(name, queue, jobId)) ?? 0;
      }
      if (added && performance.now() - checkedAt > CHECK_EVERY_MS) {
        checkedAt = performance.now();
        // A Redis that restarted without its append-only file has forgotten the job: said, not waited for.
        if (await queue.getJobState(jobId) === "unknown") {
          done.reject(
            new Unavailable(
              "the job was lost: Redis no longer has it (restarted without its append-only file?)",
            ),
          );
          return;
        }
        if (task.phase === "queued") {
          task.waitingFor = (await this.workerModels()).has(model.name)
            ? undefined
            : `no worker has the model ${model.name} yet`;
        }
      }
    };
    const stopWatching = every(WATCH_MS, watch);
    try {
      await queue.add(GENERATE, encodeJob({ ...input, request }, model.name, attachments), {
        jobId,
        removeOnComplete: { age: ttl },
        removeOnFail: { age: ttl },
      });
      added = true;
      return await done.promise;
    } finally {
      stopWatching();
      this.#waiters.delete(key);
      task.state.end();
    }
  }

  /**
   * Makes an aesthetic embedding on a worker holding `model` (its CLIP pair makes it) from the images the job
   * carries. The job leaves Redis when it ends: only its small result stays in the event stream.
   */
  async embed(model: string, job: EmbedFiles, onProgress: (p: Progress) => void): Promise<MadeEmbedding> {
    const name = queueName(model);
    const { queue } = await this.#queueFor(name);
    const jobId = randomUUID();
    const key = `${name}/${jobId}`;
    const done = Promise.withResolvers<MadeEmbedding>();
    this.#waiters.set(key, {
      progress: (p) => onProgress((p as WireEmbedProgress).embed),
      settle: (s) => {
        if ("failed" in s) {
          return done.reject(new Error(`the embedding job failed on its worker: ${s.failed}`));
        }
        const result = s.result as WireEmbedResult;
        if ("failure" in result) {
          done.reject(new EmbeddingFailure(result.failure.message, result.failure.skipped));
        } else done.resolve(decodeMade(result.made));
      },
    });
    const inputs = this.#opts.inputs;
    const urls: string[] = [];
    try {
      if (inputs) {
        for (const [i, f] of job.files.entries()) {
          urls.push(await inputs.put(`inputs/${jobId}/${i}`, f.data, "application/octet-stream"));
        }
      }
      await queue.add(EMBED, encodeEmbedJob(model, job, inputs ? urls : undefined), {
        jobId,
        removeOnComplete: true,
        removeOnFail: true,
      });
      return await done.promise;
    } finally {
      this.#waiters.delete(key);
      // The images were only for this job.
      await Promise.all(urls.map((url) => this.#objects.delete(url).catch(() => {})));
    }
  }

  async close(): Promise<void> {
    for (const q of this.#queues.values()) {
      const { queue, events } = await q;
      await closeWithin(events);
      await closeWithin(queue);
    }
    this.#queues.clear();
    await disconnect(this.#client);
  }
}

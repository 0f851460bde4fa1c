// One job at a time on the model, the rest waiting first in, first out. A job's failure is its own: it rejects
// that job's promise and the queue moves on to the next.
import { Unavailable } from "./unavailable.ts";

export interface QueuedJob<T> {
  /** Increasing from 1 in the order jobs were enqueued. */
  readonly id: number;
  /** Settles with the job's own outcome. */
  readonly result: Promise<T>;
}

export class QueueClosedError extends Unavailable {
  constructor() {
    super("the job queue is closed");
    this.name = "QueueClosedError";
  }
}

interface Entry {
  id: number;
  start: () => Promise<void>;
  cancel: (e: Error) => void;
}

export class JobQueue {
  #nextId = 1;
  #waiting: Entry[] = [];
  #running: number | undefined;
  #closed = false;
  #idle: (() => void)[] = [];

  /** Adds a job; it starts when every job enqueued before it has settled. */
  enqueue<T>(run: (id: number) => Promise<T>): QueuedJob<T> {
    if (this.#closed) throw new QueueClosedError();
    const id = this.#nextId++;
    const result = new Promise<T>((resolve, reject) => {
      this.#waiting.push({
        id,
        start: async () => {
          try {
            resolve(await run(id));
          } catch (e) {
            reject(e);
          }
        },
        cancel: reject,
      });
    });
    this.#pump();
    return { id, result };
  }

  /** The running job's id, if one runs. */
  get running(): number | undefined {
    return this.#running;
  }

  /** Jobs waiting behind the running one. */
  get pending(): number {
    return this.#waiting.length;
  }

  /** 0 for the running job, 1 for the next, …; undefined once the job is done (or was never queued). */
  position(id: number): number | undefined {
    if (this.#running === id) return 0;
    const i = this.#waiting.findIndex((e) => e.id === id);
    return i < 0 ? undefined : i + (this.#running === undefined ? 0 : 1);
  }

  /** Resolves when nothing runs and nothing waits. */
  idle(): Promise<void> {
    if (this.#running === undefined && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Rejects every waiting job and refuses new ones; the running job finishes. */
  close(): void {
    this.#closed = true;
    for (const e of this.#waiting.splice(0)) e.cancel(new QueueClosedError());
  }

  #pump(): void {
    if (this.#running !== undefined) return;
    const next = this.#waiting.shift();
    if (!next) {
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    this.#running = next.id;
    next.start().finally(() => {
      this.#running = undefined;
      this.#pump();
    });
  }
}

// The --queue address, redis://[user:pass@]host:port[/db], checked once, and the connections made from it.
// BullMQ loads ioredis with require(), which Deno's npm layer cannot do for an ESM caller, so every BullMQ
// object gets a client made here.
import { Redis, type RedisOptions } from "ioredis";

export class QueueUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "QueueUrlError";
  }
}

export function parseRedisUrl(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueUrlError(`--queue must be redis://[user:pass@]host:port[/db], got ${JSON.stringify(url)}`);
  }
  if (u.protocol !== "redis:") {
    throw new QueueUrlError(`--queue must start with redis://, got ${JSON.stringify(url)}`);
  }
  if (!u.hostname) throw new QueueUrlError(`--queue has no host: ${JSON.stringify(url)}`);
  const port = u.port === "" ? 6379 : Number(u.port);
  const db = u.pathname === "" || u.pathname === "/" ? 0 : Number(u.pathname.slice(1));
  if (!Number.isInteger(db) || db < 0) {
    throw new QueueUrlError(`--queue's database must be a whole number, got ${JSON.stringify(u.pathname)}`);
  }
  return {
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}

/** A client as BullMQ wants it: commands wait through reconnects instead of failing after a few retries. */
export function connect(opts: RedisOptions): Redis {
  const client = new Redis({ ...opts, maxRetriesPerRequest: null, lazyConnect: false });
  reportErrors(client, `Redis at ${opts.host}:${opts.port}`);
  return client;
}

interface Emitter {
  on(event: "error", listener: (e: Error) => void): unknown;
}

/**
 * Says an emitter's errors once each, not at every retry (ioredis reconnects by itself, and BullMQ's queues,
 * events and workers repeat their connection's errors; without a listener they would print every one).
 */
export function reportErrors(emitter: Emitter, what: string): void {
  let last = "";
  let at = 0;
  emitter.on("error", (e: Error) => {
    if (e.message === last && performance.now() - at < 60_000) return;
    last = e.message;
    at = performance.now();
    console.error(`queue: ${what}: ${e.message}`);
  });
}

/** Closes a client whatever state it is in (BullMQ may have closed it already). */
export async function disconnect(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

interface Cuttable {
  disconnect(): void;
}

/** What closing a BullMQ queue or queue events touches: its Redis backend's connections. */
export interface Closable {
  close(): Promise<void>;
  readonly backend: {
    readonly client: Promise<Cuttable>;
    readonly blockingClient?: Promise<Cuttable> | undefined;
  };
}

/**
 * Closes a BullMQ part, or cuts its connection when closing has not finished within `ms`; true if it closed.
 * After a Redis restart, closing can wait on a connection event that never comes (the queue restart test once
 * hung in the runner's close with its connections still open), and a shutdown must not hang on Redis.
 */
export async function closeWithin(part: Closable, ms = 5000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    part.close().then(() => true, () => true),
    new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), ms)),
  ]);
  clearTimeout(timer);
  if (!closed) {
    // Not awaited: a connection stuck that way may never hand out its client either.
    for (const client of [part.backend.client, part.backend.blockingClient]) {
      client?.then((c) => c.disconnect(), () => {});
    }
  }
  return closed;
}

/** Whether Redis answers PING on a fresh connection within `ms` (one try, no retries, no queued commands). */
export async function reachable(opts: RedisOptions, ms = 2000): Promise<boolean> {
  const probe = new Redis({
    ...opts,
    lazyConnect: true,
    connectTimeout: ms,
    commandTimeout: ms,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  probe.on("error", () => {}); // the answer is the result, not a printed error
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

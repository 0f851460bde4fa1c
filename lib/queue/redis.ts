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
  // ioredis reconnects by itself; say what went wrong once, not at every retry.
  let last = "";
  client.on("error", (e: Error) => {
    if (e.message !== last) console.error(`queue: Redis at ${opts.host}:${opts.port}: ${e.message}`);
    last = e.message;
  });
  client.on("ready", () => (last = ""));
  return client;
}

/** Closes a client whatever state it is in (BullMQ may have closed it already). */
export async function disconnect(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

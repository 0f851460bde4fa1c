// A worker's guard against connections that stop reconnecting. ioredis and BullMQ reconnect by themselves after
// Redis restarts, but now and then a client stays parked in "reconnecting" for good (BullMQ issues #4585, #2964):
// the process lives, holds its models, and takes no job again. The worker renews its announcement on a timer;
// when renewals have failed for a while although a fresh connection reaches Redis, its links are rebuilt.
import { every } from "./every.ts";

export interface WatchdogOptions {
  /** Renews the announcement over the current links; rejects or hangs when they are stuck. */
  renew: () => Promise<void>;
  /** Whether Redis answers a fresh connection (so the fault is ours, not Redis's). */
  reachable: () => Promise<boolean>;
  /** Replaces the stuck links with new ones. */
  rebuild: () => Promise<void>;
  /** How often to renew. */
  intervalMs: number;
  /** How long renewals may fail before the links count as stuck. */
  stallMs: number;
  now?: () => number;
}

/** Resolves true when `p` settles successfully within `ms`, false when it rejects or is still pending. */
export function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((r) => timer = setTimeout(() => r(false), ms));
  const done = p.then(() => true, () => false);
  return Promise.race([done, late]).finally(() => clearTimeout(timer));
}

/** Starts renewing; returns a function that stops. A rebuild counts as a renewal (the new links announce). */
export function watchLinks(o: WatchdogOptions): () => void {
  const now = o.now ?? (() => performance.now());
  let renewedAt = now();
  return every(o.intervalMs, async () => {
    if (await settlesWithin(o.renew(), o.intervalMs)) {
      renewedAt = now();
      return;
    }
    if (now() - renewedAt < o.stallMs || !(await o.reachable())) return;
    await o.rebuild();
    renewedAt = now();
  });
}

// Test helper: a real redis-server of the tests' own on a free loopback port (no disk, no persistence), and
// `deno task worker` processes started against it (both through bench/processes.ts, as the benchmark starts
// them). tests/setup.ts installs Debian's redis-server when missing; where it cannot, the queue tests are
// skipped, saying why.
import { fileURLToPath } from "node:url";

import { type RedisServer, startReady, startRedis as startRedisAt } from "../../../bench/processes.ts";
import { REDIS_SERVER } from "../../setup.ts";

function found(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Why the queue tests cannot run here, or undefined when they can. */
export const redisMissing: string | undefined = found(REDIS_SERVER)
  ? undefined
  : `${REDIS_SERVER} is missing (tests/setup.ts installs it as root: apt-get install redis-server)`;
if (redisMissing) console.warn(`queue tests skipped: ${redisMissing}`);

export type { RedisServer };

/** The tests' own redis-server (Debian's), on a free loopback port unless given. */
export function startRedis(opts: { port?: number; dir?: string } = {}): Promise<RedisServer> {
  return startRedisAt({ ...opts, path: REDIS_SERVER });
}

export interface WorkerProcess {
  pid: number;
  /** As the worker announces itself: "host:pid". */
  id: string;
  /** A signal was sent to it. */
  readonly stopped: boolean;
  kill(signal?: Deno.Signal): Promise<void>;
  status: Promise<Deno.CommandStatus>;
}

const WORKER_TS = fileURLToPath(new URL("../../../worker.ts", import.meta.url));

/** A `deno task worker` process; resolves when it has announced its models. */
export async function startWorker(
  url: string,
  modelsDir: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<WorkerProcess> {
  const p = await startReady(
    Deno.execPath(),
    ["run", "--frozen", "-A", WORKER_TS, "--queue", url, "--models-dir", modelsDir, ...extra],
    /^worker \S+ ready/,
    "the worker",
    { env },
  );
  let stopped = false;
  return {
    pid: p.child.pid,
    id: p.line.split(" ")[1],
    get stopped() {
      return stopped;
    },
    status: p.child.status,
    kill: async (signal: Deno.Signal = "SIGTERM") => {
      stopped = true;
      await p.stop(signal);
    },
  };
}

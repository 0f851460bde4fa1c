// Test helper: a real redis-server of the tests' own on a free loopback port (no disk, no persistence), and
// `deno task worker` processes started against it. tests/setup.ts installs Debian's redis-server when missing;
// where it cannot, the queue tests are skipped, saying why.
import { fileURLToPath } from "node:url";

import { waitForLine } from "../../../bench/processes.ts";
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

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** `dir` keeps an append-only file there (as the docs' config does), so a restart keeps every job. */
export async function startRedis(opts: { port?: number; dir?: string } = {}): Promise<RedisServer> {
  const port = opts.port ?? freePort();
  const persistence = opts.dir ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
  const child = new Deno.Command(REDIS_SERVER, {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      ...persistence,
      "--dir",
      opts.dir ?? "/tmp",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  await waitForLine(child.stdout, /Ready to accept connections/, "redis-server");
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      child.kill("SIGTERM");
      await child.status;
    },
  };
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
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--frozen", "-A", WORKER_TS, "--queue", url, "--models-dir", modelsDir, ...extra],
    env,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const ready = await waitForLine(child.stdout, /^worker \S+ ready/, "the worker");
  let stopped = false;
  return {
    pid: child.pid,
    id: ready.split(" ")[1],
    get stopped() {
      return stopped;
    },
    status: child.status,
    kill: async (signal: Deno.Signal = "SIGTERM") => {
      if (!stopped) {
        stopped = true;
        try {
          child.kill(signal);
        } catch { /* already gone */ }
      }
      await child.status;
    },
  };
}

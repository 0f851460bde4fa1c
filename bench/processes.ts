// Child processes that say when they are ready by a line on stdout (redis-server, `deno task serve`,
// `deno task worker`), for the queue benchmark and the queue tests.

/** Reads a child's stdout until a line matches, then keeps on reading (echoing nothing) so it never blocks. */
export async function waitForLine(
  stream: ReadableStream<Uint8Array>,
  re: RegExp,
  what: string,
  timeoutMs = 120_000,
): Promise<string> {
  const reader = stream.getReader();
  const text = new TextDecoder();
  let seen = "";
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += text.decode(value, { stream: true });
    const line = seen.split("\n").find((l) => re.test(l));
    if (line) {
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })().catch(() => {});
      return line;
    }
  }
  throw new Error(`${what} did not start: ${seen}`);
}

export interface ReadyProcess {
  child: Deno.ChildProcess;
  /** The line that said it was ready. */
  line: string;
  /** Sends the signal (once) and waits for the process to end. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/** Starts `cmd` and resolves when a stdout line matches `ready`. */
export async function startReady(
  cmd: string,
  args: string[],
  ready: RegExp,
  what: string,
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<ReadyProcess> {
  const child = new Deno.Command(cmd, { args, ...opts, stdout: "piped", stderr: "inherit" }).spawn();
  const line = await waitForLine(child.stdout, ready, what);
  let sent = false;
  return {
    child,
    line,
    stop: async (signal: Deno.Signal = "SIGTERM") => {
      if (!sent) {
        sent = true;
        try {
          child.kill(signal);
        } catch { /* already gone */ }
      }
      return await child.status;
    },
  };
}

export function freePort(): number {
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

/**
 * A redis-server on a loopback port (a free one unless given), saving nothing; with `dir`, an append-only
 * file there (fsynced at every write, as the docs' config keeps it), so a restart keeps every job.
 */
export async function startRedis(
  opts: { path?: string; port?: number; dir?: string } = {},
): Promise<RedisServer> {
  const port = opts.port ?? freePort();
  const persistence = opts.dir ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"];
  const p = await startReady(
    opts.path ?? "/usr/bin/redis-server",
    [
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
    /Ready to accept connections/,
    "redis-server",
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: async () => {
      await p.stop();
    },
  };
}

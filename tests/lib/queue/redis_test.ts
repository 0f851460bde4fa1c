// The --queue address: every part of redis://[user:pass@]host:port[/db] read, anything else refused by name;
// the worker's other flags (--device) checked and a device that cannot be used left for the CPU, saying so.
import { deepStrictEqual as assertEquals, ok, rejects, throws } from "node:assert";
import { join } from "node:path";
import { BullRunner } from "../../../lib/queue/bull_runner.ts";
import {
  closeWithin,
  connect,
  disconnect,
  parseRedisUrl,
  QueueUrlError,
  reachable,
} from "../../../lib/queue/redis.ts";
import { TINY_DEMO_MODEL_DIR } from "../../../lib/models/defaults.ts";
import { probeProvider } from "../../../lib/models/providers.ts";
import { redisMissing, startRedis } from "./redis_server.ts";
import { waitForLine } from "../../../bench/processes.ts";

Deno.test("redis:// addresses: host, port, database, credentials", () => {
  assertEquals(parseRedisUrl("redis://127.0.0.1:6390"), { host: "127.0.0.1", port: 6390, db: 0 });
  assertEquals(parseRedisUrl("redis://cache.local/3"), { host: "cache.local", port: 6379, db: 3 });
  assertEquals(parseRedisUrl("redis://ag:p%40ss@[::1]:7000/1"), {
    host: "::1",
    port: 7000,
    db: 1,
    username: "ag",
    password: "p@ss",
  });
});

Deno.test("anything but a redis:// address is refused, saying what is expected", () => {
  for (const bad of ["localhost:6379", "http://127.0.0.1:6379", "redis://127.0.0.1:6379/x", "redis://"]) {
    throws(
      () => parseRedisUrl(bad),
      (e: Error) => e instanceof QueueUrlError && /--queue/.test(e.message),
      bad,
    );
  }
});

Deno.test("deno task worker: a bad --queue is exit code 2, naming the flag", async () => {
  const worker = new URL("../../../worker.ts", import.meta.url).pathname;
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--frozen", "-A", worker, "--queue", "http://127.0.0.1:6379"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(r.code, 2);
  assertEquals(/--queue must start with redis:\/\//.test(new TextDecoder().decode(r.stderr)), true);
});

Deno.test("serve --queue: a Redis that cannot be reached is said at start, with the reason", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await rejects(
    BullRunner.open({ redis: parseRedisUrl(`redis://127.0.0.1:${port}`) }),
    new RegExp(`cannot reach Redis at 127.0.0.1:${port}: connect ECONNREFUSED`),
  );
});

Deno.test(
  "reachable: a PING on a fresh connection, answered or not, in bounded time",
  { ignore: redisMissing !== undefined, sanitizeOps: false, sanitizeResources: false },
  async () => {
    const redis = await startRedis();
    try {
      assertEquals(await reachable(parseRedisUrl(redis.url)), true);
      await redis.stop();
      const t0 = performance.now();
      assertEquals(await reachable(parseRedisUrl(redis.url), 500), false);
      ok(performance.now() - t0 < 5000, "a refused connection is not retried");
    } finally {
      await redis.stop();
    }
  },
);

Deno.test(
  "deno task worker --device: an unknown one is exit code 2; an unusable GPU falls back to the CPU, said once and announced",
  {
    ignore: redisMissing !== undefined,
    sanitizeOps: false,
    sanitizeResources: false,
  },
  async () => {
    const worker = new URL("../../../worker.ts", import.meta.url).pathname;
    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--frozen", "-A", worker, "--queue", "redis://127.0.0.1:1", "--device", "tpu"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(bad.code, 2);
    ok(new TextDecoder().decode(bad.stderr).includes('unknown --device "tpu": use cpu, cuda, coreml, dml'));

    const redis = await startRedis();
    const models = await Deno.makeTempDir({ prefix: "worker-device-" });
    await Deno.symlink(TINY_DEMO_MODEL_DIR, join(models, "tiny-demo"));
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--frozen",
        "-A",
        worker,
        "--queue",
        redis.url,
        "--models-dir",
        models,
        "--device",
        "cuda",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const client = connect(parseRedisUrl(redis.url));
    try {
      const cuda = await probeProvider("cuda");
      const device = cuda.usable ? "cuda" : "cpu";
      const ready = await waitForLine(child.stdout, /^worker \S+ ready/, "the worker");
      ok(ready.endsWith(`(${device})`), ready);
      const keys = await client.keys("ag:worker:*");
      assertEquals(JSON.parse((await client.get(keys[0]))!).device, device);
      child.kill("SIGTERM");
      assertEquals((await child.status).code, 0);
      const said = (await stderr).split("\n").filter((l) => l.includes("not available"));
      assertEquals(
        said,
        cuda.usable ? [] : [`worker: cuda is not available (${cuda.reason}); running on the CPU instead`],
      );
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await disconnect(client);
      await redis.stop();
      await Deno.remove(models, { recursive: true });
    }
  },
);

Deno.test("closeWithin: a close that finishes is awaited; one that hangs is cut after the time given", async () => {
  let cut = 0;
  const client = () => Promise.resolve({ disconnect: () => void cut++ });
  const part = (close: () => Promise<void>) => ({
    close,
    backend: { client: client(), blockingClient: client() },
  });
  assertEquals(await closeWithin(part(() => Promise.resolve()), 1000), true);
  assertEquals(await closeWithin(part(() => Promise.reject(new Error("already closed"))), 1000), true);
  assertEquals(cut, 0);
  // Were it awaited, this close would never return and the test would hang.
  assertEquals(await closeWithin(part(() => new Promise(() => {})), 50), false);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assertEquals(cut, 2, "the hanging part's connections were cut");
});

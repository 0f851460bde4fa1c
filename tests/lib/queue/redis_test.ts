// The --queue address: every part of redis://[user:pass@]host:port[/db] read, anything else refused by name.
import { deepStrictEqual as assertEquals, rejects, throws } from "node:assert";
import { BullRunner } from "../../../lib/queue/bull_runner.ts";
import { parseRedisUrl, QueueUrlError } from "../../../lib/queue/redis.ts";

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

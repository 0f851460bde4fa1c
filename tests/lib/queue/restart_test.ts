// Redis restarting under a queue server and its worker: both reconnect by themselves, and a job accepted
// while Redis was down (BullMQ's commands wait for the connection) runs once it is back, nothing lost; a Redis
// that comes back without its data has its lost jobs answered as lost, not waited for.
import { deepStrictEqual as assertEquals, ok } from "node:assert";
import { connect, disconnect, parseRedisUrl } from "../../../lib/queue/redis.ts";
import { MODELS_DIR } from "../../../lib/models/defaults.ts";
import { post, startServer, type TestServer } from "../../routes/server.ts";
import { within } from "../../hostile_files.ts";
import {
  redisMissing,
  type RedisServer,
  startRedis,
  startWorker,
  type WorkerProcess,
} from "./redis_server.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, ignore: redisMissing !== undefined };

async function txt2img(url: string, seed: number): Promise<{ images: string[]; info: string }> {
  const r = await post(`${url}/sdapi/v1/txt2img`, {
    prompt: "a lighthouse",
    seed,
    steps: 2,
    width: 64,
    height: 64,
  });
  if (r.status !== 200) throw new Error(`txt2img answered ${r.status}: ${await r.text()}`);
  return await r.json();
}

Deno.test(
  "Redis restarts: server and worker reconnect, and a job sent meanwhile completes",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "queue-restart-" });
    let redis: RedisServer = await startRedis({ dir });
    let worker: WorkerProcess | undefined;
    let server: TestServer | undefined;
    try {
      worker = await startWorker(redis.url, MODELS_DIR);
      server = await startServer({ modelsDir: MODELS_DIR, queue: redis.url });
      assertEquals((await txt2img(server.url, 1)).images.length, 1);
      await redis.stop();
      const meanwhile = txt2img(server.url, 2);
      await new Promise((r) => setTimeout(r, 1000));
      redis = await startRedis({ dir, port: redis.port });
      const answer = await within(120_000, "the answer to the job sent while Redis was down", meanwhile);
      assertEquals([answer.images.length, JSON.parse(answer.info).all_seeds], [1, [2]]);
      const later = await within(
        120_000,
        "the answer to a job sent after the restart",
        txt2img(server.url, 3),
      );
      assertEquals(later.images.length, 1, "and later jobs still run");
    } finally {
      await server?.close();
      await worker?.kill();
      await redis.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "Redis restarts without its data: a waiting job's request answers that it was lost",
  opts,
  async () => {
    let redis: RedisServer = await startRedis();
    let server: TestServer | undefined;
    try {
      // No worker: the job waits in Redis.
      server = await startServer({ modelsDir: MODELS_DIR, queue: redis.url });
      const answer = post(`${server.url}/sdapi/v1/txt2img`, { prompt: "a lighthouse", seed: 4, steps: 2 });
      const client = connect(parseRedisUrl(redis.url));
      const deadline = Date.now() + 120_000;
      while ((await client.keys("bull:*:wait")).length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await disconnect(client);
      await redis.stop();
      redis = await startRedis({ port: redis.port });
      const r = await answer;
      assertEquals(r.status, 503);
      const body = await r.json();
      ok(/the job was lost: Redis no longer has it/.test(body.detail), JSON.stringify(body));
    } finally {
      await server?.close();
      await redis.stop();
    }
  },
);

// Results in an S3-compatible bucket, against s3rver (an S3 server in JavaScript, started here on a loopback
// port): the --results address and the AWS_* variables checked by name, objects put and read back signed, and
// a server and a worker with --results: an embedding job's images and a generation's PNGs go through the
// bucket while Redis carries only their keys.
import { deepStrictEqual as assertEquals, ok, rejects, throws } from "node:assert";
import { join } from "node:path";
import S3rver from "s3rver";
import { Queue } from "bullmq";
import { TINY_DEMO_CLIP_DIR, TINY_DEMO_MODEL_DIR } from "../../../lib/models/defaults.ts";
import { readEmbedding } from "../../../lib/io/embedding.ts";
import { FIXTURES } from "../../fixtures.ts";
import { connect, disconnect, parseRedisUrl } from "../../../lib/queue/redis.ts";
import {
  parseObjectUrl,
  parseS3Url,
  ResultsConfigError,
  S3Client,
  type S3Config,
  s3ConfigFromEnv,
  S3Error,
  S3Results,
} from "../../../lib/queue/s3.ts";
import { queueName, type WireEmbedJob, type WireResult } from "../../../lib/queue/wire.ts";
import { post, startServer } from "../../routes/server.ts";
import { parseServeArgs } from "../../../main.ts";
import { redisMissing, startRedis, startWorker, type WorkerProcess } from "./redis_server.ts";

async function until<T>(probe: () => Promise<T>, good: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const v = await probe();
    if (good(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("--results s3://bucket/prefix: bucket and prefix read, anything else refused by name", () => {
  assertEquals(parseS3Url("s3://ag-results/runs/a/"), { bucket: "ag-results", prefix: "runs/a" });
  assertEquals(parseS3Url("s3://ag-results"), { bucket: "ag-results", prefix: "" });
  for (
    const bad of ["ag-results/x", "http://ag/x", "s3://Bad_Bucket/x", "s3://ag-results/a/../b", "s3://a"]
  ) {
    throws(
      () => parseS3Url(bad),
      (e: Error) => e instanceof ResultsConfigError && /--results/.test(e.message),
      bad,
    );
  }
  assertEquals(parseObjectUrl("s3://b1/p/x y.png"), { bucket: "b1", key: "p/x y.png" });
  // serve takes it with --queue only (it is where the workers' jobs meet).
  throws(() => parseServeArgs(["--results", "s3://ag-results/x"]), /--results needs --queue/);
  throws(() => parseServeArgs(["--queue", "redis://127.0.0.1", "--results", "ag-results"]), /s3:\/\/bucket/);
  assertEquals(
    parseServeArgs(["--queue", "redis://127.0.0.1", "--results", "s3://ag-results/x"]).results,
    "s3://ag-results/x",
  );
});

Deno.test("S3 settings come from the AWS_* variables; missing credentials are said by name", () => {
  const env = { AWS_ACCESS_KEY_ID: "k", AWS_SECRET_ACCESS_KEY: "s" };
  assertEquals(s3ConfigFromEnv(env), {
    endpoint: undefined,
    region: "us-east-1",
    accessKeyId: "k",
    secretAccessKey: "s",
    sessionToken: undefined,
  });
  const full = s3ConfigFromEnv({
    ...env,
    AWS_ENDPOINT_URL: "http://minio.local:9000/",
    AWS_REGION: "eu-west-3",
    AWS_SESSION_TOKEN: "t",
  });
  assertEquals([full.endpoint, full.region, full.sessionToken], [
    "http://minio.local:9000",
    "eu-west-3",
    "t",
  ]);
  throws(() => s3ConfigFromEnv({ AWS_ACCESS_KEY_ID: "k" }), /AWS_SECRET_ACCESS_KEY/);
  throws(() => s3ConfigFromEnv({ ...env, AWS_ENDPOINT_URL: "ftp://x" }), /AWS_ENDPOINT_URL must be an http/);
});

interface LocalS3 {
  config: S3Config;
  env: Record<string, string>;
  close(): Promise<void>;
}

async function startS3(bucket: string): Promise<LocalS3> {
  const dir = await Deno.makeTempDir({ prefix: "s3rver-" });
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory: dir,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const env = {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
  };
  return {
    config: s3ConfigFromEnv(env),
    env,
    close: async () => {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("objects put and read back, signed; a missing one is a 404 naming it", opts, async () => {
  const s3 = await startS3("ag-results");
  try {
    const client = new S3Client(s3.config);
    const results = new S3Results(client, { bucket: "ag-results", prefix: "runs/1" });
    const bytes = new Uint8Array([137, 80, 78, 71, 0, 255]);
    const url = await results.put("q/job 1/0.png", bytes, "image/png");
    assertEquals(url, "s3://ag-results/runs/1/q/job 1/0.png");
    const { bucket, key } = parseObjectUrl(url);
    assertEquals(await client.get(bucket, key), bytes);
    await rejects(
      client.get("ag-results", "runs/1/none.png"),
      (e: Error) =>
        e instanceof S3Error && e.status === 404 && /NoSuchKey/.test(e.message) &&
        /none\.png/.test(e.message),
    );
    await rejects(
      new S3Results(client, { bucket: "no-such-bucket", prefix: "" }).check("w"),
      (e: Error) => e instanceof S3Error && /NoSuchBucket/.test(e.message),
    );
  } finally {
    await s3.close();
  }
});

Deno.test("--results on the server and a worker: images travel through the bucket, Redis carries only keys", {
  ...opts,
  ignore: redisMissing !== undefined,
}, async () => {
  const body = { prompt: "a lighthouse at dusk", seed: 5, steps: 3, width: 64, height: 64, batch_size: 2 };
  const single = await startServer();
  let reference: { images: string[]; info: string };
  try {
    reference = await (await post(`${single.url}/sdapi/v1/txt2img`, body)).json();
  } finally {
    await single.close();
  }
  const s3 = await startS3("ag-results");
  const redis = await startRedis();
  const models = await Deno.makeTempDir({ prefix: "s3-worker-" });
  await Deno.symlink(TINY_DEMO_MODEL_DIR, join(models, "tiny-demo"));
  await Deno.symlink(TINY_DEMO_CLIP_DIR, join(models, "tiny-demo-clip"));
  const connection = connect(parseRedisUrl(redis.url));
  const queue = new Queue(queueName("tiny-demo"), { connection });
  // The server reads and writes the bucket with the AWS_* variables, as the worker does.
  for (const [k, v] of Object.entries(s3.env)) Deno.env.set(k, v);
  const server = await startServer({
    modelsDir: models,
    model: "tiny-demo",
    queue: redis.url,
    results: "s3://ag-results/server",
  });
  let worker: WorkerProcess | undefined;
  const client = new S3Client(s3.config);
  const read = (url: string) => {
    const { bucket, key } = parseObjectUrl(url);
    return client.get(bucket, key);
  };
  try {
    // An embedding job sent before any worker is there: it waits in Redis holding only its images' URLs.
    const images = await Promise.all(
      ["rgb.png", "gray.png"].map((f) => Deno.readFile(join(FIXTURES, "images", f))),
    );
    const form = new FormData();
    form.append("name", "via-bucket");
    images.forEach((bytes, i) => form.append("files", new File([bytes], `set/${i}.png`)));
    const tab = `${server.url}/extensions/aesthetic/create`;
    const created = await fetch(tab, { method: "POST", body: form, headers: { origin: server.url } });
    assertEquals(created.status, 202, await created.clone().text());
    const waiting = await until(() => queue.getWaiting(), (jobs) => jobs.length === 1);
    const files = (waiting[0].data as WireEmbedJob).files;
    assertEquals(files.map((f) => [f.name, f.data]), [["set/0.png", undefined], ["set/1.png", undefined]]);
    for (const [i, f] of files.entries()) assertEquals(await read(f.url!), images[i]);
    assertEquals((await (await fetch(tab)).json()).message, "Queued: waiting for a worker");
    worker = await startWorker(redis.url, models, ["--results", "s3://ag-results/runs"], s3.env);
    const status = await until(async () => await (await fetch(tab)).json(), (s) => !s.running);
    assertEquals([status.ok, status.message], [true, "Created via-bucket from 2 images (16-d)"]);
    ok((await readEmbedding(join(server.embeddingsDir, "via-bucket.pt"))).data.length === 16);
    for (const f of files) {
      await rejects(read(f.url!), (e: Error) => e instanceof S3Error && e.status === 404);
    }

    const r = await post(`${server.url}/sdapi/v1/txt2img`, body);
    assertEquals(r.status, 200);
    const got = await r.json();
    assertEquals(got.images, reference.images, "the PNGs of one process");
    const infotexts = JSON.parse(got.info).infotexts;
    assertEquals(infotexts, JSON.parse(reference.info).infotexts);
    const [done] = await queue.getCompleted();
    const output =
      (done.returnvalue as WireResult & { output: { images: string[]; imageUrls: string[] } }).output;
    assertEquals(output.images, [], "no image bytes in Redis");
    assertEquals(output.imageUrls.length, 2);
    for (const [i, url] of output.imageUrls.entries()) {
      ok(url.startsWith(`s3://ag-results/runs/${queueName("tiny-demo")}/${done.id}/`), url);
      const { bucket, key } = parseObjectUrl(url);
      assertEquals(btoa(String.fromCharCode(...await client.get(bucket, key))), got.images[i]);
      const text = new TextDecoder().decode(await client.get(bucket, key.replace(/\.png$/, ".txt")));
      assertEquals(text, infotexts[i]);
    }
  } finally {
    await server.close();
    await worker?.kill();
    await queue.close();
    await disconnect(connection);
    await redis.stop();
    await s3.close();
    await Deno.remove(models, { recursive: true });
  }
});

Deno.test("deno task worker --results: a bad address or missing credentials is exit code 2, saying which", async () => {
  const workerTs = new URL("../../../worker.ts", import.meta.url).pathname;
  const run = async (results: string, env: Record<string, string>) => {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--frozen", "-A", workerTs, "--queue", "redis://127.0.0.1:1", "--results", results],
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return { code: r.code, err: new TextDecoder().decode(r.stderr) };
  };
  const base = { PATH: Deno.env.get("PATH") ?? "", HOME: Deno.env.get("HOME") ?? "" };
  const bad = await run("s3:/bucket", base);
  assertEquals(bad.code, 2);
  ok(bad.err.includes("--results must be s3://bucket[/prefix]"), bad.err);
  const noKeys = await run("s3://ag-results/x", base);
  assertEquals(noKeys.code, 2);
  ok(noKeys.err.includes("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), noKeys.err);
});

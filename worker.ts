// `deno task worker --queue redis://host:port[/db]`: runs the generations a `serve --queue` server enqueues,
// for the models in its own --models-dir (announced in Redis, so a job only goes to a worker that has its
// model). Aesthetic embeddings travel inside each job: no embeddings folder is shared.
import { parseArgs } from "node:util";
import { EMBEDDINGS_DIR, MODELS_DIR } from "./lib/models/defaults.ts";
import { WebUIService } from "./lib/server/service.ts";
import { closeRenderer, renderImages } from "./lib/server/render.ts";
import { aestheticExtension } from "./extension/aesthetic.ts";
import { parseRedisUrl } from "./lib/queue/redis.ts";
import { type QueueWorker, startQueueWorker } from "./lib/queue/queue_worker.ts";
import { DEVICE_ARG_OPTIONS, type DeviceChoice, deviceFromArgs, DEVICES } from "./lib/models/device.ts";
import { usableDevice } from "./lib/models/providers.ts";
import { parseS3Url, S3Client, s3ConfigFromEnv, type S3Location, S3Results } from "./lib/queue/s3.ts";

const USAGE = `usage: deno task worker --queue redis://[user:pass@]host:port[/db]
       [--models-dir DIR] [--device ${DEVICES.join("|")} (cpu)] [--threads N (0: one per core)]
       [--concurrency N (1)] [--lock-ms N (30000)]
       [--results s3://bucket/prefix (images go there, not through Redis; AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY, AWS_REGION as the AWS tools read them)]`;

export interface WorkerArgs {
  queue: string;
  modelsDir: string;
  /** The device asked for, and intra-op threads (0: onnxruntime's choice). */
  device: DeviceChoice;
  concurrency: number;
  lockMs: number;
  /** --results: the bucket and prefix images are put under. */
  results?: S3Location;
}

function whole(v: string | undefined, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be a whole number ≥ ${min}, got ${v}`);
  return n;
}

export function parseWorkerArgs(args: string[]): WorkerArgs {
  const { values } = parseArgs({
    args,
    options: {
      queue: { type: "string" },
      "models-dir": { type: "string", default: MODELS_DIR },
      ...DEVICE_ARG_OPTIONS,
      concurrency: { type: "string", default: "1" },
      "lock-ms": { type: "string", default: "30000" },
      results: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  if (!values.queue) throw new Error("--queue redis://host:port is required");
  parseRedisUrl(values.queue);
  return {
    queue: values.queue,
    modelsDir: values["models-dir"]!,
    device: deviceFromArgs(values),
    concurrency: whole(values.concurrency, "--concurrency", 1)!,
    lockMs: whole(values["lock-ms"], "--lock-ms", 1000)!,
    results: values.results === undefined ? undefined : parseS3Url(values.results),
  };
}

if (import.meta.main) {
  let args: WorkerArgs;
  try {
    args = parseWorkerArgs(Deno.args);
  } catch (e) {
    console.error(`worker: ${(e as Error).message}\n${USAGE}`);
    Deno.exit(2);
  }
  // Nothing is saved here (the server saves what it gets back), but the service wants a folder.
  const outputs = await Deno.makeTempDir({ prefix: "ag-worker-" });
  let service: WebUIService;
  let worker: QueueWorker;
  try {
    // Checked once here, so the worker announces the device it really uses (a missing GPU: the CPU, said once).
    const device = await usableDevice(args.device.device, (line) => console.error(`worker: ${line}`));
    const threads = args.device.threads;
    service = await WebUIService.create({
      modelsDir: args.modelsDir,
      embeddingsDir: EMBEDDINGS_DIR,
      outputsDir: outputs,
      threads,
      device,
      render: renderImages,
    });
    service.extensions = [
      aestheticExtension({
        embeddingsDir: EMBEDDINGS_DIR,
        clipDir: () => service.currentClipDir(),
        session: { device, threads },
      }),
    ];
    let results: S3Results | undefined;
    if (args.results) {
      results = new S3Results(new S3Client(s3ConfigFromEnv()), args.results);
      // A wrong bucket, endpoint or key stops the worker here rather than failing every job.
      await results.check(`${Deno.hostname()}:${Deno.pid}`);
    }
    worker = await startQueueWorker({
      results,
      redis: parseRedisUrl(args.queue),
      service,
      concurrency: args.concurrency,
      lockMs: args.lockMs,
    });
  } catch (e) {
    console.error(`worker: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const stop = async () => {
    // Graceful: the running jobs finish, then the announcement goes.
    await worker.close();
    await service.close();
    closeRenderer();
    await Deno.remove(outputs, { recursive: true }).catch(() => {});
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  // Said once a signal would stop it gracefully.
  console.log(
    `worker ${worker.id} ready on ${args.queue} with ${worker.models.join(", ")} (${worker.device})`,
  );
}

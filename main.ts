// `deno task serve`: the WebUI (txt2img, img2img, the aesthetic extension's tab, PNG Info, Settings) and the
// AUTOMATIC1111-compatible API under /sdapi/v1, on 127.0.0.1 unless --listen.
import { parseArgs } from "node:util";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_MODEL_DIR, EMBEDDINGS_DIR, MODELS_DIR } from "./lib/models/defaults.ts";
import { bundleIslands } from "./lib/server/bundle.ts";
import { WebUIService } from "./lib/server/service.ts";
import { renderImages } from "./lib/server/render.ts";
import { aestheticExtension } from "./extension/aesthetic.ts";
import { createApp, parseAuth } from "./routes/app.ts";
import { DEFAULT_LIMITS, type ServerLimits } from "./lib/server/limits.ts";
import type { CmdFlags } from "./routes/sdapi.ts";
import { parseRedisUrl } from "./lib/queue/redis.ts";
import { BullRunner } from "./lib/queue/bull_runner.ts";
import { type DroppedSource, singleFileSources } from "./lib/models/single_file/dropped.ts";
import { parseS3Url, S3Client, s3ConfigFromEnv, S3Results } from "./lib/queue/s3.ts";

const USAGE = `usage: deno task serve [--port N (7860)] [--listen] [--api-auth user:pass]
       [--models-dir DIR] [--a1111-dir DIR] [--embeddings-dir DIR] [--model NAME] [--outputs DIR]
       [--data-dir DIR (.)] [--settings FILE (DATA_DIR/config.json)] [--styles FILE (DATA_DIR/styles.csv)]
       [--allowed-hosts H1,H2] [--cors-allow-origins O1,O2]
       [--allow-any-output-dir] [--max-steps N (${DEFAULT_LIMITS.maxSteps})]
       [--max-batch-size N (${DEFAULT_LIMITS.maxBatchSize})] [--max-images N (${DEFAULT_LIMITS.maxImages})]
       [--max-memory GB (3/4 of the machine's memory)]
       [--queue redis://[user:pass@]host:port[/db] (jobs run on \`deno task worker\`s; default: here)]
       [--results s3://bucket/prefix (with --queue: embedding jobs' images go there, not through Redis)]`;

export interface ServeOptions {
  port: number;
  hostname: string;
  auth?: string;
  modelsDir: string;
  /**
   * Where A1111 single files are listed from (imported on first use); default the models folder, plus an
   * A1111 installation's models/Stable-diffusion and models/VAE with --a1111-dir.
   */
  singleFileSources?: DroppedSource[];
  /** The server log's lines about models (imports, hashing); default the console. */
  log?: (line: string) => void;
  embeddingsDir: string;
  model?: string;
  outputsDir: string;
  settingsFile?: string;
  stylesFile?: string;
  /** Host names served besides the loopback ones (with --listen, this machine's names and addresses too). */
  allowedHosts?: string[];
  corsAllowOrigins?: string[];
  allowAnyOutputDir?: boolean;
  limits?: Partial<ServerLimits>;
  /** The memory budget of one job (--max-memory GB). */
  maxMemoryBytes?: number;
  /** --queue: generations go to BullMQ on this Redis (redis://…) and run on `deno task worker`s. */
  queue?: string;
  /** --results: with --queue, embedding jobs' images are put in this bucket (AWS_* settings). */
  results?: string;
}

function gigabytes(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`--max-memory must be a number of GB above 0, got ${v}`);
  return Math.floor(n * 2 ** 30);
}

function list(v: string | undefined): string[] {
  return (v ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

function positive(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a whole number ≥ 1, got ${v}`);
  return n;
}

/** With --listen: this machine's host name and interface addresses, which other machines use to reach it. */
function machineHosts(): string[] {
  const addrs = Deno.networkInterfaces().map((i) => (i.family === "IPv6" ? `[${i.address}]` : i.address));
  return [Deno.hostname(), ...addrs];
}

export function parseServeArgs(args: string[]): ServeOptions {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "7860" },
      listen: { type: "boolean", default: false },
      "api-auth": { type: "string" },
      "models-dir": { type: "string", default: MODELS_DIR },
      "a1111-dir": { type: "string" },
      "embeddings-dir": { type: "string", default: EMBEDDINGS_DIR },
      model: { type: "string" },
      outputs: { type: "string", default: "outputs" },
      "data-dir": { type: "string", default: "." },
      settings: { type: "string" },
      styles: { type: "string" },
      "allowed-hosts": { type: "string" },
      "cors-allow-origins": { type: "string" },
      "allow-any-output-dir": { type: "boolean", default: false },
      "max-steps": { type: "string" },
      "max-batch-size": { type: "string" },
      "max-images": { type: "string" },
      "max-memory": { type: "string" },
      queue: { type: "string" },
      results: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    Deno.exit(0);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be 0..65535, got ${values.port}`);
  }
  if (values["api-auth"] !== undefined) parseAuth(values["api-auth"]);
  if (values.queue !== undefined) parseRedisUrl(values.queue);
  if (values.results !== undefined) {
    if (values.queue === undefined) {
      throw new Error("--results needs --queue (it is where workers' jobs meet)");
    }
    parseS3Url(values.results);
  }
  return {
    port,
    hostname: values.listen ? "0.0.0.0" : "127.0.0.1",
    auth: values["api-auth"],
    modelsDir: values["models-dir"]!,
    singleFileSources: singleFileSources(values["models-dir"]!, values["a1111-dir"]),
    embeddingsDir: values["embeddings-dir"]!,
    model: values.model,
    outputsDir: join(Deno.cwd(), values.outputs!),
    // Settings and styles live in the data folder by default, as A1111's config.json and styles.csv do.
    settingsFile: values.settings ?? join(values["data-dir"]!, "config.json"),
    stylesFile: values.styles ?? join(values["data-dir"]!, "styles.csv"),
    allowedHosts: [...list(values["allowed-hosts"]), ...(values.listen ? machineHosts() : [])],
    corsAllowOrigins: list(values["cors-allow-origins"]),
    allowAnyOutputDir: values["allow-any-output-dir"],
    maxMemoryBytes: values["max-memory"] === undefined ? undefined : gigabytes(values["max-memory"]),
    queue: values.queue,
    results: values.results,
    limits: {
      maxSteps: positive(values["max-steps"], "--max-steps"),
      maxBatchSize: positive(values["max-batch-size"], "--max-batch-size"),
      maxImages: positive(values["max-images"], "--max-images"),
    },
  };
}

/** The flags under A1111's cmd_opts names where it has one; the credentials never leave the server. */
function cmdFlags(o: ServeOptions): CmdFlags {
  return {
    listen: o.hostname === "0.0.0.0",
    port: o.port,
    api: true,
    api_auth: o.auth ? "(set)" : null,
    ckpt_dir: o.modelsDir,
    embeddings_dir: o.embeddingsDir,
    ckpt: o.model ?? null,
    data_dir: Deno.cwd(),
    ui_settings_file: o.settingsFile ?? null,
    styles_file: o.stylesFile ? [o.stylesFile] : [],
    cors_allow_origins: (o.corsAllowOrigins ?? []).join(",") || null,
    allowed_hosts: o.allowedHosts ?? [],
    allow_any_output_dir: o.allowAnyOutputDir ?? false,
    max_steps: o.limits?.maxSteps ?? DEFAULT_LIMITS.maxSteps,
    max_batch_size: o.limits?.maxBatchSize ?? DEFAULT_LIMITS.maxBatchSize,
    max_images: o.limits?.maxImages ?? DEFAULT_LIMITS.maxImages,
    max_memory_gb: o.maxMemoryBytes ? o.maxMemoryBytes / 2 ** 30 : null,
  };
}

export interface Server {
  url: string;
  service: WebUIService;
  shutdown(): Promise<void>;
}

export async function serve(opts: ServeOptions): Promise<Server> {
  let inputs: S3Results | undefined;
  if (opts.results) {
    inputs = new S3Results(new S3Client(s3ConfigFromEnv()), parseS3Url(opts.results));
    // A wrong bucket, endpoint or key stops the server here rather than failing every embedding job.
    await inputs.check(`server-${Deno.hostname()}`);
  }
  const remote = opts.queue ? await BullRunner.open({ redis: parseRedisUrl(opts.queue), inputs }) : undefined;
  const [service, clientJs] = await Promise.all([
    WebUIService.create({
      modelsDir: opts.modelsDir,
      singleFileSources: opts.singleFileSources,
      log: opts.log,
      embeddingsDir: opts.embeddingsDir,
      outputsDir: opts.outputsDir,
      settingsFile: opts.settingsFile,
      stylesFile: opts.stylesFile,
      allowAnyOutputDir: opts.allowAnyOutputDir,
      maxMemoryBytes: opts.maxMemoryBytes,
      limits: Object.fromEntries(Object.entries(opts.limits ?? {}).filter(([, v]) => v !== undefined)),
      // The demo world unless asked otherwise; WebUIService falls back to the first model when it is absent.
      defaultModel: opts.model ?? basename(DEFAULT_MODEL_DIR),
      render: renderImages,
      remote,
    }),
    bundleIslands(fileURLToPath(new URL("./islands/client.ts", import.meta.url))),
  ]);
  service.extensions = [
    aestheticExtension({
      embeddingsDir: opts.embeddingsDir,
      clipDir: () => service.currentClipDir(),
      // Without --api-auth anyone who reaches the server could probe which paths exist through its errors.
      revealPaths: opts.auth !== undefined,
      // With --queue, the tab's embeddings are made by a worker holding the current checkpoint's CLIP pair.
      remoteEmbedder: remote && {
        embed: (job, onProgress) => remote.embed(service.options.sd_model_checkpoint, job, onProgress),
      },
    }),
  ];
  const app = createApp(service, {
    auth: opts.auth,
    clientJs,
    guard: { allowedHosts: opts.allowedHosts ?? [], corsAllowOrigins: opts.corsAllowOrigins ?? [] },
    cmdFlags: cmdFlags(opts),
  });
  const ready = Promise.withResolvers<string>();
  const server = Deno.serve({
    port: opts.port,
    hostname: opts.hostname,
    onListen: ({ hostname, port }) => ready.resolve(`http://${hostname}:${port}`),
  }, app.fetch);
  const url = await ready.promise;
  return {
    url,
    service,
    shutdown: async () => {
      await server.shutdown();
      await service.close();
    },
  };
}

if (import.meta.main) {
  try {
    const opts = parseServeArgs(Deno.args);
    const server = await serve(opts);
    console.log(
      `aesthetic-gradients WebUI on ${server.url} (API: ${server.url}/sdapi/v1, docs: ${server.url}/docs)`,
    );
    Deno.addSignalListener("SIGINT", async () => {
      await server.shutdown();
      Deno.exit(0);
    });
  } catch (e) {
    console.error(`serve: ${(e as Error).message}`);
    Deno.exit(2);
  }
}

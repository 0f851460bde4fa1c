// `deno task serve`: the WebUI (txt2img, img2img, the aesthetic extension's tab, PNG Info, Settings) and the
// AUTOMATIC1111-compatible API under /sdapi/v1, on 127.0.0.1 unless --listen.
import { parseArgs } from "node:util";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EMBEDDINGS_DIR, MODELS_DIR } from "./lib/models/defaults.ts";
import { bundleIslands } from "./lib/server/bundle.ts";
import { WebUIService } from "./lib/server/service.ts";
import { renderImages } from "./lib/server/render.ts";
import { aestheticExtension } from "./extension/aesthetic.ts";
import { createApp, parseAuth } from "./routes/app.ts";

const USAGE = `usage: deno task serve [--port N (7860)] [--listen] [--api-auth user:pass]
       [--models-dir DIR] [--embeddings-dir DIR] [--model NAME] [--outputs DIR]
       [--data-dir DIR (.)] [--settings FILE (DATA_DIR/config.json)]`;

export interface ServeOptions {
  port: number;
  hostname: string;
  auth?: string;
  modelsDir: string;
  embeddingsDir: string;
  model?: string;
  outputsDir: string;
  settingsFile?: string;
}

export function parseServeArgs(args: string[]): ServeOptions {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "7860" },
      listen: { type: "boolean", default: false },
      "api-auth": { type: "string" },
      "models-dir": { type: "string", default: MODELS_DIR },
      "embeddings-dir": { type: "string", default: EMBEDDINGS_DIR },
      model: { type: "string" },
      outputs: { type: "string", default: "outputs" },
      "data-dir": { type: "string", default: "." },
      settings: { type: "string" },
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
  return {
    port,
    hostname: values.listen ? "0.0.0.0" : "127.0.0.1",
    auth: values["api-auth"],
    modelsDir: values["models-dir"]!,
    embeddingsDir: values["embeddings-dir"]!,
    model: values.model,
    outputsDir: join(Deno.cwd(), values.outputs!),
    // Settings persist by default, as A1111's config.json in its data folder.
    settingsFile: values.settings ?? join(values["data-dir"]!, "config.json"),
  };
}

export interface Server {
  url: string;
  service: WebUIService;
  shutdown(): Promise<void>;
}

export async function serve(opts: ServeOptions): Promise<Server> {
  const [service, clientJs] = await Promise.all([
    WebUIService.create({
      modelsDir: opts.modelsDir,
      embeddingsDir: opts.embeddingsDir,
      outputsDir: opts.outputsDir,
      settingsFile: opts.settingsFile,
      defaultModel: opts.model,
      render: renderImages,
    }),
    bundleIslands(fileURLToPath(new URL("./islands/client.ts", import.meta.url))),
  ]);
  service.extensions = [
    aestheticExtension({
      embeddingsDir: opts.embeddingsDir,
      clipDir: () => service.currentClipDir(),
    }),
  ];
  const app = createApp(service, { auth: opts.auth, clientJs });
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

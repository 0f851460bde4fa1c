// Test helper: the real server (real pipeline; the embedded random-weight tiny demo unless a test picks another
// model) on a free loopback port, with an embeddings folder of its own holding a copy of the tiny demo's
// embedding.
import { join } from "node:path";
import { MODELS_DIR, TINY_DEMO_EMBEDDING } from "../../lib/models/defaults.ts";
import { serve, type ServeOptions, type Server } from "../../main.ts";

export interface TestServer extends Server {
  embeddingsDir: string;
  /** The temporary data folder (styles.csv, outputs/, embeddings/). */
  root: string;
  close(): Promise<void>;
}

/** `root` reuses a folder (a restart: its embeddings and config.json stay, and close() leaves it). */
export async function startServer(
  opts: Partial<ServeOptions> & { root?: string } = {},
): Promise<TestServer> {
  const { root: given, ...serveOpts } = opts;
  const root = given ?? await Deno.makeTempDir({ prefix: "webui-test-" });
  // A1111's styles.csv format: name, prompt ({prompt} marks where the request's prompt goes), negative prompt.
  await Deno.writeTextFile(
    join(root, "styles.csv"),
    'name,prompt,negative_prompt\n"my style","{prompt}, oil painting","lowres"\nplain,"by the sea",\n',
  );
  const embeddingsDir = join(root, "embeddings");
  await Deno.mkdir(embeddingsDir, { recursive: true });
  await Deno.copyFile(TINY_DEMO_EMBEDDING, join(embeddingsDir, "tiny-demo.pt"));
  const server = await serve({
    port: 0,
    hostname: "127.0.0.1",
    modelsDir: MODELS_DIR,
    // The random-weight demo is the fastest complete pipeline; the demo world's own tests choose it by name.
    model: "tiny-demo",
    embeddingsDir,
    outputsDir: join(root, "outputs"),
    settingsFile: join(root, "config.json"),
    stylesFile: join(root, "styles.csv"),
    ...serveOpts,
  });
  return {
    ...server,
    embeddingsDir,
    root,
    close: async () => {
      await server.shutdown();
      if (!opts.root) await Deno.remove(root, { recursive: true });
    },
  };
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

// Runs AUTOMATIC1111's own API tests (its repository's test/ folder: test_txt2img.py, test_img2img.py,
// test_utils.py and conftest.py, with test_files/) unmodified against this server, dev-time only:
//   deno task a1111-tests DIR        (DIR holds those files; pytest, pytest-base-url and requests in the
//                                     fixtures' venv or FIXTURES_VENV)
// The server runs on a free loopback port over a temporary data folder with the embedded demo model.
import { join } from "node:path";
import { MODELS_DIR, TINY_DEMO_EMBEDDING } from "../lib/models/defaults.ts";
import { serve } from "../main.ts";

const dir = Deno.args[0];
if (!dir) {
  console.error("usage: deno task a1111-tests DIR (A1111's test/ folder)");
  Deno.exit(2);
}
const venv = Deno.env.get("FIXTURES_VENV") ?? join(import.meta.dirname!, "fixtures", ".venv");
const root = await Deno.makeTempDir({ prefix: "a1111-tests-" });
await Deno.mkdir(join(root, "embeddings"));
await Deno.copyFile(TINY_DEMO_EMBEDDING, join(root, "embeddings", "tiny-demo.pt"));
const server = await serve({
  port: 0,
  hostname: "127.0.0.1",
  modelsDir: MODELS_DIR,
  embeddingsDir: join(root, "embeddings"),
  outputsDir: join(root, "outputs"),
  settingsFile: join(root, "config.json"),
});
const pytest = new Deno.Command(join(venv, "bin", "python"), {
  args: ["-m", "pytest", dir, "--base-url", server.url, "-rA", "-p", "no:cacheprovider"],
  stdout: "inherit",
  stderr: "inherit",
});
const { code } = await pytest.output();
await server.shutdown();
await Deno.remove(root, { recursive: true });
Deno.exit(code);

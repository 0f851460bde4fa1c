// The browser bundle of the islands, built with `deno bundle` from the locked npm packages (no network, no
// CDN): once at server start, kept in memory.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Bundles the browser entry point the caller names (main.ts: islands/client.ts). */
export async function bundleIslands(entry: string): Promise<string> {
  const out = await Deno.makeTempDir({ prefix: "islands-" });
  try {
    const file = join(out, "client.js");
    const cmd = new Deno.Command(Deno.execPath(), {
      args: ["bundle", "--frozen", "--quiet", "--platform", "browser", "--minify", "-o", file, entry],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    });
    const r = await cmd.output();
    if (!r.success) {
      throw new Error(`bundling the islands failed:\n${new TextDecoder().decode(r.stderr)}`);
    }
    return await Deno.readTextFile(file);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

// The project's CLIs as a user runs them: a subprocess of this Deno, output captured as text.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `<repo>/<script>` (e.g. "txt2img.ts") with `args`; never throws for a non-zero exit. */
export async function runCli(
  script: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--frozen", "-A", join(ROOT, script), ...args],
    cwd: opts.cwd,
    env: { NO_COLOR: "1", ...opts.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

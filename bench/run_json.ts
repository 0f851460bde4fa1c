// Runs one side of a benchmark in its own process; its last stdout line is a JSON object of measures.
import type { Measures } from "./stats.ts";

export async function runJson(
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Measures> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "inherit", env }).output();
  if (out.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed`);
  const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
  return JSON.parse(lines.at(-1)!);
}

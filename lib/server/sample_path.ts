// Where "always save" puts an image, as A1111 lays out its outputs: outputs/<mode>-images/<YYYY-MM-DD>/
// <NNNNN>-<seed>.png, NNNNN following the highest number already in that day's folder.
import { join } from "node:path";
import type { Mode } from "../extensions/job.ts";

function day(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** The next free sample path (the folder is created). */
export async function nextSamplePath(
  root: string,
  mode: Mode,
  seed: number,
  now = new Date(),
): Promise<string> {
  const dir = join(root, `${mode}-images`, day(now));
  await Deno.mkdir(dir, { recursive: true });
  let next = 0;
  for await (const e of Deno.readDir(dir)) {
    const m = /^(\d{5,})-/.exec(e.name);
    if (m) next = Math.max(next, Number(m[1]) + 1);
  }
  return join(dir, `${String(next).padStart(5, "0")}-${seed}.png`);
}

// Run by release_memory_test.ts in a process of its own: the real server renders a small job, a large one and a
// small one again; prints the process's resident memory (VmRSS) after each, and its peak (VmHWM), in MiB.
import { closeRenderer } from "../../../lib/server/render.ts";
import { post, startServer } from "../../routes/server.ts";

function memory(): { rss: number; peak: number } {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kib = (key: string) => Number(status.match(new RegExp(`${key}:\\s+(\\d+) kB`))![1]);
  return { rss: Math.round(kib("VmRSS") / 1024), peak: Math.round(kib("VmHWM") / 1024) };
}

const side = Number(Deno.args[0]);
const s = await startServer();
try {
  const run = async (size: number) => {
    const r = await post(`${s.url}/sdapi/v1/txt2img`, { prompt: "x", steps: 1, width: size, height: size });
    if (r.status !== 200) throw new Error(`${size}×${size}: ${r.status} ${await r.text()}`);
    await r.body?.cancel();
  };
  await run(64);
  const before = memory();
  await run(side);
  const after = memory();
  await run(64);
  console.log(JSON.stringify({ before, after, again: memory() }));
} finally {
  await s.close();
  // The render worker outlives the server (it is shared by the process); a worker whose sessions were
  // released keeps the process alive, so it is stopped as a server's process does on SIGINT/SIGTERM.
  closeRenderer();
}

// After a large job, the render worker closes the model's sessions, so onnxruntime's arenas (which keep their
// peak for the life of a session; onnxruntime-node does not pass on the run option that shrinks them) go back to
// the system. Measured in a process of its own (release_memory_child.ts): the resident memory after a 448×448
// job on the tiny demo (peak about 1 GB) comes back near what it was before it.
import { ok } from "node:assert";

Deno.test("after a large job the process's memory comes back near its level before the job", async () => {
  const child = new URL("./release_memory_child.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--frozen", child, "448"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  ok(out.success, new TextDecoder().decode(out.stderr));
  const m = JSON.parse(text.trim().split("\n").at(-1)!);
  const rise = m.after.peak - m.before.rss;
  // The job was large: it took over 500 MiB beyond the process's level before it...
  ok(rise > 500, `peak ${m.after.peak} MiB, before ${m.before.rss} MiB`);
  // ...and less than 100 MiB of it is still held after it, and after the next (small) job reopens the model.
  ok(m.after.rss - m.before.rss < 100, `after the job: ${m.after.rss} MiB, before: ${m.before.rss} MiB`);
  ok(m.again.rss - m.before.rss < 100, `after the next job: ${m.again.rss} MiB, before: ${m.before.rss} MiB`);
});

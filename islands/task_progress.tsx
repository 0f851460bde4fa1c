// One page follows its own job: polls /internal/progress with the task id its request carried, shows its place
// in the queue, then its progress and live preview; a poll answered after the job ended is dropped, so no
// stale bar stays behind.
import { useRef, useState } from "preact/hooks";
import type { TaskProgress } from "../lib/server/tasks.ts";
import { api } from "./api.ts";

interface Follow {
  id: string;
  alive: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

export function useTaskProgress(intervalMs = 400) {
  const [progress, setProgress] = useState<TaskProgress | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const current = useRef<Follow | null>(null);

  const stop = () => {
    if (current.current) {
      current.current.alive = false;
      clearTimeout(current.current.timer);
    }
    current.current = null;
    setProgress(null);
    setPreview(null);
  };

  const follow = (id: string) => {
    stop();
    const f: Follow = { id, alive: true };
    current.current = f;
    let previewId = -1;
    const tick = async () => {
      try {
        const p = await api<TaskProgress>("/internal/progress", {
          id_task: id,
          id_live_preview: previewId,
          live_preview: true,
        });
        if (!f.alive) return;
        setProgress(p);
        if (p.live_preview) {
          setPreview(p.live_preview);
          previewId = p.id_live_preview;
        }
      } catch { /* the next poll will tell */ }
      if (f.alive) f.timer = setTimeout(tick, intervalMs);
    };
    f.timer = setTimeout(tick, 50);
  };

  return { progress, preview, follow, stop, taskId: () => current.current?.id };
}

export function ProgressBar({ p, id }: { p: TaskProgress | null; id: string }) {
  if (!p || p.completed) return null;
  const frac = p.progress ?? 0;
  const text = p.queued || !p.active
    ? p.textinfo ?? "Waiting..."
    : `${(frac * 100).toFixed(0)}% · ETA ${(p.eta ?? 0).toFixed(1)} s` +
      (p.sampling_steps ? ` · step ${p.sampling_step}/${p.sampling_steps}` : "") +
      (p.textinfo ? ` · ${p.textinfo}` : "");
  return (
    <div class="progress" id={id} role="progressbar" aria-valuenow={Math.round(frac * 100)}>
      <div class="bar" style={{ width: `${(frac * 100).toFixed(1)}%` }} />
      <span>{text}</span>
    </div>
  );
}

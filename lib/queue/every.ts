// A timer for async checks: runs `fn` every `ms`, skipping a tick while the previous run has not finished (a
// slow Redis must not pile up calls), its errors dropped (the next tick tries again).
export function every(ms: number, fn: () => Promise<void>): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    fn().catch(() => {}).finally(() => (busy = false));
  }, ms);
  return () => clearInterval(timer);
}

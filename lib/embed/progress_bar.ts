// One-line text progress for a terminal: bar, counts, images/s and ETA.
import type { Progress } from "./make_embedding.ts";

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n: number) => String(n).padStart(2, "0");
  return h > 0 ? `${h}:${two(m)}:${two(r)}` : `${m}:${two(r)}`;
}

export function formatProgress(p: Progress, barWidth = 30): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const filled = Math.round(frac * barWidth);
  const bar = "#".repeat(filled) + "-".repeat(barWidth - filled);
  const skipped = p.skipped > 0 ? `, ${p.skipped} skipped` : "";
  const eta = p.etaSeconds === undefined ? "?" : formatDuration(p.etaSeconds);
  return `[${bar}] ${p.done}/${p.total}${skipped}  ${p.imagesPerSecond.toFixed(1)} img/s  ETA ${eta}`;
}

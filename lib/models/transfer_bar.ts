// One terminal line per file being downloaded: name, bar, bytes and speed.

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let u = 0;
  while (n >= 1024 && u < units.length - 1) n /= 1024, u++;
  return u === 0 ? `${n} B` : `${n.toFixed(1)} ${units[u]}`;
}

export interface Transfer {
  file: string;
  done: number;
  total: number;
  bytesPerSecond: number;
}

export function formatTransfer(t: Transfer, barWidth = 24): string {
  const frac = t.total > 0 ? Math.min(1, t.done / t.total) : 1;
  const filled = Math.round(frac * barWidth);
  const bar = "#".repeat(filled) + "-".repeat(barWidth - filled);
  const speed = Number.isFinite(t.bytesPerSecond) ? `${formatBytes(Math.round(t.bytesPerSecond))}/s` : "";
  return `${t.file} [${bar}] ${formatBytes(t.done)}/${formatBytes(t.total)} ${speed}`.trimEnd();
}

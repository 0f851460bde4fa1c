// A line chart as inline SVG: the aesthetic similarity at each optimization step, one line per prompt chunk.
import type { Chart } from "../lib/extensions/job.ts";

const W = 320;
const H = 200;
const PAD = { left: 52, right: 12, top: 24, bottom: 36 };
const COLORS = ["#e8590c", "#1c7ed6", "#2f9e44", "#ae3ec9", "#f08c00"];

function ticks(lo: number, hi: number): number[] {
  if (hi === lo) return [lo];
  return [0, 0.25, 0.5, 0.75, 1].map((f) => lo + f * (hi - lo));
}

export function ChartView({ chart }: { chart: Chart }) {
  const all = chart.series.flatMap((s) => s.values);
  const n = Math.max(1, ...chart.series.map((s) => s.values.length));
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (!Number.isFinite(lo)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-6) [lo, hi] = [lo - 0.01, hi + 0.01];
  const x = (i: number) => PAD.left + (n === 1 ? 0 : (i / (n - 1)) * (W - PAD.left - PAD.right));
  // At most about ten step labels, so 50 steps do not overlap.
  const every = Math.max(1, Math.ceil((n - 1) / 10));
  const y = (v: number) => PAD.top + (1 - (v - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-label={chart.title}>
        <text x={W / 2} y={14} text-anchor="middle" class="title">{chart.title}</text>
        {ticks(lo, hi).map((t) => (
          <g key={t}>
            <line x1={PAD.left} x2={W - PAD.right} y1={y(t)} y2={y(t)} class="grid" />
            <text x={PAD.left - 4} y={y(t) + 3} text-anchor="end">{t.toFixed(4)}</text>
          </g>
        ))}
        {Array.from({ length: n }, (_, i) => i).filter((i) =>
          i % every === 0 || (i === n - 1 && i % every >= every / 2)
        ).map((i) => <text key={i} x={x(i)} y={H - PAD.bottom + 14} text-anchor="middle">{i}</text>)}
        <text x={(PAD.left + W - PAD.right) / 2} y={H - 4} text-anchor="middle">{chart.xLabel}</text>
        {chart.series.map((s, k) => (
          <g key={s.label} class="series">
            <polyline
              fill="none"
              stroke={COLORS[k % COLORS.length]}
              stroke-width={2}
              points={s.values.map((v, i) => `${x(i)},${y(v)}`).join(" ")}
            />
            {s.values.map((v, i) => (
              <circle key={i} cx={x(i)} cy={y(v)} r={2.5} fill={COLORS[k % COLORS.length]} />
            ))}
          </g>
        ))}
      </svg>
      <figcaption>
        {chart.yLabel}
        {chart.series.length > 1 && (
          <span class="legend">
            {chart.series.map((s, k) => (
              <span key={s.label}>
                <i style={{ background: COLORS[k % COLORS.length] }} />
                {s.label}
              </span>
            ))}
          </span>
        )}
      </figcaption>
    </figure>
  );
}

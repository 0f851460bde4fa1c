// Medians and ranges over interleaved rounds, and the Markdown rows the benchmarks print.

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const range = (xs: number[], digits: number): string =>
  `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

/** Per-round ratios a[i] / b[i]: rounds ran back to back, so each pair saw the same machine. */
export const ratios = (a: number[], b: number[]): number[] => a.map((x, i) => x / b[i]);

/** "median (min–max)" of a measure over the rounds. */
export const cell = (xs: number[], digits: number): string =>
  `${median(xs).toFixed(digits)} (${range(xs, digits)})`;

export function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

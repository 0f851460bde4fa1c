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

export type Measures = Record<string, number>;

/**
 * Runs every side once per round, in turn (A, B, C, A, B, C, …), so a slow spell of the machine falls on all
 * sides alike; returns each side's measures per round.
 */
export async function interleaved<K extends string>(
  sides: Record<K, () => Promise<Measures>>,
  rounds: number,
): Promise<Record<K, Measures[]>> {
  const names = Object.keys(sides) as K[];
  const runs = Object.fromEntries(names.map((k) => [k, [] as Measures[]])) as Record<K, Measures[]>;
  for (let round = 0; round < rounds; round++) {
    for (const side of names) runs[side].push(await sides[side]());
  }
  return runs;
}

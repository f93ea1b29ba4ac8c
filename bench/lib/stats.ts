/** Percentiles and table printing. */

/** The p-th percentile (0..100, nearest-rank) of already sorted numbers; NaN when empty. */
export function pct(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function sortNum(xs: number[]): number[] {
  return xs.sort((a, b) => a - b);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function median(xs: number[]): number {
  return pct(sortNum([...xs]), 50);
}

/** Formats a number with `d` decimals; `–` for NaN. */
export function f(n: number, d = 1): string {
  return Number.isFinite(n) ? n.toFixed(d) : '–';
}

/** Prints a titled, column-aligned table. */
export function printTable(title: string, header: string[], rows: string[][], notes: string[] = []): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ');
  console.log(`\n== ${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('-+-'));
  for (const r of rows) console.log(line(r));
  for (const n of notes) console.log(`  ${n}`);
}

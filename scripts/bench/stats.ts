/** One measured value of one measurement for one subject (a line of the raw JSON-lines file). */
export interface Sample {
  readonly measurement: string;
  readonly subject: string;
  readonly run: number;
  readonly value: number;
  readonly unit: 'ms' | 'req/s' | 'count';
  /** Anything else worth keeping with the sample (e.g. units left running). */
  readonly detail?: Record<string, unknown>;
}

/** The value at quantile `q` (0..1) of `xs`, nearest-rank; NaN for none. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly p99: number;
  readonly max: number;
}

export function summarise(xs: readonly number[]): Summary {
  return { n: xs.length, min: Math.min(...xs), median: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: Math.max(...xs) };
}

/** A number as the table shows it: ms and req/s with up to one decimal, counts whole. */
export function formatValue(value: number, unit: Sample['unit']): string {
  if (Number.isNaN(value)) return '-';
  if (unit === 'count') return value.toFixed(0);
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/**
 * The benchmark's table: one row per measurement, ours and fleet's min/median/max (and n), and the
 * ratio of fleet's median to ours (how many times faster ours is; below 1, slower). Tab-separated
 * columns aligned with spaces.
 */
export function benchTable(samples: readonly Sample[], order: readonly string[], subjects: readonly string[]): string {
  const header = ['measurement', 'unit', ...subjects.flatMap((s) => [`${s} n`, `${s} min`, `${s} median`, `${s} max`]), ...(subjects.length === 2 ? [`ratio ${subjects[1]}/${subjects[0]}`] : [])];
  const rows: string[][] = [header];
  for (const measurement of order) {
    const of = samples.filter((s) => s.measurement === measurement);
    if (of.length === 0) continue;
    const unit = of[0]!.unit;
    const cells = [measurement, unit];
    const medians: number[] = [];
    for (const subject of subjects) {
      const xs = of.filter((s) => s.subject === subject).map((s) => s.value);
      if (xs.length === 0) {
        cells.push('0', '-', '-', '-');
        medians.push(Number.NaN);
        continue;
      }
      const sum = summarise(xs);
      cells.push(String(sum.n), formatValue(sum.min, unit), formatValue(sum.median, unit), formatValue(sum.max, unit));
      medians.push(sum.median);
    }
    if (subjects.length === 2) {
      const [ours, theirs] = medians as [number, number];
      cells.push(Number.isNaN(ours) || Number.isNaN(theirs) || ours === 0 ? '-' : `${(theirs / ours).toFixed(1)}x`);
    }
    rows.push(cells);
  }
  const widths = header.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()).join('\n');
}

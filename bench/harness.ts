/**
 * Small measuring helpers shared by every bench suite. Each measurement runs after a forced GC
 * (when `--expose-gc` is on) and reports events per second and the heap it left behind.
 */

export interface Measurement {
  /** What was measured. */
  name: string;
  /** Events processed. */
  events: number;
  /** Wall time in milliseconds (best of `repeat` runs). */
  ms: number;
  /** Events per second (from the best run). */
  perSecond: number;
  /** Heap used after the run minus before it, in MB, measured after a GC when available. */
  heapDeltaMb: number;
  /** Free-form columns a suite wants to add. */
  extra?: Record<string, string | number>;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Collects garbage when the process runs with `--expose-gc`. */
export function collect(): void {
  gc?.();
  gc?.();
}

/** Heap used now, in bytes, after a GC when available. */
export function heapUsed(): number {
  collect();
  return process.memoryUsage().heapUsed;
}

/**
 * Runs `run` `repeat` times (plus one warm-up) and keeps the fastest. `run` may return a promise
 * and may return extra columns for the table.
 */
export async function measure(
  name: string,
  events: number,
  run: () =>
    | void
    | Record<string, string | number>
    | Promise<void | Record<string, string | number>>,
  repeat = 3,
): Promise<Measurement> {
  await run();
  let best = Number.POSITIVE_INFINITY;
  let heapDeltaMb = 0;
  let extra: Record<string, string | number> | undefined;
  for (let attempt = 0; attempt < repeat; attempt++) {
    const before = heapUsed();
    const start = performance.now();
    const result = await run();
    const ms = performance.now() - start;
    if (ms < best) {
      best = ms;
      extra = result ?? undefined;
    }
    heapDeltaMb = Math.max(heapDeltaMb, (heapUsed() - before) / 1_048_576);
  }
  const measurement: Measurement = {
    name,
    events,
    ms: best,
    perSecond: events / (best / 1000),
    heapDeltaMb,
  };
  if (extra !== undefined) measurement.extra = extra;
  return measurement;
}

/** Formats a number of events per second as e.g. `12.3 M/s`. */
export function rate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k/s`;
  return `${perSecond.toFixed(0)} /s`;
}

/**
 * Prints measurements as a markdown table, with each row's rate divided by the first row's (a
 * ratio of events/s within one run: below 1, the row is slower than the first).
 */
export function printTable(rows: Measurement[]): void {
  const extraKeys = [...new Set(rows.flatMap((row) => Object.keys(row.extra ?? {})))];
  const header = [
    'case',
    'events',
    'ms',
    'events/s',
    'events/s ÷ first',
    'heap Δ MB',
    ...extraKeys,
  ];
  const base = rows[0]?.perSecond ?? 1;
  const lines = rows.map((row) => [
    row.name,
    row.events.toLocaleString('en-US'),
    row.ms.toFixed(1),
    rate(row.perSecond),
    (row.perSecond / base).toFixed(2),
    row.heapDeltaMb.toFixed(1),
    ...extraKeys.map((key) => String(row.extra?.[key] ?? '')),
  ]);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`| ${header.map(() => '---').join(' | ')} |`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The round whose throughput is the median of the rounds', with every round's rate beside it. */
export function medianRow(rounds: Measurement[]): Measurement {
  const middle = median(rounds.map((round) => round.perSecond));
  const row = rounds.reduce((best, round) =>
    Math.abs(round.perSecond - middle) < Math.abs(best.perSecond - middle) ? round : best,
  );
  return {
    ...row,
    extra: {
      ...row.extra,
      'k/s per round': rounds.map((round) => (round.perSecond / 1000).toFixed(1)).join(' / '),
    },
  };
}

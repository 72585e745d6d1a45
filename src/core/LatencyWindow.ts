/** Latency figures over a window of samples, in ms. */
export interface LatencyStats {
  /** Samples ever recorded. */
  count: number;
  /** Samples in the window the figures below are over (at most the window's size). */
  window: number;
  /** The median of the window. */
  p50: number;
  /** The 99th percentile of the window (nearest rank). */
  p99: number;
  /** The largest sample of the window. */
  max: number;
  /** The mean of the window. */
  mean: number;
}

/**
 * The last `size` latency samples, in a ring: recording is O(1) and allocates nothing;
 * percentiles are computed when asked (a sort of a copy of the window), which is for metrics
 * reads, not per event.
 */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private recorded = 0;

  constructor(readonly size: number) {
    this.samples = new Float64Array(size);
  }

  /** Records one sample (negative ones, from a clock that went back, count as 0). */
  add(ms: number): void {
    this.samples[this.next] = ms > 0 ? ms : 0;
    this.next = this.next + 1 === this.size ? 0 : this.next + 1;
    this.recorded++;
  }

  /** The figures over the window; all 0 before the first sample. */
  stats(): LatencyStats {
    const window = Math.min(this.recorded, this.size);
    if (window === 0) return { count: 0, window: 0, p50: 0, p99: 0, max: 0, mean: 0 };
    const sorted = this.samples.slice(0, window).sort();
    let sum = 0;
    for (let i = 0; i < window; i++) sum += sorted[i] as number;
    return {
      count: this.recorded,
      window,
      p50: rank(sorted, 0.5),
      p99: rank(sorted, 0.99),
      max: sorted[window - 1] as number,
      mean: sum / window,
    };
  }
}

/** The nearest-rank percentile `q` of sorted samples. */
function rank(sorted: Float64Array, q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

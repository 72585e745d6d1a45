import { checkBoolean, checkOptions, checkPositiveInteger } from '../core/checks.js';
import { type LatencyStats, LatencyWindow } from '../core/LatencyWindow.js';
import type { BusMetricsConfig, EventFrame } from './types.js';

/** The deliveries each latency figure is over when `window` is not given. */
export const DEFAULT_LATENCY_WINDOW = 1024;

/**
 * The bus's measurements in time (`metrics: { latency: true }`): each delivery's latency, from
 * the frame's `ts` to the moment it is handed over, read on the bus's clock, into the
 * subscriber's window and its kind's. Shared by every bus (in memory, Redis).
 *
 * @internal
 */
export class LatencyMetrics {
  private readonly byKind = new Map<string, LatencyWindow>();

  constructor(
    readonly now: () => number,
    readonly window: number,
  ) {}

  /** A window for one subscriber. */
  subscriberWindow(): LatencyWindow {
    return new LatencyWindow(this.window);
  }

  /** One delivery of `frame`, to the subscriber whose window is `into`. */
  record(frame: EventFrame<unknown>, into: LatencyWindow): void {
    const ms = this.now() - frame.ts;
    into.add(ms);
    let kind = this.byKind.get(frame.kind);
    if (kind === undefined) {
      kind = new LatencyWindow(this.window);
      this.byKind.set(frame.kind, kind);
    }
    kind.add(ms);
  }

  /** The figures per kind. */
  latencyByKind(): Record<string, LatencyStats> {
    const figures: Record<string, LatencyStats> = {};
    for (const [kind, window] of this.byKind) figures[kind] = window.stats();
    return figures;
  }
}

/**
 * Checks a bus's `metrics` option; `undefined` when latency is not measured.
 *
 * @internal
 */
export function latencyMetrics(
  config: BusMetricsConfig | undefined,
  now: () => number,
  owner: string,
): LatencyMetrics | undefined {
  if (config === undefined) return undefined;
  checkOptions(config, `${owner} metrics`);
  const { latency = false, window = DEFAULT_LATENCY_WINDOW } = config;
  checkBoolean(latency, owner, 'metrics.latency');
  checkPositiveInteger(window, owner, 'metrics.window');
  return latency ? new LatencyMetrics(now, window) : undefined;
}

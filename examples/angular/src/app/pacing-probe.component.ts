import { isPlatformBrowser } from '@angular/common';
import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  inject,
  PLATFORM_ID,
  type Signal,
  signal,
} from '@angular/core';
import { EMPTY, interval, map, Observable } from 'rxjs';
import { frames, paceText, summarizeProgress } from 'rxjs-backpressure';
import { toBoundedSignal } from 'rxjs-backpressure/angular';

/** A token of the simulated burst, stamped with the time it arrived. */
interface Token {
  lane: string;
  text: string;
  at: number;
}

/** What the probe measured, read by the example's browser test (`window.pacingProbe`). */
export interface ProbeReport {
  tokens: number;
  chunks: number;
  /** Per token, ms from arriving to being shown. */
  lagP50: number;
  lagP99: number;
  lagMax: number;
  /** The most chunks of one lane shown within one animation frame. */
  maxChunksPerFrame: number;
  /** Distinct animation frames that showed a chunk. */
  framesWithChunks: number;
}

const TOKENS_PER_SECOND = 5_000;
const BURST_MS = 2_000;
const TICK_MS = 4;

/**
 * Two measurements on the live page: a burst of 5,000 tokens/s through `paceText` (lag and
 * chunks per frame), and usage ticks summarized once per frame through `summarizeProgress` with
 * `frames()`, whose count keeps advancing when the page is hidden and animation frames stop.
 */
@Component({
  selector: 'app-pacing-probe',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h2>Pacing probe</h2>
    <p>
      <button type="button" data-testid="burst" (click)="burst()">
        Burst {{ rate }} tokens/s for {{ seconds }} s
      </button>
      <span data-testid="burst-state">{{ state() }}</span>
    </p>
    <dl>
      <dt>tokens shown</dt>
      <dd data-testid="burst-shown">{{ shown() }}</dd>
      <dt>usage ticks summarized</dt>
      <dd data-testid="ticks">{{ ticks() }}</dd>
    </dl>
  `,
})
export class PacingProbeComponent {
  protected readonly rate = TOKENS_PER_SECOND.toLocaleString('en');
  protected readonly seconds = BURST_MS / 1000;
  protected readonly state = signal('idle');
  protected readonly shown = signal(0);
  private readonly destroyRef = inject(DestroyRef);

  /**
   * In the browser, a usage tick every 5 ms, merged once per frame; the signal shows the total.
   * On the server nothing runs.
   */
  protected readonly ticks: Signal<number> = toBoundedSignal(
    (isPlatformBrowser(inject(PLATFORM_ID)) ? interval(5) : EMPTY).pipe(
      map(() => ({ kind: 'usage', count: 1 })),
      summarizeProgress({
        classify: () => 'progress',
        merge: (acc, next) => ({ ...acc, count: acc.count + next.count }),
        window: frames(),
      }),
    ),
    { initialValue: 0, reduce: (total: number, tick: { count: number }) => total + tick.count },
  );

  protected burst(): void {
    this.state.set('running');
    const arrivals: number[] = [];
    const ends: number[] = [];
    const lags: number[] = [];
    const chunksInFrame = new Map<number, number>();
    let appended = 0;
    let shownChars = 0;
    let measured = 0;
    let chunks = 0;
    const tokens$ = new Observable<Token>((subscriber) => {
      const start = performance.now();
      const perTick = (TOKENS_PER_SECOND * TICK_MS) / 1000;
      let sent = 0;
      const timer = setInterval(() => {
        const due = Math.min(
          (TOKENS_PER_SECOND * (performance.now() - start)) / 1000,
          (TOKENS_PER_SECOND * BURST_MS) / 1000,
        );
        for (let index = 0; sent < due && index < perTick * 4; index++, sent++) {
          const text = `t${sent % 10} `;
          appended += text.length;
          arrivals.push(performance.now());
          ends.push(appended);
          subscriber.next({ lane: 'main', text, at: performance.now() });
        }
        if (sent >= (TOKENS_PER_SECOND * BURST_MS) / 1000) {
          clearInterval(timer);
          subscriber.complete();
        }
      }, TICK_MS);
      return () => clearInterval(timer);
    });
    const subscription = tokens$
      .pipe(
        paceText<Token>({
          text: (token) => token.text,
          withText: (token, chunk) => ({ ...token, text: chunk }),
          key: (token) => token.lane,
        }),
      )
      .subscribe({
        next: (chunk) => {
          const now = performance.now();
          chunks++;
          const frame = Number(document.timeline.currentTime ?? 0);
          chunksInFrame.set(frame, (chunksInFrame.get(frame) ?? 0) + 1);
          shownChars += chunk.text.length;
          while (measured < ends.length && (ends[measured] as number) <= shownChars) {
            lags.push(now - (arrivals[measured] as number));
            measured++;
          }
          this.shown.set(measured);
        },
        complete: () => {
          const sorted = [...lags].sort((a, b) => a - b);
          const at = (q: number) =>
            sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
          const report: ProbeReport = {
            tokens: measured,
            chunks,
            lagP50: at(0.5),
            lagP99: at(0.99),
            lagMax: sorted.at(-1) ?? 0,
            maxChunksPerFrame: Math.max(0, ...chunksInFrame.values()),
            framesWithChunks: chunksInFrame.size,
          };
          (window as unknown as { pacingProbe: ProbeReport }).pacingProbe = report;
          this.state.set('done');
        },
      });
    this.destroyRef.onDestroy(() => subscription.unsubscribe());
  }
}

/**
 * paceText on three arrival patterns of model output, on a VirtualTimeScheduler (frames every
 * 16 ms of virtual time, so the figures are the operator's decisions, not the machine's timers):
 * a 10,000-delta burst, a steady 50 tokens/s stream, and a bursty provider. Each is shown beside
 * two peers that UIs use today, simulated on the same timeline: showing each delta as it comes,
 * and a typewriter that shows a fixed number of characters per frame (set at or above the
 * average rate). Then throughput: 1,000,000 deltas through paceText beside a bare `map`.
 */
import { map, Subject, VirtualTimeScheduler } from 'rxjs';
import { DEFAULT_MAX_LAG, paceText } from '../../src/operators/paceText.js';
import { measure, printTable } from '../harness.js';
import type { BenchSuite } from './types.js';

const FRAME_MS = 16;

interface Delta {
  lane: string;
  text: string;
  /** Virtual ms it arrived. */
  at: number;
}

/** Deltas in arrival order. */
type Pattern = Delta[];

function tokens(count: number, at: (index: number) => number, lane = 'main'): Pattern {
  return Array.from({ length: count }, (_, index) => ({
    lane,
    text: `tok${index % 10} `,
    at: at(index),
  }));
}

/** What a viewer sees: per character, when it arrived and when it was shown; output per frame. */
interface Shown {
  lags: number[];
  /** Characters shown, per frame that showed any. */
  perFrame: number[];
  /** Outputs (chunks) per frame, at most. */
  maxOutputsPerFrame: number;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Figures of what was shown: lag percentiles, frames, characters per frame (smoothness). */
function summarize(shown: Shown): Record<string, string | number> {
  const lags = [...shown.lags].sort((a, b) => a - b);
  const frames = shown.perFrame.length;
  const mean = shown.perFrame.reduce((sum, n) => sum + n, 0) / Math.max(1, frames);
  const spread = Math.sqrt(
    shown.perFrame.reduce((sum, n) => sum + (n - mean) ** 2, 0) / Math.max(1, frames),
  );
  return {
    'lag p50 ms': percentile(lags, 0.5).toFixed(0),
    'lag p99 ms': percentile(lags, 0.99).toFixed(0),
    'lag max ms': (lags.at(-1) ?? 0).toFixed(0),
    'frames showing text': frames,
    'chars/frame max': Math.max(0, ...shown.perFrame),
    'chars/frame σ÷mean': (spread / Math.max(1e-9, mean)).toFixed(2),
    'outputs/frame max': shown.maxOutputsPerFrame,
  };
}

/** Records what a viewer sees from chunks shown at `now`, per lane, in order. */
function viewer() {
  const arrivals = new Map<string, number[]>();
  const shownCount = new Map<string, number>();
  const perFrame = new Map<number, number>();
  const outputs = new Map<number, number>();
  const lags: number[] = [];
  return {
    arrive(delta: Delta) {
      const list = arrivals.get(delta.lane) ?? [];
      arrivals.set(delta.lane, list);
      for (let index = 0; index < delta.text.length; index++) list.push(delta.at);
    },
    show(lane: string, text: string, now: number) {
      const list = arrivals.get(lane) ?? [];
      let next = shownCount.get(lane) ?? 0;
      for (let index = 0; index < text.length; index++) lags.push(now - (list[next++] as number));
      shownCount.set(lane, next);
      const frame = Math.floor(now / FRAME_MS);
      perFrame.set(frame, (perFrame.get(frame) ?? 0) + text.length);
      outputs.set(frame, (outputs.get(frame) ?? 0) + 1);
    },
    result(): Shown {
      return {
        lags,
        perFrame: [...perFrame.values()],
        maxOutputsPerFrame: Math.max(0, ...outputs.values()),
      };
    },
  };
}

/** paceText with its defaults (frames every 16 ms, maxLag 250 ms), on virtual time. */
function pace(pattern: Pattern): Shown {
  const scheduler = new VirtualTimeScheduler();
  const source = new Subject<Delta>();
  const seen = viewer();
  source
    .pipe(
      paceText<Delta>({
        text: (delta) => delta.text,
        withText: (delta, chunk) => ({ ...delta, text: chunk }),
        key: (delta) => delta.lane,
        cadence: FRAME_MS,
        scheduler,
      }),
    )
    .subscribe((chunk) => seen.show(chunk.lane, chunk.text, scheduler.now()));
  for (const delta of pattern) {
    scheduler.schedule(() => {
      seen.arrive(delta);
      source.next(delta);
    }, delta.at);
  }
  const end = (pattern.at(-1)?.at ?? 0) + 1;
  scheduler.schedule(() => source.complete(), end);
  scheduler.flush();
  return seen.result();
}

/** Each delta shown at the next frame, as it came: no added lag, the bursts as they are. */
function asItComes(pattern: Pattern): Shown {
  const seen = viewer();
  for (const delta of pattern) {
    seen.arrive(delta);
    seen.show(delta.lane, delta.text, Math.ceil(delta.at / FRAME_MS) * FRAME_MS);
  }
  return seen.result();
}

/** A typewriter: `perFrame` characters a frame, whatever the backlog (it falls behind). */
function typewriter(pattern: Pattern, perFrame: number): Shown {
  const seen = viewer();
  const backlog: string[] = [];
  let index = 0;
  for (let frame = 0; index < pattern.length || backlog.length > 0; frame++) {
    const now = frame * FRAME_MS;
    while (index < pattern.length && (pattern[index] as Delta).at <= now) {
      const delta = pattern[index++] as Delta;
      seen.arrive(delta);
      backlog.push(...delta.text);
    }
    if (backlog.length > 0) seen.show('main', backlog.splice(0, perFrame).join(''), now);
  }
  return seen.result();
}

function table(title: string, pattern: Pattern, typewriterRate: number): void {
  console.log(`${title}:\n`);
  const rows = [
    ['paceText (frames 16 ms, maxLag 250 ms)', summarize(pace(pattern))],
    ['each delta as it comes', summarize(asItComes(pattern))],
    [`typewriter, ${typewriterRate} chars/frame`, summarize(typewriter(pattern, typewriterRate))],
  ] as const;
  const keys = Object.keys(rows[0][1]);
  console.log(`| case | ${keys.join(' | ')} |`);
  console.log(`| --- | ${keys.map(() => '---').join(' | ')} |`);
  for (const [name, figures] of rows) {
    console.log(`| ${name} | ${keys.map((key) => figures[key]).join(' | ')} |`);
  }
  console.log('');
}

/**
 * 1,000,000 deltas over 16 lanes, 100 per virtual ms: paceText beside a bare map. Text with one
 * grapheme per character (most text) needs no split; text with emoji, combining marks or Hangul
 * goes through `Intl.Segmenter`.
 */
async function throughput(): Promise<void> {
  const count = 1_000_000;
  const lanes = Array.from({ length: 16 }, (_, index) => `lane-${index}`);
  const run =
    (withPace: boolean, text = 'tok ') =>
    () => {
      const scheduler = new VirtualTimeScheduler();
      const source = new Subject<Delta>();
      let out = 0;
      source
        .pipe(
          withPace
            ? paceText<Delta>({
                text: (delta) => delta.text,
                withText: (delta, chunk) => ({ ...delta, text: chunk }),
                key: (delta) => delta.lane,
                cadence: FRAME_MS,
                scheduler,
              })
            : map((delta: Delta) => delta),
        )
        .subscribe(() => out++);
      for (let time = 0; time < count / 100; time++) {
        scheduler.maxFrames = time;
        scheduler.flush();
        scheduler.frame = time;
        for (let index = time * 100; index < time * 100 + 100; index++) {
          source.next({ lane: lanes[index & 15] as string, text, at: time });
        }
      }
      source.complete();
      scheduler.maxFrames = Number.POSITIVE_INFINITY;
      scheduler.flush();
      return { outputs: out.toLocaleString('en-US') };
    };
  printTable([
    await measure('paceText, 16 lanes, frames 16 ms', count, run(true)),
    await measure('paceText, accented text (one grapheme per char)', count, run(true, 'tök ')),
    await measure(
      'paceText, text with an emoji (split by Intl.Segmenter)',
      count,
      run(true, 'to👍 '),
    ),
    await measure('map (no pacing)', count, run(false)),
  ]);
}

export const suite: BenchSuite = {
  name: 'paceText',
  title: `paceText: lag and smoothness of model output on screen (maxLag ${DEFAULT_MAX_LAG} ms), and throughput`,
  async run() {
    table(
      'A burst of 10,000 deltas at once (50,000 characters)',
      tokens(10_000, () => 0),
      8,
    );
    table(
      'A steady 50 tokens/s for 10 s (a delta every 20 ms)',
      tokens(500, (index) => index * 20),
      5,
    );
    table(
      'A bursty provider: 25 tokens at once every 500 ms for 10 s (50 tokens/s on average)',
      tokens(500, (index) => Math.floor(index / 25) * 500),
      5,
    );
    await throughput();
  },
};

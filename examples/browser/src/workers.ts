/**
 * The second panel: a pool of workers that scales with its backlog. Jobs arrive on a Subject
 * (quiet, then a burst of a few thousand when Burst is pressed, then quiet); `drainWith` runs them
 * with an async handler of a few ms, its `concurrency` driven by `autoscale`, which reads the
 * pool's own `stats` through a second Subject. The panel shows the figures live, a sparkline of
 * the concurrency and the list of its changes.
 */
import { defer, finalize, map, Subject, type Subscription, tap, timer } from 'rxjs';
import { autoscale, type DrainStats, drainWith } from 'rxjs-backpressure';

interface Job {
  id: number;
  /** How long the job's work takes, in ms. */
  ms: number;
}

/** The pool's bounds and how it scales; shown on the page. */
const MIN = 1;
const MAX = 16;
const UP_AT = 20;
const DOWN_AT = 0;
const COOLDOWN_MS = 100;
/** The default burst: 4,000 jobs of 5 ms each, arriving over about a quarter of a second. */
const BURST_JOBS = 4_000;
const JOB_MS = 5;
const BURST_CHUNKS = 25;
const CHUNK_EVERY_MS = 10;
/** The sparkline: one sample of the concurrency every SAMPLE_MS, the last SAMPLES of them. */
const SAMPLE_MS = 100;
const SAMPLES = 100;
const BARS = '▁▂▃▄▅▆▇█';

export interface ConcurrencyChange {
  /** Ms since the first burst. */
  at: number;
  from: number;
  to: number;
}

export interface BurstOptions {
  jobs?: number;
  jobMs?: number;
}

/** What the page shows, and what the browser test reads. */
export interface WorkersState {
  min: number;
  max: number;
  /** Jobs handed to the pool, and jobs whose work completed (each counted once). */
  sent: number;
  completed: number;
  /** Jobs completed more than once, and jobs sent but never completed (so far). */
  duplicates: number;
  missing: number;
  waiting: number;
  inFlight: number;
  concurrency: number;
  /** The highest concurrency `autoscale` asked for, and when (ms since the first burst). */
  maxConcurrency: number;
  maxConcurrencyAt: number;
  /** The most jobs whose work ran at the same moment, as the handler counted them. */
  maxRunning: number;
  /** When the last job completed (ms since the first burst), or -1. */
  lastCompletedAt: number;
  /** Jobs are still being fed to the pool. */
  bursting: boolean;
  /** Nothing to feed, nothing waiting, nothing running, and the pool back at `min`. */
  settled: boolean;
  changes: ConcurrencyChange[];
  /** An error of the pool's output, if any. */
  error: string | undefined;
}

const byId = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
const panel = byId('workers');

const jobs$ = new Subject<Job>();
const stats$ = new Subject<DrainStats>();

let epoch: number | undefined;
const since = (): number => (epoch === undefined ? 0 : Math.round(performance.now() - epoch));

let nextId = 0;
/** How many times each job's work completed, by job id. */
let completions = new Uint8Array(BURST_JOBS);
let completed = 0;
let duplicates = 0;
let running = 0;
let maxRunning = 0;
let concurrency = 0;
let maxConcurrency = 0;
let maxConcurrencyAt = -1;
let lastCompletedAt = -1;
let latest: DrainStats | undefined;
let feeding: Subscription | undefined;
/** Jobs of the burst not fed yet, how many to feed per chunk, and how long each one runs. */
let left = 0;
let perChunk = 0;
let jobMs = JOB_MS;
let error: string | undefined;
const changes: ConcurrencyChange[] = [];
const samples: number[] = [];
/** The pending paint, and the sparkline's sampling timer while something moves. */
let rafHandle = 0;
let sampler: ReturnType<typeof setInterval> | undefined;

/**
 * The job's work: an async wait of `job.ms`, counting how many run at once. A job stops counting
 * as it emits its result, before its completion frees the slot (`finalize` would run only after
 * the pool had started the next job in that slot); a cancelled job stops counting as it ends.
 */
const work = (job: Job) =>
  defer(() => {
    let counted = true;
    const done = (): void => {
      if (counted) running -= 1;
      counted = false;
    };
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    return timer(job.ms).pipe(
      map(() => {
        done();
        return job.id;
      }),
      finalize(done),
    );
  });

const concurrency$ = autoscale(stats$, {
  min: MIN,
  max: MAX,
  upAt: UP_AT,
  downAt: DOWN_AT,
  cooldown: COOLDOWN_MS,
}).pipe(
  tap((next) => {
    if (concurrency !== 0) changes.push({ at: since(), from: concurrency, to: next });
    concurrency = next;
    if (next > maxConcurrency) {
      maxConcurrency = next;
      maxConcurrencyAt = since();
    }
    wake();
  }),
);

stats$.subscribe((stats) => {
  latest = stats;
  wake();
});

jobs$
  .pipe(
    drainWith(work, {
      capacity: 50_000,
      overflow: 'error',
      concurrency: concurrency$,
      stats: stats$,
    }),
  )
  .subscribe({
    next: (id) => {
      if (id >= completions.length) {
        const grown = new Uint8Array(Math.max(id + 1, completions.length * 2));
        grown.set(completions);
        completions = grown;
      }
      completions[id] += 1;
      if (completions[id] === 1) completed += 1;
      else duplicates += 1;
      lastCompletedAt = since();
    },
    error: (err: unknown) => {
      error = String(err);
      wake();
    },
  });

function state(): WorkersState {
  const waiting = latest?.waiting ?? 0;
  const inFlight = latest?.inFlight ?? 0;
  const bursting = feeding !== undefined;
  return {
    min: MIN,
    max: MAX,
    sent: nextId,
    completed,
    duplicates,
    missing: nextId - completed,
    waiting,
    inFlight,
    concurrency,
    maxConcurrency,
    maxConcurrencyAt,
    maxRunning,
    lastCompletedAt,
    bursting,
    settled:
      !bursting && completed === nextId && waiting === 0 && inFlight === 0 && concurrency === MIN,
    changes: changes.slice(),
    error,
  };
}

/** Feeds a burst of jobs in chunks, a chunk every CHUNK_EVERY_MS; a second burst adds to it. */
function burst(options: BurstOptions = {}): void {
  const total = options.jobs ?? BURST_JOBS;
  epoch ??= performance.now();
  left += total;
  perChunk = Math.ceil(total / BURST_CHUNKS);
  jobMs = options.jobMs ?? JOB_MS;
  feeding ??= timer(0, CHUNK_EVERY_MS).subscribe(() => {
    const count = Math.min(perChunk, left);
    for (let i = 0; i < count; i += 1) jobs$.next({ id: nextId++, ms: jobMs });
    left -= count;
    if (left === 0) stop();
  });
  wake();
}

/** Stops feeding jobs; those already handed to the pool still run. */
function stop(): void {
  left = 0;
  feeding?.unsubscribe();
  feeding = undefined;
  wake();
}

// Painting: once per animation frame while something moves; the sparkline takes a sample every
// SAMPLE_MS meanwhile. Both stop once the pool has settled, so the idle panel costs nothing.

function wake(): void {
  if (rafHandle === 0) rafHandle = requestAnimationFrame(paint);
  if (sampler === undefined && epoch !== undefined) {
    sampler = setInterval(sample, SAMPLE_MS);
  }
}

const format = (n: number): string => n.toLocaleString('en-US');

function sample(): void {
  samples.push(concurrency);
  if (samples.length > SAMPLES) samples.shift();
}

function paint(): void {
  rafHandle = 0;
  const now = state();
  const resting = now.settled || now.error !== undefined;
  if (resting && sampler !== undefined) {
    // One last sample shows the return to min; then the panel rests.
    clearInterval(sampler);
    sampler = undefined;
    sample();
  }
  byId('w-waiting').textContent = format(now.waiting);
  byId('w-inflight').textContent = format(now.inFlight);
  byId('w-concurrency').textContent = `${now.concurrency} (max ${now.maxConcurrency})`;
  byId('w-completed').textContent = `${format(now.completed)} / ${format(now.sent)}`;
  byId('w-status').textContent =
    now.error !== undefined
      ? 'error'
      : now.bursting
        ? 'burst'
        : now.settled
          ? now.sent === 0
            ? 'quiet'
            : 'quiet · all done'
          : 'draining';
  byId('w-sparkline').textContent = samples
    .map((c) => BARS[Math.max(0, Math.ceil((c / MAX) * BARS.length) - 1)])
    .join('');
  const list = byId('w-changes');
  list.textContent = '';
  for (const change of now.changes.slice(-40).reverse()) {
    const item = document.createElement('li');
    item.textContent = `${(change.at / 1000).toFixed(2)} s: ${change.from} → ${change.to}`;
    list.append(item);
  }
  panel.dataset.state = now.error !== undefined ? 'error' : now.settled ? 'settled' : 'busy';
  panel.dataset.concurrency = String(now.concurrency);
  if (!resting && rafHandle === 0) rafHandle = requestAnimationFrame(paint);
}

byId('w-settings').textContent =
  `drainWith: capacity 50,000, concurrency = autoscale(stats$, { min: ${MIN}, max: ${MAX}, ` +
  `upAt: ${UP_AT}, downAt: ${DOWN_AT}, cooldown: ${COOLDOWN_MS} }); ` +
  `Burst sends ${format(BURST_JOBS)} jobs of ${JOB_MS} ms`;
byId('w-burst').addEventListener('click', () => burst());
byId('w-stop').addEventListener('click', () => stop());
paint();

/** For the Chromium test (and the console). */
const workersDemo = { burst, stop, state };
(window as unknown as { workersDemo: typeof workersDemo }).workersDemo = workersDemo;

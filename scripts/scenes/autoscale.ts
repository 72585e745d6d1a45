import { Subject, tap } from 'rxjs';
import { autoscale } from '../../src/operators/autoscale.js';
import type { DrainStats } from '../../src/operators/drainStats.js';
import { drainWith } from '../../src/operators/drainWith.js';
import type { DemoScene } from './types.js';

interface Job {
  id: number;
  /** Attempts that fail before one succeeds (Infinity: never succeeds). */
  failures: number;
}

const MIN = 1;
const MAX = 8;
const BURST = 80;
const TRICKLE = 30;

const sleep = (ms: number): Promise<void> => new Promise((wake) => setTimeout(wake, ms));

export const scene: DemoScene = {
  name: 'autoscale',
  title: `a pool that grows under a burst of ${BURST} jobs and shrinks when idle (drainWith + autoscale), with retries and a dead letter`,
  async run() {
    const start = performance.now();
    const now = (): number => Math.round(performance.now() - start);
    const stats$ = new Subject<DrainStats>();
    const steps: string[] = [];
    const deadLetters: string[] = [];
    let last: DrainStats | undefined;
    stats$.subscribe((figures) => {
      last = figures;
    });
    const jobs = new Subject<Job>();

    const done = new Promise<void>((resolve, reject) => {
      jobs
        .pipe(
          drainWith(
            async (job: Job, _index, attempt) => {
              await sleep(10 + (job.id % 3) * 5);
              if (attempt <= job.failures)
                throw new Error(`job ${job.id} failed (attempt ${attempt})`);
              return job.id;
            },
            {
              capacity: 1_000,
              overflow: 'error',
              concurrency: autoscale(stats$, { min: MIN, max: MAX, upAt: 4, cooldown: 15 }).pipe(
                tap((concurrency) => steps.push(`${now()} ms: ${concurrency}`)),
              ),
              stats: stats$,
              retry: { maxAttempts: 3, backoff: (attempt) => 5 * 2 ** attempt },
              deadLetter: (_job, error) => deadLetters.push((error as Error).message),
            },
          ),
        )
        .subscribe({ complete: resolve, error: reject });
    });

    // A burst (every tenth job fails once, job 13 always), a quiet spell, then a trickle.
    for (let id = 1; id <= BURST; id++) {
      jobs.next({ id, failures: id === 13 ? Number.POSITIVE_INFINITY : id % 10 === 0 ? 1 : 0 });
    }
    await sleep(400);
    steps.push(`${now()} ms: (the burst is done; a trickle of ${TRICKLE} jobs, one per 8 ms)`);
    for (let id = BURST + 1; id <= BURST + TRICKLE; id++) {
      jobs.next({ id, failures: 0 });
      await sleep(8);
    }
    jobs.complete();
    await done;

    console.log(`Concurrency over time (min ${MIN}, max ${MAX}, one step per 15 ms at most):`);
    console.log(steps.join('\n'));
    console.log('\nThe last stats reported:');
    console.table([last]);
    console.log(`Dead letters: ${deadLetters.join('; ')}`);
  },
};

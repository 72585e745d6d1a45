/** The types of RedisWorkQueue: jobs, handlers, outcomes and options, and the calls refused. */
import type { Redis } from 'ioredis';
import { type Observable, Subject } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import { autoscale, type DrainStats } from '../../../src/index.js';
import {
  type AddedJob,
  idempotencyKey,
  RedisWorkQueue,
  type WorkContext,
  type WorkerConfig,
  type WorkOutcome,
} from '../../../src/redis/index.js';

/** Enough of a client for the constructor: nothing here talks to Redis. */
const redis = { multi: () => undefined } as unknown as Redis;

describe('RedisWorkQueue types', () => {
  it('add takes the job type and returns what was added', () => {
    const queue = new RedisWorkQueue<{ to: string }>({ redis, name: 'mail' });
    expectTypeOf(queue.add).parameter(0).toEqualTypeOf<{ to: string }>();
    expectTypeOf(queue.add).returns.toEqualTypeOf<Promise<AddedJob>>();
    // Calls compiled, never run (nothing here talks to Redis).
    const refused = () => {
      // @ts-expect-error: not a job of this queue
      void queue.add({ from: 'a' });
      // @ts-expect-error: a priority is a number
      void queue.add({ to: 'a' }, { priority: 'high' });
    };
    expectTypeOf(refused).toBeFunction();
  });

  it('process gives the handler the job and its context, and emits outcomes of its result type', () => {
    const queue = new RedisWorkQueue<{ to: string }>({ redis, name: 'mail' });
    const work$ = queue.process(async (job, context) => {
      expectTypeOf(job).toEqualTypeOf<{ to: string }>();
      expectTypeOf(context).toEqualTypeOf<WorkContext>();
      return job.to.length;
    });
    expectTypeOf(work$).toEqualTypeOf<Observable<WorkOutcome<{ to: string }, number>>>();
    work$.subscribe((outcome) => {
      if (outcome.status === 'done')
        expectTypeOf(outcome.result).toEqualTypeOf<number | undefined>();
      else expectTypeOf(outcome.job).toEqualTypeOf<{ to: string } | undefined>();
    });
    // Compiled, never run: these throw at the call.
    const refused = () => {
      // @ts-expect-error: concurrency is a number
      queue.process(async () => 1, { concurrency: '4' });
      // @ts-expect-error: retry needs maxAttempts
      queue.process(async () => 1, { retry: {} });
    };
    expectTypeOf(refused).toBeFunction();
  });

  it('stats takes an Observer of DrainStats, as drainWith and autoscale do', () => {
    const queue = new RedisWorkQueue<{ to: string }>({ redis, name: 'mail' });
    expectTypeOf<NonNullable<WorkerConfig['stats']>['next']>().toEqualTypeOf<
      (value: DrainStats) => void
    >();
    // Compiled, never run (nothing here talks to Redis).
    const wired = () => {
      const stats$ = new Subject<DrainStats>();
      queue.process(async () => 1, {
        concurrency: autoscale(stats$, { max: 8 }),
        stats: stats$,
        statsEveryMs: 500,
      });
      // @ts-expect-error: an Observer of DrainStats, not of numbers
      queue.process(async () => 1, { stats: new Subject<number>() });
    };
    expectTypeOf(wired).toBeFunction();
  });

  it('idempotencyKey is a string of the queue and the job id', () => {
    expectTypeOf(idempotencyKey).toEqualTypeOf<(queue: string, jobId: string) => string>();
    expectTypeOf<WorkContext['idempotencyKey']>().toEqualTypeOf<string>();
  });
});

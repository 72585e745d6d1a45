/**
 * The public surface of the library, checked through the public entry points only (src/index.ts,
 * and src/redis/index.ts for the `rxjs-backpressure/redis` subpath): the exported names, their
 * signatures and types, the documented defaults, the error classes, and the message of every bad
 * option at creation. Behaviour is tested once, beside its code (test/core, test/operators,
 * test/interop, test/bus and the marble cases in marbles/); only what is tested nowhere else stays
 * here. The last block checks that the folders under src depend on each other as CONTRIBUTING.md
 * describes.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type MonoTypeOperatorFunction,
  NEVER,
  type Observable,
  type ObservableInput,
  type Observer,
  type OperatorFunction,
  of,
  type SchedulerLike,
  Subject,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as angularApi from '../../src/angular/index.js';
import * as api from '../../src/index.js';
import {
  type AgentEvent,
  type AutoscaleConfig,
  autoscale,
  BackpressureError,
  type BoundedQueueConfig,
  BusClosedError,
  type BusMetrics,
  boundedQueue,
  type Classifier,
  type CoalesceOptions,
  coalesce,
  type DrainStats,
  drainWith,
  type EventArchive,
  EventBus,
  type EventClass,
  type EventFilter,
  type EventFrame,
  InvalidEventError,
  type Laned,
  type LatencyStats,
  mergeLanes,
  type OverflowNotice,
  type OverflowPolicy,
  type OverflowPolicyName,
  OverflowQueue,
  type QueueConfig,
  QueueOverflowError,
  type SubscriberQueue,
  summarizeProgress,
  takeThroughTerminal,
  toAsyncIterable,
  type Visibility,
} from '../../src/index.js';
import * as otelApi from '../../src/otel/index.js';
import * as redisApi from '../../src/redis/index.js';

const newScheduler = (): TestScheduler =>
  new TestScheduler((actual, expected) => {
    expect(actual).toEqual(expected);
  });

/** Letters: upper case terminal, p-s progress, anything else normal. */
const byLetter: Classifier<string> = (value) => {
  const head = value.charAt(0);
  if (head >= 'A' && head <= 'Z') return 'terminal';
  if (head >= 'p' && head <= 's') return 'progress';
  return 'normal';
};
const concat = (acc: string, next: string): string => acc + next;

/** Lets queued microtasks (asapScheduler, promise reactions) run. */
async function microtasks(count = 5): Promise<void> {
  for (let index = 0; index < count; index++) await Promise.resolve();
}

// -------------------------------------------------------------------------------------------------
describe('public API: exported names', () => {
  it.each([
    'boundedQueue',
    'summarizeProgress',
    'takeThroughTerminal',
    'mergeLanes',
    'drainWith',
    'autoscale',
    'toAsyncIterable',
    'coalesce',
    'paceText',
    'frames',
  ])('%s is an exported function', (name) => {
    expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
  });

  it.each([
    'EventBus',
    'OverflowQueue',
    'QueueOverflowError',
    'InvalidEventError',
    'BusClosedError',
    'BackpressureError',
    'HandlerTimeoutError',
  ])('%s is an exported class', (name) => {
    const value = (api as Record<string, unknown>)[name];
    expect(typeof value).toBe('function');
    expect((value as { prototype: unknown }).prototype).toBeTypeOf('object');
  });

  it('every error class extends Error and carries its own name', () => {
    const errors: Error[] = [
      new QueueOverflowError({ policy: 'error', dropped: 1, merged: 0, terminalPreserved: true }),
      new InvalidEventError('kind', 'bad'),
      new BusClosedError(),
      new BackpressureError({ kind: 'x' }, [1]),
    ];
    expect(errors.map((error) => error instanceof Error)).toEqual([true, true, true, true]);
    expect(errors.map((error) => error.name)).toEqual([
      'QueueOverflowError',
      'InvalidEventError',
      'BusClosedError',
      'BackpressureError',
    ]);
  });

  it('paceText lags at most 250 ms by default (DEFAULT_MAX_LAG)', () => {
    expect(api.DEFAULT_MAX_LAG).toBe(250);
  });

  it('the rxjs-backpressure/angular subpath is a source entry point exporting toBoundedSignal', () => {
    // package.json maps "./angular" to dist/angular/index.*, built from src/angular/index.ts.
    expect(Object.keys(angularApi)).toEqual(['toBoundedSignal']);
    expect(typeof angularApi.toBoundedSignal).toBe('function');
  });

  it('the rxjs-backpressure/otel subpath is a source entry point exporting instrumentBus and instrumentDrain', () => {
    // package.json maps "./otel" to dist/otel/index.*, built from src/otel/index.ts.
    expect(Object.keys(otelApi).sort()).toEqual(['instrumentBus', 'instrumentDrain']);
  });

  it('the rxjs-backpressure/redis subpath is a source entry point that loads on its own', () => {
    // package.json maps "./redis" to dist/redis/index.*, built from src/redis/index.ts.
    expect(typeof redisApi.RedisEventBus).toBe('function');
    expect(typeof redisApi.createRedisBus).toBe('function');
    expect(typeof redisApi.RedisStreamArchive).toBe('function');
    expect(typeof redisApi.RedisWorkQueue).toBe('function');
    expect(typeof redisApi.idempotencyKey).toBe('function');
    expect(new redisApi.DeliveryLimitError({ id: 'j', deliveries: 6 } as never, 5)).toBeInstanceOf(
      Error,
    );
    expect(new redisApi.RedisUnavailableError('stream', 'down')).toBeInstanceOf(Error);
  });

  it('types: the core vocabulary is exactly as written', () => {
    expectTypeOf<EventClass>().toEqualTypeOf<'terminal' | 'progress' | 'normal'>();
    expectTypeOf<Classifier<number>>().toEqualTypeOf<(value: number) => EventClass>();
    expectTypeOf<OverflowPolicyName>().toEqualTypeOf<
      'drop-oldest' | 'drop-incoming' | 'drop-progress' | 'error' | 'coalesce'
    >();
    expectTypeOf<'drop-oldest'>().toExtend<OverflowPolicy<number>>();
    expectTypeOf<'drop-incoming'>().toExtend<OverflowPolicy<number>>();
    expectTypeOf<'drop-progress'>().toExtend<OverflowPolicy<number>>();
    expectTypeOf<'error'>().toExtend<OverflowPolicy<number>>();
    expectTypeOf<'backpressure'>().not.toExtend<OverflowPolicy<number>>();
    expectTypeOf(coalesce<number>).parameters.toEqualTypeOf<
      [
        merge: (acc: number, next: number) => number,
        key?: ((value: number) => unknown) | undefined,
        options?: CoalesceOptions,
      ]
    >();
    expectTypeOf(coalesce<number>).returns.toExtend<OverflowPolicy<number>>();
  });

  it('types: OverflowNotice and QueueOverflowError', () => {
    type Notice = OverflowNotice<string>;
    expectTypeOf<Notice['policy']>().toEqualTypeOf<OverflowPolicyName>();
    expectTypeOf<Notice['dropped']>().toEqualTypeOf<number>();
    expectTypeOf<Notice['merged']>().toEqualTypeOf<number>();
    expectTypeOf<Notice['first']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Notice['last']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Notice['fromSeq']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Notice['toSeq']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Notice['terminalPreserved']>().toEqualTypeOf<boolean>();
    expectTypeOf<{
      policy: 'drop-oldest';
      dropped: number;
      merged: number;
      terminalPreserved: boolean;
    }>().toExtend<Notice>();
    expectTypeOf<QueueOverflowError>().toExtend<Error>();
    expectTypeOf<QueueOverflowError['notice']>().toEqualTypeOf<OverflowNotice<unknown>>();
  });

  it('types: QueueConfig fields, with overflow and capacity required', () => {
    type Config = QueueConfig<number>;
    expectTypeOf<Config['capacity']>().toEqualTypeOf<number>();
    expectTypeOf<Config['overflow']>().toEqualTypeOf<OverflowPolicy<number>>();
    expectTypeOf<Config['classify']>().toEqualTypeOf<Classifier<number> | undefined>();
    expectTypeOf<Config['terminalReserve']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<Config['onOverflow']>().toEqualTypeOf<
      ((notice: OverflowNotice<number>) => void) | undefined
    >();
    expectTypeOf<{ capacity: number }>().not.toExtend<Config>();
    expectTypeOf<{ overflow: 'error' }>().not.toExtend<Config>();
    expectTypeOf<{ capacity: number; overflow: 'error' }>().toExtend<Config>();
  });

  it('types: boundedQueue(config: BoundedQueueConfig<T>): MonoTypeOperatorFunction<T>', () => {
    expectTypeOf<BoundedQueueConfig<number>>().toExtend<QueueConfig<number>>();
    expectTypeOf<BoundedQueueConfig<number>['demand']>().toEqualTypeOf<
      ObservableInput<number | void> | undefined
    >();
    expectTypeOf<BoundedQueueConfig<number>['flushOn']>().toEqualTypeOf<
      ObservableInput<unknown> | undefined
    >();
    expectTypeOf<BoundedQueueConfig<number>['scheduler']>().toEqualTypeOf<
      SchedulerLike | undefined
    >();
    expectTypeOf(boundedQueue<number>).parameters.toEqualTypeOf<[BoundedQueueConfig<number>]>();
    expectTypeOf(boundedQueue<number>).returns.toEqualTypeOf<MonoTypeOperatorFunction<number>>();
  });

  it('types: summarizeProgress takes the documented options and is MonoType', () => {
    type Documented = {
      classify: Classifier<number>;
      merge: (acc: number, next: number) => number;
      key?: (value: number) => unknown;
      window?: number | ObservableInput<unknown>;
      maxMerged?: number;
      scheduler?: SchedulerLike;
    };
    expectTypeOf<Documented>().toExtend<Parameters<typeof summarizeProgress<number>>[0]>();
    expectTypeOf(summarizeProgress<number>).returns.toEqualTypeOf<
      MonoTypeOperatorFunction<number>
    >();
  });

  it('types: takeThroughTerminal(classify): MonoTypeOperatorFunction<T>', () => {
    expectTypeOf(takeThroughTerminal<number>).parameters.toEqualTypeOf<[Classifier<number>]>();
    expectTypeOf(takeThroughTerminal<number>).returns.toEqualTypeOf<
      MonoTypeOperatorFunction<number>
    >();
  });

  it('types: mergeLanes(lanes, options?): Observable<Laned<T>>', () => {
    type Documented = {
      order?: 'arrival' | 'timestamp';
      timestamp?: (value: number) => number;
      maxSkew?: number;
      lane?: QueueConfig<number>;
      scheduler?: SchedulerLike;
    };
    type Params = Parameters<typeof mergeLanes<number>>;
    expectTypeOf<Record<string, ObservableInput<number>>>().toExtend<Params[0]>();
    expectTypeOf<Documented>().toExtend<NonNullable<Params[1]>>();
    expectTypeOf<undefined>().toExtend<Params[1]>();
    expectTypeOf(mergeLanes<number>).returns.toEqualTypeOf<Observable<Laned<number>>>();
    expectTypeOf<Laned<number>['lane']>().toEqualTypeOf<string>();
    expectTypeOf<Laned<number>['laneSeq']>().toEqualTypeOf<number>();
    expectTypeOf<Laned<number>['value']>().toEqualTypeOf<number>();
  });

  it('types: drainWith(handler, options): OperatorFunction<T, R>', () => {
    type Options = QueueConfig<number> & {
      concurrency?: number | Observable<number>;
      priority?: (value: number) => number;
      stats?: Observer<DrainStats>;
      retry?: { maxAttempts: number; backoff: (attempt: number) => number };
      deadLetter?: (value: number, error: unknown, attempts: number) => void;
      timeout?: number;
    };
    expectTypeOf(autoscale).parameters.toEqualTypeOf<
      [stats$: ObservableInput<DrainStats>, options: AutoscaleConfig]
    >();
    expectTypeOf(autoscale).returns.toEqualTypeOf<Observable<number>>();
    expectTypeOf<DrainStats>().toEqualTypeOf<{
      readonly waiting: number;
      readonly inFlight: number;
      readonly concurrency: number;
      readonly completed: number;
      readonly failed: number;
      readonly retried: number;
      readonly deadLettered: number;
      readonly handlerMs: LatencyStats;
    }>();
    expectTypeOf<
      Pick<AutoscaleConfig, 'min' | 'max' | 'upAt' | 'downAt' | 'cooldown' | 'scheduler'>
    >().toEqualTypeOf<AutoscaleConfig>();
    type Params = Parameters<typeof drainWith<number, string>>;
    expectTypeOf<(value: number, index: number) => ObservableInput<string>>().toExtend<Params[0]>();
    expectTypeOf<
      (value: number, index: number, attempt: number) => ObservableInput<string>
    >().toExtend<Params[0]>();
    expectTypeOf<Options>().toExtend<Params[1]>();
    expectTypeOf(drainWith<number, string>).returns.toEqualTypeOf<
      OperatorFunction<number, string>
    >();
    const inferred = of(1).pipe(
      drainWith((n) => of(String(n)), { capacity: 1, overflow: 'error' }),
    );
    expectTypeOf(inferred).toEqualTypeOf<Observable<string>>();
  });

  it('types: toAsyncIterable(source, options): AsyncIterableIterator<T>', () => {
    type Options = QueueConfig<number> & { signal?: AbortSignal };
    type Params = Parameters<typeof toAsyncIterable<number>>;
    expectTypeOf<ObservableInput<number>>().toExtend<Params[0]>();
    expectTypeOf<Options>().toExtend<Params[1]>();
    expectTypeOf(toAsyncIterable<number>).returns.toEqualTypeOf<AsyncIterableIterator<number>>();
  });

  it('types: AgentEvent, EventFrame, EventFilter, Visibility', () => {
    expectTypeOf<Visibility>().toEqualTypeOf<'public' | 'internal' | 'private'>();
    expectTypeOf<AgentEvent<number>['kind']>().toEqualTypeOf<string>();
    expectTypeOf<AgentEvent<number>['payload']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<{
      kind: string;
      runId?: string;
      agentId?: string;
      laneId?: string;
      visibility?: Visibility;
      payload?: number;
    }>().toExtend<AgentEvent<number>>();
    expectTypeOf<{ kind: 'x' }>().toExtend<AgentEvent>();
    expectTypeOf<EventFrame<number>>().toExtend<AgentEvent<number>>();
    expectTypeOf<EventFrame['seq']>().toEqualTypeOf<number>();
    expectTypeOf<EventFrame['laneSeq']>().toEqualTypeOf<number>();
    expectTypeOf<EventFrame['ts']>().toEqualTypeOf<number>();
    expectTypeOf<EventFrame<number>['overflow']>().toEqualTypeOf<
      OverflowNotice<EventFrame<number>> | undefined
    >();
    expectTypeOf<{
      runId?: string;
      agentId?: string;
      laneId?: string;
      kinds?: Iterable<string>;
      visibility?: Visibility;
      where?: (f: EventFrame) => boolean;
    }>().toExtend<EventFilter>();
    expectTypeOf<{ kinds: Set<string> }>().toExtend<EventFilter>();
  });

  it('types: EventBus members', () => {
    type Bus = EventBus<number>;
    expectTypeOf<{
      history?: number;
      archive?: EventArchive;
      classify?: Classifier<EventFrame<number>>;
      validate?: (e: AgentEvent<number>) => void;
      scheduler?: SchedulerLike;
    }>().toExtend<NonNullable<ConstructorParameters<typeof EventBus<number>>[0]>>();
    expectTypeOf<Bus['publish']>().parameters.toEqualTypeOf<[event: AgentEvent<number>]>();
    expectTypeOf<Bus['publish']>().returns.toEqualTypeOf<EventFrame<number>>();
    expectTypeOf<Bus['send']>().parameters.toEqualTypeOf<[event: AgentEvent<number>]>();
    expectTypeOf<Bus['send']>().returns.toEqualTypeOf<Promise<EventFrame<number>>>();
    expectTypeOf<Bus['events$']>().toEqualTypeOf<Observable<EventFrame<number>>>();
    type SelectOptions = { after?: number; queue?: SubscriberQueue<number> };
    expectTypeOf<[filter?: EventFilter, options?: SelectOptions]>().toExtend<
      Parameters<Bus['select']>
    >();
    expectTypeOf<Bus['select']>().returns.toEqualTypeOf<Observable<EventFrame<number>>>();
    expectTypeOf<[filter?: EventFilter, after?: number]>().toExtend<Parameters<Bus['replay']>>();
    expectTypeOf<Bus['replay']>().returns.toEqualTypeOf<Observable<EventFrame<number>>>();
    expectTypeOf<[filter?: EventFilter, options?: SelectOptions]>().toExtend<
      Parameters<Bus['iterate']>
    >();
    expectTypeOf<Bus['iterate']>().returns.toEqualTypeOf<
      AsyncIterableIterator<EventFrame<number>>
    >();
    expectTypeOf<Bus['metrics']>().returns.toEqualTypeOf<BusMetrics>();
    expectTypeOf<Bus['close']>().returns.toEqualTypeOf<void>();
  });

  it('types: SubscriberQueue, BusMetrics, EventArchive', () => {
    expectTypeOf<SubscriberQueue<number>['overflow']>().toEqualTypeOf<
      OverflowPolicy<EventFrame<number>> | 'backpressure'
    >();
    expectTypeOf<SubscriberQueue<number>>().toExtend<
      Omit<BoundedQueueConfig<EventFrame<number>>, 'overflow'>
    >();
    expectTypeOf<{ capacity: 4; overflow: 'backpressure'; flushOn: Subject<void> }>().toExtend<
      SubscriberQueue<number>
    >();
    expectTypeOf<BusMetrics['published']>().toEqualTypeOf<number>();
    expectTypeOf<BusMetrics['rejected']>().toEqualTypeOf<number>();
    expectTypeOf<BusMetrics['byKind']>().toEqualTypeOf<Record<string, number>>();
    expectTypeOf<BusMetrics['historySize']>().toEqualTypeOf<number>();
    expectTypeOf<BusMetrics['subscribers'][number]>().toExtend<{
      id: number;
      filter: EventFilter;
      depth: number;
      highWater: number;
      delivered: number;
      dropped: number;
      merged: number;
      lag: number;
    }>();
    expectTypeOf<{
      append(f: EventFrame): void | Promise<void>;
      replay(filter: EventFilter, after: number): ObservableInput<EventFrame>;
    }>().toExtend<EventArchive>();
  });
});

// -------------------------------------------------------------------------------------------------
describe('public API: OverflowQueue', () => {
  it('terminalReserve defaults to 1 with a classifier, else 0', () => {
    expect(
      new OverflowQueue<string>({ capacity: 4, overflow: 'error', classify: byLetter }).stats()
        .terminalReserve,
    ).toBe(1);
    expect(
      new OverflowQueue<string>({ capacity: 4, overflow: 'error' }).stats().terminalReserve,
    ).toBe(0);
  });

  it.each([
    [{ capacity: 0, overflow: 'error' }, RangeError, /capacity/],
    [{ capacity: 1.5, overflow: 'error' }, RangeError, /capacity/],
    [{ capacity: 2, overflow: 'error', terminalReserve: 2 }, RangeError, /terminalReserve/],
    [{ capacity: 2, overflow: 'error', terminalReserve: -1 }, RangeError, /terminalReserve/],
    [{ capacity: 2 }, TypeError, /overflow/],
    [{ capacity: 2, overflow: 'drop-newest' }, TypeError, /drop-newest/],
  ])('bad options %j throw at creation', (options, errorClass, message) => {
    const create = () => new OverflowQueue(options as unknown as QueueConfig<string>);
    expect(create).toThrow(errorClass);
    expect(create).toThrow(message);
  });
});

// -------------------------------------------------------------------------------------------------
describe('public API: boundedQueue', () => {
  it.each([
    [{ capacity: 0, overflow: 'error' }, RangeError],
    [{ capacity: 3, overflow: 'error', terminalReserve: 3 }, RangeError],
    [{ capacity: 3, overflow: 'error', demand: NEVER, flushOn: NEVER }, RangeError],
    [{ capacity: 3 }, TypeError],
  ])('bad options %j throw %o at creation', (options, errorClass) => {
    expect(() => boundedQueue(options as unknown as BoundedQueueConfig<string>)).toThrow(
      errorClass,
    );
  });

  it('demand and flushOn together is a RangeError naming both', () => {
    expect(() =>
      boundedQueue({ capacity: 1, overflow: 'error', demand: NEVER, flushOn: NEVER }),
    ).toThrow(/demand.*flushOn/);
  });

  it('with neither demand nor flushOn, delivers on asapScheduler by default', async () => {
    const received: number[] = [];
    let completed = false;
    of(1, 2, 3)
      .pipe(boundedQueue({ capacity: 8, overflow: 'error' }))
      .subscribe({ next: (value) => received.push(value), complete: () => (completed = true) });
    expect(received).toEqual([]);
    await microtasks();
    expect(received).toEqual([1, 2, 3]);
    expect(completed).toBe(true);
  });

  it('a gap is reported to onOverflow just before the next delivered value, then starts afresh', () => {
    const events: unknown[] = [];
    const source = new Subject<string>();
    const demand = new Subject<number>();
    source
      .pipe(
        boundedQueue({
          capacity: 2,
          overflow: 'drop-oldest',
          demand,
          onOverflow: (notice) => events.push(notice),
        }),
      )
      .subscribe((value) => events.push(value));
    for (const value of ['a', 'b', 'c', 'd']) source.next(value);
    demand.next(1);
    demand.next(1);
    expect(events).toEqual([
      {
        policy: 'drop-oldest',
        dropped: 2,
        merged: 0,
        first: 'a',
        last: 'b',
        terminalPreserved: true,
      },
      'c',
      'd',
    ]);
  });

  it('unsubscribing frees the queue', () => {
    let readStats: (() => api.QueueStats) | undefined;
    const source = new Subject<string>();
    const subscription = source
      .pipe(
        boundedQueue({
          capacity: 8,
          overflow: 'error',
          demand: NEVER,
          inspect: (read) => {
            readStats = read;
          },
        }),
      )
      .subscribe();
    for (const value of ['a', 'b', 'c']) source.next(value);
    expect(readStats?.().depth).toBe(3);
    subscription.unsubscribe();
    expect(readStats?.()).toMatchObject({ depth: 0, cleared: 3 });
    expect(source.observed).toBe(false);
  });
});

// -------------------------------------------------------------------------------------------------
describe('public API: summarizeProgress', () => {
  it.each([
    [{ merge: concat }, TypeError, /classify/],
    [{ classify: byLetter }, TypeError, /merge/],
    [{ classify: byLetter, merge: concat, maxMerged: 0 }, RangeError, /maxMerged/],
    [{ classify: byLetter, merge: concat, window: -1 }, RangeError, /window/],
  ])('bad options throw at creation (%#)', (options, errorClass, message) => {
    const create = () => summarizeProgress(options as Parameters<typeof summarizeProgress>[0]);
    expect(create).toThrow(errorClass);
    expect(create).toThrow(message);
  });
});

// -------------------------------------------------------------------------------------------------
describe('public API: takeThroughTerminal', () => {
  it('a classify that is not a function is a TypeError at creation, naming it', () => {
    const create = () => takeThroughTerminal(undefined as unknown as Classifier<string>);
    expect(create).toThrow(TypeError);
    expect(create).toThrow(/classify/);
  });
});

// -------------------------------------------------------------------------------------------------
describe('public API: mergeLanes', () => {
  it("order defaults to 'arrival': values as they arrive, laneSeq dense from 1 per lane", () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const a = cold('-x--y-|');
      const b = cold('--z--w--|');
      expectObservable(mergeLanes({ a, b })).toBe('-AB-CD--|', {
        A: { lane: 'a', laneSeq: 1, value: 'x' },
        B: { lane: 'b', laneSeq: 1, value: 'z' },
        C: { lane: 'a', laneSeq: 2, value: 'y' },
        D: { lane: 'b', laneSeq: 2, value: 'w' },
      });
    });
  });

  it("'timestamp' without a timestamp function, and bad maxSkew, throw at creation", () => {
    expect(() => mergeLanes({ a: of(1) }, { order: 'timestamp' })).toThrow(TypeError);
    expect(() => mergeLanes({ a: of(1) }, { order: 'timestamp' })).toThrow(/timestamp/);
    expect(() =>
      mergeLanes({ a: of(1) }, { order: 'timestamp', timestamp: (v) => v, maxSkew: -1 }),
    ).toThrow(RangeError);
    expect(() => mergeLanes({ a: of(1) }, { lane: { capacity: 0, overflow: 'error' } })).toThrow(
      RangeError,
    );
  });
});

// -------------------------------------------------------------------------------------------------
describe('public API: drainWith', () => {
  it('concurrency defaults to 1: a bounded mergeMap', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-abc----------|');
      const output = source.pipe(
        drainWith((value) => cold('---v|', { v: value }), { capacity: 8, overflow: 'error' }),
      );
      expectObservable(output).toBe('----a---b---c-|');
    });
  });

  it('bad options throw at creation', () => {
    const handler = (value: number) => of(value);
    expect(() => drainWith(handler, { capacity: 1, overflow: 'error', concurrency: 0 })).toThrow(
      RangeError,
    );
    expect(() => drainWith(handler, { capacity: 1, overflow: 'error', concurrency: 0 })).toThrow(
      /concurrency/,
    );
    expect(() => drainWith(handler, { capacity: -1, overflow: 'error' })).toThrow(RangeError);
  });
});

// -------------------------------------------------------------------------------------------------
describe('public API: toAsyncIterable', () => {
  it('bad options throw at once', () => {
    expect(() => toAsyncIterable(of(1), { capacity: 0, overflow: 'error' })).toThrow(RangeError);
    expect(() =>
      toAsyncIterable(of(1), { capacity: 1, overflow: 'nope' as unknown as 'error' }),
    ).toThrow(TypeError);
  });
});

// -------------------------------------------------------------------------------------------------
describe('public API: EventBus', () => {
  /** Collects what a subscription receives, and how it ended. */
  function record<T>(source: Observable<T>): { values: T[]; end: string[] } {
    const log = { values: [] as T[], end: [] as string[] };
    source.subscribe({
      next: (value) => log.values.push(value),
      error: (error: unknown) => log.end.push(`error:${(error as Error)?.name ?? error}`),
      complete: () => log.end.push('complete'),
    });
    return log;
  }
  const kinds = (frames: EventFrame[]) => frames.map((frame) => frame.kind);
  const seqs = (frames: EventFrame[]) => frames.map((frame) => frame.seq);

  it('events$ is hot: every live frame, of every visibility, from the moment of subscription', () => {
    const bus = new EventBus();
    bus.publish({ kind: 'before' });
    const log = record(bus.events$);
    bus.publish({ kind: 'public' });
    bus.publish({ kind: 'secret', visibility: 'private' });
    expect(kinds(log.values)).toEqual(['public', 'secret']);
    bus.close();
    expect(log.end).toEqual(['complete']);
  });

  // A documented departure (docs/bus.md, "Notices and repair"): a queue's notice always says
  // terminalPreserved: true, since no policy drops a terminal value. A cursor older than history
  // and archive is another kind of gap: the frames are gone, a terminal frame may have been among
  // them, and the bus cannot tell, so that notice says false rather than promise it (asserted in
  // test/bus/EventBus.spec.ts).
  it.todo(
    'departure, kept on purpose: a notice for frames gone from history says terminalPreserved: false',
  );

  it('an archive fills cursors older than history: select and replay with no gap and no notice', () => {
    const bus = new EventBus({ history: 1, archive: new api.MemoryArchive() });
    for (const kind of ['a', 'b', 'c']) bus.publish({ kind });
    const replayed = record(bus.replay({}, 0));
    const selected = record(bus.select({}, { after: 1 }));
    bus.publish({ kind: 'd' });
    expect(seqs(replayed.values)).toEqual([1, 2, 3]);
    expect(replayed.end).toEqual(['complete']);
    expect(seqs(selected.values)).toEqual([2, 3, 4]);
    expect([...replayed.values, ...selected.values].every((f) => f.overflow === undefined)).toBe(
      true,
    );
  });

  it('replay with a cursor older than history: the first frame carries the notice', () => {
    const bus = new EventBus({ history: 1 });
    for (const kind of ['a', 'b', 'c']) bus.publish({ kind });
    const log = record(bus.replay({}, 0));
    expect(seqs(log.values)).toEqual([3]);
    expect(log.values[0]?.overflow).toMatchObject({ dropped: 2, fromSeq: 1, toSeq: 2 });
  });

  it('default classes: run.finished / run.error / run.cancelled terminal; model.delta / usage / cost / stats progress', () => {
    /** What a capacity-2 'drop-progress' subscriber gets of [first, 'tool.call'] (1 non-terminal slot). */
    const survivors = (first: string, bus = new EventBus()): string[] => {
      const flushOn = new Subject<void>();
      const log = record(
        bus.select({}, { queue: { capacity: 2, overflow: 'drop-progress', flushOn } }),
      );
      bus.publish({ kind: first });
      bus.publish({ kind: 'tool.call' });
      flushOn.next();
      return kinds(log.values);
    };
    for (const kind of ['model.delta', 'usage', 'cost', 'stats']) {
      expect(survivors(kind)).toEqual(['tool.call']);
    }
    for (const kind of ['tool.call', 'model.start', 'run.started']) {
      expect(survivors(kind)).toEqual([kind]);
    }
    for (const kind of ['run.finished', 'run.error', 'run.cancelled']) {
      expect(survivors(kind)).toEqual([kind, 'tool.call']);
    }
  });

  it('the classify option replaces the default classes', () => {
    const bus = new EventBus({
      classify: (frame) =>
        frame.kind === 'done' ? 'terminal' : frame.kind === 'tick' ? 'progress' : 'normal',
    });
    const flushOn = new Subject<void>();
    const log = record(
      bus.select({}, { queue: { capacity: 2, overflow: 'drop-progress', flushOn } }),
    );
    for (const kind of ['model.delta', 'tick', 'run.finished', 'done', 'done']) {
      bus.publish({ kind });
    }
    flushOn.next();
    expect(kinds(log.values)).toEqual(['model.delta', 'done', 'done']);
  });

  it('a throwing classifier errors the subscriber stream with that error, not the bus', () => {
    const boom = new Error('classify');
    const bus = new EventBus({
      classify: () => {
        throw boom;
      },
    });
    let caught: unknown;
    bus
      .select({}, { queue: { capacity: 4, overflow: 'drop-oldest', flushOn: of(0) } })
      .subscribe({ error: (error) => (caught = error) });
    expect(() => bus.publish({ kind: 'x' })).not.toThrow();
    expect(caught).toBe(boom);
  });

  it.each([
    [() => new EventBus({ history: -1 }), RangeError, /history/],
    [() => new EventBus({ scheduler: {} as SchedulerLike }), TypeError, /scheduler/],
    [() => new EventBus().select({}, { after: -1 }), RangeError, /after/],
    [
      () => new EventBus().select({}, { queue: { capacity: 0, overflow: 'drop-oldest' } }),
      RangeError,
      /capacity/,
    ],
    [
      () =>
        new EventBus().select({}, { queue: { capacity: 2, overflow: 'nope' as 'drop-oldest' } }),
      TypeError,
      /overflow/,
    ],
    [() => new EventBus().replay({}, 1.5), RangeError, /after/],
    [() => new EventBus().select({ visibility: 'secret' as Visibility }), TypeError, /visibility/],
  ])('bad options throw at once (%#)', (create, errorClass, message) => {
    expect(create).toThrow(errorClass);
    expect(create).toThrow(message);
  });
});

// -------------------------------------------------------------------------------------------------
describe('public API: errors are part of the API', () => {
  it.each([
    ['boundedQueue', () => boundedQueue({ capacity: 0, overflow: 'error' }), /capacity.*\b0\b/],
    [
      'boundedQueue',
      () => boundedQueue({ capacity: 2, overflow: 'error', terminalReserve: 5 }),
      /terminalReserve.*\b5\b/,
    ],
    [
      'drainWith',
      () => drainWith(() => NEVER, { capacity: 1, overflow: 'error', concurrency: 1.5 }),
      /concurrency.*1\.5/,
    ],
    [
      'toAsyncIterable',
      () => toAsyncIterable(NEVER, { capacity: -3, overflow: 'error' }),
      /capacity.*-3/,
    ],
    [
      'summarizeProgress',
      () => summarizeProgress({ classify: byLetter, merge: concat, maxMerged: 0.5 }),
      /maxMerged.*0\.5/,
    ],
    ['mergeLanes', () => mergeLanes({ a: NEVER }, { maxSkew: -2 }), /maxSkew.*-2/],
    [
      'mergeLanes',
      () => mergeLanes({ a: NEVER }, { order: 'sorted' as 'timestamp' }),
      /order.*sorted/,
    ],
    [
      'paceText',
      () => api.paceText({ text: () => '', withText: (v) => v, maxLag: 0 }),
      /maxLag.*\b0\b/,
    ],
    ['frames', () => api.frames({ interval: -16 }), /interval.*-16/],
    ['EventBus', () => new EventBus({ history: 2.5 }), /history.*2\.5/],
    [
      'OverflowQueue',
      () => new OverflowQueue({ capacity: 2, overflow: 'drop-all' as 'error' }),
      /overflow.*drop-all/,
    ],
  ])(
    '%s: a bad option throws a message naming the option and the value',
    (_owner, create, message) => {
      expect(create).toThrow(message);
      try {
        create();
      } catch (error) {
        expect(error instanceof RangeError || error instanceof TypeError).toBe(true);
      }
    },
  );

  it('EventBus: a throwing subscriber onOverflow errors that subscriber with what it threw; publish does not throw', () => {
    const bus = new EventBus();
    const boom = new Error('onOverflow');
    const flushOn = new Subject<void>();
    let caught: unknown;
    const received: string[] = [];
    bus
      .select(
        {},
        {
          queue: {
            capacity: 1,
            overflow: 'drop-oldest',
            flushOn,
            onOverflow: () => {
              throw boom;
            },
          },
        },
      )
      .subscribe({
        next: (frame) => received.push(frame.kind),
        error: (error) => (caught = error),
      });
    for (const kind of ['a', 'b', 'c']) expect(() => bus.publish({ kind })).not.toThrow();
    flushOn.next();
    expect(caught).toBe(boom);
    expect(received).toEqual([]);
  });
});

// -------------------------------------------------------------------------------------------------
describe('layers: the folders under src depend downwards only', () => {
  const srcDir = fileURLToPath(new URL('../../src/', import.meta.url));

  /**
   * What each folder may import besides itself. core is the bottom and knows nothing of RxJS.
   * bus -> interop is a deliberate departure from a strict stack: `iterate()` reuses the pull
   * bridge of toAsyncIterable rather than a second copy of it; interop never imports the bus, so
   * the graph stays acyclic.
   */
  const allowed: Record<string, string[]> = {
    core: [],
    internal: ['core'],
    operators: ['internal', 'core'],
    interop: ['internal', 'core'],
    bus: ['operators', 'interop', 'internal', 'core'],
    projection: ['bus', 'internal', 'core'],
    redis: ['bus', 'projection', 'operators', 'core', 'internal'],
    angular: ['operators', 'core'],
    node: ['interop'],
    testing: ['bus', 'core'],
    otel: ['bus', 'operators', 'core'],
  };

  interface SourceImports {
    /** The folder of src each relative import lands in; 'index.ts' for the public barrel. */
    targets: Set<string>;
    rxjs: boolean;
  }

  /** The imports of every .ts file under src/<folder>, recursively. */
  function importsOf(folder: string): SourceImports {
    const found: SourceImports = { targets: new Set(), rxjs: false };
    const root = join(srcDir, folder);
    for (const name of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      if (!name.endsWith('.ts')) continue;
      const file = join(root, name);
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        const target = match[1] as string;
        if (target === 'rxjs' || target.startsWith('rxjs/')) found.rxjs = true;
        if (!target.startsWith('.')) continue;
        const inSrc = relative(srcDir, resolve(dirname(file), target)).split(sep);
        const [head] = inSrc;
        found.targets.add(
          inSrc.length === 1 && /^index\.(js|ts)$/.test(head as string)
            ? 'index.ts'
            : (head as string),
        );
      }
    }
    return found;
  }

  it('every folder under src is one of the known layers', () => {
    const folders = readdirSync(srcDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    expect(folders).toEqual(Object.keys(allowed).sort());
  });

  it('src/core imports neither RxJS nor any other folder', () => {
    const { targets, rxjs } = importsOf('core');
    expect(rxjs).toBe(false);
    expect([...targets].filter((target) => target !== 'core')).toEqual([]);
  });

  it.each(Object.entries(allowed))('src/%s imports only from itself and %j', (folder, below) => {
    const { targets } = importsOf(folder);
    const permitted = new Set([folder, ...below]);
    expect([...targets].filter((target) => !permitted.has(target))).toEqual([]);
  });

  it('nothing inside src imports the public barrel src/index.ts', () => {
    for (const folder of Object.keys(allowed)) {
      expect(importsOf(folder).targets.has('index.ts'), folder).toBe(false);
    }
  });
});

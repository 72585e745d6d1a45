/**
 * The public API against the contract in DESIGN.md: every name, signature, option, default, error
 * class and stated behaviour, checked through the public entry points only (src/index.ts, and
 * src/redis/index.ts for the `rxjs-backpressure/redis` subpath). One short test per contract
 * sentence; where the code departs from DESIGN.md in code this suite may not change, the
 * expectation is an `it.todo` whose title states the discrepancy.
 */

import { readdirSync, readFileSync } from 'node:fs';
import {
  asapScheduler,
  catchError,
  finalize,
  type MonoTypeOperatorFunction,
  NEVER,
  Observable,
  type ObservableInput,
  type OperatorFunction,
  of,
  type SchedulerLike,
  Subject,
  take,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import * as api from '../../src/index.js';
import {
  type AgentEvent,
  BackpressureError,
  type BoundedQueueConfig,
  BusClosedError,
  type BusMetrics,
  boundedQueue,
  type Classifier,
  coalesce,
  drainWith,
  type EventArchive,
  EventBus,
  type EventClass,
  type EventFilter,
  type EventFrame,
  InvalidEventError,
  type Laned,
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

/** A promise's state, without waiting for it. */
async function stateOf(promise: Promise<unknown>): Promise<'pending' | 'fulfilled' | 'rejected'> {
  const marker = Symbol('pending');
  try {
    const outcome = await Promise.race([promise, microtasks(3).then(() => marker)]);
    return outcome === marker ? 'pending' : 'fulfilled';
  } catch {
    return 'rejected';
  }
}

// -------------------------------------------------------------------------------------------------
describe('DESIGN.md: exported names', () => {
  it.each([
    'boundedQueue',
    'summarizeProgress',
    'takeThroughTerminal',
    'mergeLanes',
    'drainWith',
    'toAsyncIterable',
    'coalesce',
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

  it('the rxjs-backpressure/redis subpath is a source entry point that loads on its own', () => {
    // package.json maps "./redis" to dist/redis/index.*, built from src/redis/index.ts.
    expect(typeof redisApi.RedisEventBus).toBe('function');
    expect(typeof redisApi.createRedisBus).toBe('function');
    expect(typeof redisApi.RedisStreamArchive).toBe('function');
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
      [merge: (acc: number, next: number) => number, key?: (value: number) => unknown]
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
      concurrency?: number;
      priority?: (value: number) => number;
    };
    type Params = Parameters<typeof drainWith<number, string>>;
    expectTypeOf<(value: number, index: number) => ObservableInput<string>>().toExtend<Params[0]>();
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
describe('DESIGN.md: OverflowQueue', () => {
  it('terminalReserve defaults to 1 with a classifier, else 0', () => {
    expect(
      new OverflowQueue<string>({ capacity: 4, overflow: 'error', classify: byLetter }).stats()
        .terminalReserve,
    ).toBe(1);
    expect(
      new OverflowQueue<string>({ capacity: 4, overflow: 'error' }).stats().terminalReserve,
    ).toBe(0);
  });

  it("without a classifier every value is normal: 'drop-progress' finds nothing to evict", () => {
    const queue = new OverflowQueue<string>({ capacity: 2, overflow: 'drop-progress' });
    queue.push('p');
    queue.push('q');
    expect(queue.push('r')).toBe('rejected');
    expect(queue.toArray()).toEqual(['p', 'q']);
  });

  it('a non-terminal newcomer has room only below capacity - terminalReserve non-terminals', () => {
    const queue = new OverflowQueue<string>({
      capacity: 3,
      overflow: 'drop-incoming',
      classify: byLetter,
    });
    expect([queue.push('a'), queue.push('b'), queue.push('c')]).toEqual([
      'queued',
      'queued',
      'rejected',
    ]);
    expect(queue.push('A')).toBe('queued');
    expect(queue.toArray()).toEqual(['a', 'b', 'A']);
  });

  it('a non-terminal newcomer has no room once the queue holds capacity values in all', () => {
    const queue = new OverflowQueue<string>({
      capacity: 3,
      overflow: 'drop-incoming',
      classify: byLetter,
      terminalReserve: 1,
    });
    queue.push('A');
    queue.push('B');
    queue.push('a');
    expect(queue.push('b')).toBe('rejected');
    expect(queue.toArray()).toEqual(['A', 'B', 'a']);
  });

  it('a terminal is always admitted, beyond capacity, and the stats say so', () => {
    const queue = new OverflowQueue<string>({
      capacity: 2,
      overflow: 'drop-oldest',
      classify: byLetter,
    });
    queue.push('A');
    queue.push('B');
    expect(queue.push('C')).toBe('queued');
    expect(queue.toArray()).toEqual(['A', 'B', 'C']);
    expect(queue.stats().terminalOvercommits).toBeGreaterThan(0);
    expect(queue.stats().depth).toBe(3);
  });

  it("'drop-oldest' evicts the oldest non-terminal value and admits the newcomer", () => {
    const queue = new OverflowQueue<string>({
      capacity: 3,
      overflow: 'drop-oldest',
      classify: byLetter,
      terminalReserve: 0,
    });
    for (const value of ['A', 'a', 'b']) queue.push(value);
    expect(queue.push('c')).toBe('evicted');
    expect(queue.toArray()).toEqual(['A', 'b', 'c']);
  });

  it("'drop-incoming' rejects the newcomer, never a queued value", () => {
    const queue = new OverflowQueue<string>({ capacity: 2, overflow: 'drop-incoming' });
    queue.push('a');
    queue.push('b');
    expect(queue.push('c')).toBe('rejected');
    expect(queue.toArray()).toEqual(['a', 'b']);
    expect(queue.takeNotice()).toMatchObject({ policy: 'drop-incoming', first: 'c', last: 'c' });
  });

  it("'drop-progress' evicts the oldest progress value; with none queued it rejects the newcomer", () => {
    const queue = new OverflowQueue<string>({
      capacity: 3,
      overflow: 'drop-progress',
      classify: byLetter,
      terminalReserve: 0,
    });
    for (const value of ['a', 'p', 'q']) queue.push(value);
    expect(queue.push('b')).toBe('evicted');
    expect(queue.toArray()).toEqual(['a', 'q', 'b']);
    expect(queue.push('c')).toBe('evicted');
    expect(queue.toArray()).toEqual(['a', 'b', 'c']);
    expect(queue.push('d')).toBe('rejected');
    expect(queue.toArray()).toEqual(['a', 'b', 'c']);
  });

  it('coalesce(merge) merges a progress newcomer into the newest queued value when that is progress', () => {
    const queue = new OverflowQueue<string>({
      capacity: 2,
      overflow: coalesce(concat),
      classify: byLetter,
      terminalReserve: 0,
    });
    queue.push('a');
    queue.push('p');
    expect(queue.push('q')).toBe('merged');
    expect(queue.toArray()).toEqual(['a', 'pq']);
    expect(queue.takeNotice()).toMatchObject({ policy: 'coalesce', dropped: 0, merged: 1 });
  });

  it("coalesce behaves as 'drop-progress' when the newest queued value is not progress", () => {
    const queue = new OverflowQueue<string>({
      capacity: 2,
      overflow: coalesce(concat),
      classify: byLetter,
      terminalReserve: 0,
    });
    queue.push('p');
    queue.push('a');
    expect(queue.push('q')).toBe('evicted');
    expect(queue.toArray()).toEqual(['a', 'q']);
    // A normal newcomer is never merged: drop-progress.
    expect(queue.push('b')).toBe('evicted');
    expect(queue.toArray()).toEqual(['a', 'b']);
    expect(queue.push('c')).toBe('rejected');
  });

  it('coalesce(merge, key) merges into the newest queued value of the same key', () => {
    const key = (value: string): string => value.slice(1);
    const queue = new OverflowQueue<string>({
      capacity: 2,
      overflow: coalesce(concat, key),
      classify: byLetter,
      terminalReserve: 0,
    });
    queue.push('p1');
    queue.push('p2');
    expect(queue.push('q1')).toBe('merged');
    expect(queue.toArray()).toEqual(['p1q1', 'p2']);
  });

  it('coalesce(merge, key): when the newest queued value of the key is not progress, it behaves as drop-progress', () => {
    const key = (value: string): string => value.slice(1);
    const queue = new OverflowQueue<string>({
      capacity: 2,
      overflow: coalesce(concat, key),
      classify: byLetter,
      terminalReserve: 0,
    });
    queue.push('p1');
    queue.push('a1');
    expect(queue.push('q1')).toBe('evicted');
    expect(queue.toArray()).toEqual(['a1', 'q1']);
  });

  it("'error' never refuses a terminal value: it is admitted beyond capacity", () => {
    const queue = new OverflowQueue<string>({ capacity: 1, overflow: 'error', classify: byLetter });
    expect(queue.push('a')).toBe('queued');
    expect(queue.push('b')).toBe('overflow');
    expect(queue.push('A')).toBe('queued');
    expect(queue.toArray()).toEqual(['a', 'A']);
  });

  it('drops and merges accumulate into one notice, then the accumulator starts afresh', () => {
    const queue = new OverflowQueue<string>({ capacity: 1, overflow: 'drop-oldest' });
    for (const value of ['a', 'b', 'c', 'd']) queue.push(value);
    expect(queue.takeNotice()).toEqual({
      policy: 'drop-oldest',
      dropped: 3,
      merged: 0,
      first: 'a',
      last: 'c',
      terminalPreserved: true,
    });
    expect(queue.takeNotice()).toBeUndefined();
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
describe('DESIGN.md: boundedQueue', () => {
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

  it('delivers on the given scheduler', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold('a-b-|');
      expectObservable(
        source.pipe(boundedQueue({ capacity: 4, overflow: 'error', scheduler: asapScheduler })),
      ).toBe('a-b-|');
    });
  });

  it('demand: each emission grants n values, void grants one, credits accumulate', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const source = hot('  ----abcd---|');
      const demand = cold(' -2v-------1|', { 2: 2, v: undefined, 1: 1 });
      const expected = '    ----abc---d|';
      expectObservable(source.pipe(boundedQueue({ capacity: 8, overflow: 'error', demand }))).toBe(
        expected,
      );
    });
  });

  it('flushOn: each emission delivers everything queued at that moment', () => {
    newScheduler().run(({ hot, expectObservable }) => {
      const source = hot('  -a-b---c---|');
      const flushOn = hot(' -----x---x----x');
      const expected = '    -----(ab)c-|';
      expectObservable(source.pipe(boundedQueue({ capacity: 8, overflow: 'error', flushOn }))).toBe(
        expected,
      );
    });
  });

  it('complete and error need no credit: each follows the values queued before it', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const demand = hot('--1----1', { 1: 1 });
      expectObservable(
        cold('a|').pipe(boundedQueue({ capacity: 4, overflow: 'error', demand })),
      ).toBe('--(a|)');
      expectObservable(
        cold('ab#').pipe(boundedQueue({ capacity: 4, overflow: 'error', demand })),
      ).toBe('--a----(b#)');
      expectObservable(
        cold('---|').pipe(boundedQueue({ capacity: 4, overflow: 'error', demand: NEVER })),
      ).toBe('---|');
    });
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

  it("'error': delivers what is queued, then errors with QueueOverflowError (first = the value that did not fit)", () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const demand = hot('-----1---1', { 1: 1 });
      const output = cold('abc').pipe(
        boundedQueue({ capacity: 2, overflow: 'error', demand }),
        catchError((error: unknown) =>
          of(
            error instanceof QueueOverflowError
              ? `${error.notice.policy}:${String(error.notice.first)}`
              : 'other',
          ),
        ),
      );
      expectObservable(output).toBe('-----a---(bE|)', { a: 'a', b: 'b', E: 'error:c' });
    });
  });

  it('terminal values are never dropped and never reordered', () => {
    const received: string[] = [];
    const source = new Subject<string>();
    const demand = new Subject<number>();
    source
      .pipe(boundedQueue({ capacity: 2, overflow: 'drop-oldest', classify: byLetter, demand }))
      .subscribe((value) => received.push(value));
    for (const value of ['a', 'A', 'b', 'c', 'B', 'd', 'C']) source.next(value);
    demand.next(Number.POSITIVE_INFINITY);
    expect(received).toEqual(['A', 'B', 'd', 'C']);
  });

  it('unsubscribing stops delivery at once, also in the middle of a drain, and unsubscribes the source', () => {
    const received: string[] = [];
    let sourceUnsubscribed = false;
    const source = new Subject<string>();
    const flushOn = new Subject<void>();
    source
      .pipe(
        finalize(() => {
          sourceUnsubscribed = true;
        }),
        boundedQueue({ capacity: 8, overflow: 'error', flushOn }),
        take(2),
      )
      .subscribe((value) => received.push(value));
    for (const value of ['a', 'b', 'c', 'd']) source.next(value);
    flushOn.next();
    expect(received).toEqual(['a', 'b']);
    expect(sourceUnsubscribed).toBe(true);
    expect(source.observed).toBe(false);
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

  it('re-entrance: a value pushed back into the source while delivering is neither reordered nor duplicated', () => {
    const received: string[] = [];
    const source = new Subject<string>();
    source
      .pipe(boundedQueue({ capacity: 8, overflow: 'error', demand: of(Number.POSITIVE_INFINITY) }))
      .subscribe((value) => {
        received.push(value);
        if (value === 'a') source.next('x');
      });
    source.next('a');
    source.next('b');
    expect(received).toEqual(['a', 'x', 'b']);
  });

  it('a throwing onOverflow errors the stream with what it threw', () => {
    const boom = new Error('boom');
    let caught: unknown;
    const source = new Subject<string>();
    const demand = new Subject<number>();
    source
      .pipe(
        boundedQueue({
          capacity: 1,
          overflow: 'drop-oldest',
          demand,
          onOverflow: () => {
            throw boom;
          },
        }),
      )
      .subscribe({ error: (error) => (caught = error) });
    source.next('a');
    source.next('b');
    demand.next(1);
    expect(caught).toBe(boom);
  });

  it('a throwing classifier errors the stream with that error', () => {
    const boom = new Error('classify');
    let caught: unknown;
    of('a')
      .pipe(
        boundedQueue({
          capacity: 2,
          overflow: 'error',
          demand: of(1),
          classify: () => {
            throw boom;
          },
        }),
      )
      .subscribe({ error: (error) => (caught = error) });
    expect(caught).toBe(boom);
  });

  it('a throwing coalesce merge errors the stream with that error, after the values queued before', () => {
    const boom = new Error('merge');
    const received: string[] = [];
    let caught: unknown;
    const flushOn = new Subject<void>();
    of('p', 'q')
      .pipe(
        boundedQueue({
          capacity: 1,
          overflow: coalesce<string>(() => {
            throw boom;
          }),
          classify: byLetter,
          terminalReserve: 0,
          flushOn,
        }),
      )
      .subscribe({ next: (value) => received.push(value), error: (error) => (caught = error) });
    expect(caught).toBeUndefined();
    flushOn.next();
    expect(received).toEqual(['p']);
    expect(caught).toBe(boom);
  });
});

// -------------------------------------------------------------------------------------------------
describe('DESIGN.md: summarizeProgress', () => {
  /** 'p1' is a progress value of key '1'; 'a1' a normal value of key '1'. */
  const keyOf = (value: string): string => value.slice(1);
  const base = { classify: byLetter, merge: concat, key: keyOf };

  it('a pending summary is emitted when its window (ms on the scheduler) closes', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold('-p-q------|', { p: 'p1', q: 'q1' });
      expectObservable(source.pipe(summarizeProgress({ ...base, window: 4, scheduler }))).toBe(
        '-----x----|',
        { x: 'p1q1' },
      );
    });
  });

  it('a non-progress value of key k emits the summary of k first, then itself; other keys stay pending', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-pqa---|', { p: 'p1', q: 'q2', a: 'a1' });
      expectObservable(source.pipe(summarizeProgress({ ...base, window: 100 }))).toBe(
        '---(xa)(y|)',
        { x: 'p1', a: 'a1', y: 'q2' },
      );
    });
  });

  it('on complete, every pending summary is emitted before complete', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-pqp|', { p: 'p1', q: 'q2' });
      expectObservable(source.pipe(summarizeProgress({ ...base, window: 100 }))).toBe('----(xy|)', {
        x: 'p1p1',
        y: 'q2',
      });
    });
  });

  it('before error, every pending summary is emitted', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-pq#', { p: 'p1', q: 'q1' }, 'oops');
      expectObservable(source.pipe(summarizeProgress({ ...base, window: 100 }))).toBe(
        '---(x#)',
        { x: 'p1q1' },
        'oops',
      );
    });
  });

  it('window as a notifier: each emission flushes what is pending', () => {
    newScheduler().run(({ cold, hot, expectObservable }) => {
      const source = cold('-pq---p---|', { p: 'p1', q: 'q1' });
      const window = hot(' -----f-----f--');
      expectObservable(source.pipe(summarizeProgress({ ...base, window }))).toBe('-----x----(y|)', {
        x: 'p1q1',
        y: 'p1',
      });
    });
  });

  it('maxMerged: a summary never stands for more than this many values', () => {
    const received: string[] = [];
    of('p1', 'q1', 'r1', 's1', 'p1')
      .pipe(summarizeProgress({ ...base, window: 100, maxMerged: 2 }))
      .subscribe((value) => received.push(value));
    expect(received).toEqual(['p1q1', 'r1s1', 'p1']);
  });

  it('order within a key is preserved and nothing merged is lost', () => {
    const input = ['p1', 'a1', 'q2', 'q1', 'r2', 'b2', 's1', 'c1', 'p2'];
    const received: string[] = [];
    of(...input)
      .pipe(summarizeProgress({ ...base, window: 100 }))
      .subscribe((value) => received.push(value));
    for (const key of ['1', '2']) {
      const tokens = (values: string[]) =>
        values.join('').match(new RegExp(`[a-z]${key}`, 'g')) ?? [];
      expect(tokens(received)).toEqual(tokens(input));
    }
    expect(received.join('').length).toBe(input.join('').length);
  });

  it('a throwing merge errors the stream with that error', () => {
    const boom = new Error('merge');
    let caught: unknown;
    of('p1', 'q1')
      .pipe(
        summarizeProgress({
          classify: byLetter,
          merge: () => {
            throw boom;
          },
        }),
      )
      .subscribe({ error: (error) => (caught = error) });
    expect(caught).toBe(boom);
  });

  it('a throwing classifier errors the stream with that error', () => {
    const boom = new Error('classify');
    let caught: unknown;
    of('a')
      .pipe(
        summarizeProgress<string>({
          classify: () => {
            throw boom;
          },
          merge: concat,
        }),
      )
      .subscribe({ error: (error) => (caught = error) });
    expect(caught).toBe(boom);
  });

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
describe('DESIGN.md: takeThroughTerminal', () => {
  it('emits values up to and including the first terminal value, then completes', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-p-b-T-c-|');
      expectObservable(source.pipe(takeThroughTerminal(byLetter))).toBe('-a-p-b-(T|)');
      expectSubscriptions(source.subscriptions).toBe('^------!');
    });
  });

  it('without a terminal value, the source ends the result the same way', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-|').pipe(takeThroughTerminal(byLetter))).toBe('-a-b-|');
      expectObservable(cold('-a-#').pipe(takeThroughTerminal(byLetter))).toBe('-a-#');
    });
  });

  it('a throwing classifier errors the stream with that error; a non-function is a TypeError', () => {
    const boom = new Error('classify');
    let caught: unknown;
    of('a')
      .pipe(
        takeThroughTerminal<string>(() => {
          throw boom;
        }),
      )
      .subscribe({ error: (error) => (caught = error) });
    expect(caught).toBe(boom);
    expect(() => takeThroughTerminal(undefined as unknown as Classifier<string>)).toThrow(
      TypeError,
    );
  });
});

// -------------------------------------------------------------------------------------------------
describe('DESIGN.md: mergeLanes', () => {
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

  it("'timestamp': the smallest pending value goes once every live lane holds a pending value", () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const a = cold('-1--3--5|', { 1: 1, 3: 3, 5: 5 });
      const b = cold('--2--4--6---|', { 2: 2, 4: 4, 6: 6 });
      const laned = (lane: string, laneSeq: number, value: number) => ({ lane, laneSeq, value });
      expectObservable(
        mergeLanes({ a, b }, { order: 'timestamp', timestamp: (v) => v, scheduler }),
      ).toBe('--A-BC-D(EF)|', {
        A: laned('a', 1, 1),
        B: laned('b', 1, 2),
        C: laned('a', 2, 3),
        D: laned('b', 2, 4),
        E: laned('a', 3, 5),
        F: laned('b', 3, 6),
      });
    });
  });

  it("'timestamp' with maxSkew: a silent lane holds the others back at most maxSkew ms", () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const a = cold('-1-2-----|', { 1: 1, 2: 2 });
      const b = cold<number>('----------|');
      expectObservable(
        mergeLanes({ a, b }, { order: 'timestamp', timestamp: (v) => v, maxSkew: 3, scheduler }),
      ).toBe('----A-B---|', {
        A: { lane: 'a', laneSeq: 1, value: 1 },
        B: { lane: 'a', laneSeq: 2, value: 2 },
      });
    });
  });

  it("'timestamp' with every lane complete: a stable sort by (timestamp, lane id, laneSeq)", () => {
    const lanes = {
      c: [
        { ts: 1, id: 'c1' },
        { ts: 5, id: 'c2' },
        { ts: 5, id: 'c3' },
      ],
      a: [
        { ts: 2, id: 'a1' },
        { ts: 5, id: 'a2' },
        { ts: 7, id: 'a3' },
      ],
      b: [
        { ts: 0, id: 'b1' },
        { ts: 5, id: 'b2' },
      ],
    };
    const expected = Object.entries(lanes)
      .flatMap(([lane, values]) => values.map((value, index) => ({ lane, index, value })))
      .sort(
        (x, y) =>
          x.value.ts - y.value.ts ||
          (x.lane < y.lane ? -1 : x.lane > y.lane ? 1 : 0) ||
          x.index - y.index,
      )
      .map(({ value }) => value.id);
    const received: string[] = [];
    mergeLanes(
      { c: of(...lanes.c), a: of(...lanes.a), b: of(...lanes.b) },
      { order: 'timestamp', timestamp: (v) => v.ts },
    ).subscribe((laned) => received.push(laned.value.id));
    expect(received).toEqual(expected);
    expect(received).toEqual(['b1', 'c1', 'a1', 'a2', 'b2', 'c2', 'c3', 'a3']);
  });

  it("'timestamp': equal timestamps go in lane id order, whatever the subscription order; same input and timing, same output", () => {
    const run = (): string[] => {
      const scheduler = newScheduler();
      const out: string[] = [];
      scheduler.run(({ cold }) => {
        const lanes = {
          zed: cold('-a-b|', { a: 1, b: 2 }),
          alpha: cold('-a-b|', { a: 1, b: 2 }),
          mid: cold('--a|', { a: 2 }),
        };
        mergeLanes(lanes, { order: 'timestamp', timestamp: (v) => v, scheduler }).subscribe(
          ({ lane, laneSeq, value }) => out.push(`${scheduler.now()}:${lane}#${laneSeq}=${value}`),
        );
      });
      return out;
    };
    const first = run();
    expect(first.map((entry) => entry.slice(entry.indexOf(':') + 1))).toEqual([
      'alpha#1=1',
      'zed#1=1',
      'alpha#2=2',
      'mid#1=2',
      'zed#2=2',
    ]);
    expect(run()).toEqual(first);
  });

  it('each lane has its own queue: a flooding lane drops its own progress, never another lane value', () => {
    const scheduler = newScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const flood = cold('(pqrsp)|');
      const calm = cold('-----(ab)|');
      const notices: Array<[string, number]> = [];
      const merged = mergeLanes(
        { flood, calm },
        {
          lane: {
            capacity: 2,
            overflow: 'drop-progress',
            classify: byLetter,
            terminalReserve: 0,
            onOverflow: (notice, lane) => {
              notices.push([lane, notice.dropped]);
            },
          },
          scheduler,
        },
      );
      expectObservable(merged).toBe('(AB)-(CD)|', {
        A: { lane: 'flood', laneSeq: 1, value: 's' },
        B: { lane: 'flood', laneSeq: 2, value: 'p' },
        C: { lane: 'calm', laneSeq: 1, value: 'a' },
        D: { lane: 'calm', laneSeq: 2, value: 'b' },
      });
      scheduler.flush();
      expect(notices).toEqual([['flood', 3]]);
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

  it('a throwing timestamp function errors the stream with that error', () => {
    const boom = new Error('timestamp');
    let caught: unknown;
    mergeLanes(
      { a: of(1) },
      {
        order: 'timestamp',
        timestamp: () => {
          throw boom;
        },
      },
    ).subscribe({ error: (error) => (caught = error) });
    expect(caught).toBe(boom);
  });
});

// -------------------------------------------------------------------------------------------------
describe('DESIGN.md: drainWith', () => {
  it('concurrency defaults to 1: a bounded mergeMap', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-abc----------|');
      const output = source.pipe(
        drainWith((value) => cold('---v|', { v: value }), { capacity: 8, overflow: 'error' }),
      );
      expectObservable(output).toBe('----a---b---c-|');
    });
  });

  it('concurrency n runs n handlers at once', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold('-abc----|');
      const output = source.pipe(
        drainWith((value) => cold('---v|', { v: value }), {
          capacity: 8,
          overflow: 'error',
          concurrency: 2,
        }),
      );
      expectObservable(output).toBe('----ab--c|');
    });
  });

  it('priority: the highest waiting value is taken first; the handler gets the call index', () => {
    const calls: Array<[string, number]> = [];
    const gate = new Subject<string>();
    const source = new Subject<string>();
    source
      .pipe(
        drainWith(
          (value, index) => {
            calls.push([value, index]);
            return value === 'first' ? gate : of(value);
          },
          {
            capacity: 8,
            overflow: 'error',
            priority: (value) => (value.startsWith('hi') ? 2 : 0),
          },
        ),
      )
      .subscribe();
    for (const value of ['first', 'lo1', 'hi1', 'lo2', 'hi2']) source.next(value);
    gate.complete();
    expect(calls).toEqual([
      ['first', 0],
      ['hi1', 1],
      ['hi2', 2],
      ['lo1', 3],
      ['lo2', 4],
    ]);
  });

  it('the waiting queue is bounded by its policy, and gaps go to onOverflow', () => {
    const gate = new Subject<string>();
    const handled: string[] = [];
    const notices: OverflowNotice<string>[] = [];
    of('a', 'b', 'c', 'd')
      .pipe(
        drainWith(
          (value) => {
            handled.push(value);
            return value === 'a' ? gate : of(value);
          },
          { capacity: 1, overflow: 'drop-oldest', onOverflow: (notice) => notices.push(notice) },
        ),
      )
      .subscribe();
    gate.complete();
    expect(handled).toEqual(['a', 'd']);
    expect(notices).toMatchObject([{ policy: 'drop-oldest', dropped: 2, first: 'b', last: 'c' }]);
  });

  it("'error': the values accepted before the overflow are handled, then the stream errors with QueueOverflowError", () => {
    const gate = new Subject<string>();
    const handled: string[] = [];
    let caught: unknown;
    of('a', 'b', 'c')
      .pipe(
        drainWith(
          (value) => {
            handled.push(value);
            return value === 'a' ? gate : of(value);
          },
          { capacity: 1, overflow: 'error' },
        ),
      )
      .subscribe({ error: (error) => (caught = error) });
    expect(caught).toBeUndefined();
    gate.complete();
    expect(handled).toEqual(['a', 'b']);
    expect(caught).toBeInstanceOf(QueueOverflowError);
    expect((caught as QueueOverflowError).notice.first).toBe('c');
  });

  it('a throwing handler errors the stream with that error', () => {
    const boom = new Error('handler');
    let caught: unknown;
    of(1)
      .pipe(
        drainWith(
          () => {
            throw boom;
          },
          { capacity: 1, overflow: 'error' },
        ),
      )
      .subscribe({ error: (error) => (caught = error) });
    expect(caught).toBe(boom);
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
describe('DESIGN.md: toAsyncIterable', () => {
  it('for await pulls at its own pace through a bounded queue', async () => {
    const source = new Subject<number>();
    const iterator = toAsyncIterable(source, { capacity: 2, overflow: 'drop-oldest' });
    const first = iterator.next();
    for (const value of [1, 2, 3, 4]) source.next(value);
    source.complete();
    expect(await first).toEqual({ done: false, value: 1 });
    const rest: number[] = [];
    for await (const value of iterator) rest.push(value);
    expect(rest).toEqual([3, 4]);
  });

  it('an error is thrown after the values queued before it', async () => {
    const received: number[] = [];
    const boom = new Error('source');
    const source = new Observable<number>((subscriber) => {
      subscriber.next(1);
      subscriber.next(2);
      subscriber.error(boom);
    });
    await expect(
      (async () => {
        for await (const value of toAsyncIterable(source, { capacity: 4, overflow: 'error' })) {
          received.push(value);
        }
      })(),
    ).rejects.toBe(boom);
    expect(received).toEqual([1, 2]);
  });

  it('break / return() unsubscribes at once', async () => {
    let unsubscribed = false;
    const source = new Subject<number>();
    const guarded = source.pipe(
      finalize(() => {
        unsubscribed = true;
      }),
    );
    const iterator = toAsyncIterable(guarded, { capacity: 4, overflow: 'error' });
    const first = iterator.next();
    source.next(1);
    expect(await first).toEqual({ done: false, value: 1 });
    await iterator.return?.();
    expect(unsubscribed).toBe(true);
    expect(source.observed).toBe(false);
  });

  it('on abort, pending and later next() calls reject with signal.reason and the source is unsubscribed', async () => {
    const controller = new AbortController();
    const source = new Subject<number>();
    const iterator = toAsyncIterable(source, {
      capacity: 4,
      overflow: 'error',
      signal: controller.signal,
    });
    const pending = iterator.next();
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(iterator.next()).rejects.toBe(reason);
    expect(source.observed).toBe(false);
  });

  it('no promise is left pending: concurrent next() calls all settle when the source ends', async () => {
    const source = new Subject<number>();
    const iterator = toAsyncIterable(source, { capacity: 4, overflow: 'error' });
    const calls = [iterator.next(), iterator.next(), iterator.next()];
    source.next(1);
    source.complete();
    expect(await Promise.all(calls)).toEqual([
      { done: false, value: 1 },
      { done: true, value: undefined },
      { done: true, value: undefined },
    ]);
  });

  it('terminal values are never dropped; a gap reaches onOverflow before the next value', async () => {
    const notices: OverflowNotice<string>[] = [];
    const iterator = toAsyncIterable(of('a', 'b', 'A', 'c', 'd'), {
      capacity: 2,
      overflow: 'drop-oldest',
      classify: byLetter,
      onOverflow: (notice) => notices.push(notice),
    });
    const received: string[] = [];
    for await (const value of iterator) {
      received.push(`${value}:${notices.length}`);
    }
    expect(received).toEqual(['A:1', 'd:1']);
    expect(notices).toMatchObject([{ dropped: 3, first: 'a', last: 'c' }]);
  });

  it("'error': the values queued before the overflow are yielded, then next() rejects with QueueOverflowError", async () => {
    const received: string[] = [];
    const loop = (async () => {
      for await (const value of toAsyncIterable(of('a', 'b', 'c'), {
        capacity: 2,
        overflow: 'error',
      })) {
        received.push(value);
      }
    })();
    await expect(loop).rejects.toBeInstanceOf(QueueOverflowError);
    expect(received).toEqual(['a', 'b']);
  });

  it('bad options throw at once', () => {
    expect(() => toAsyncIterable(of(1), { capacity: 0, overflow: 'error' })).toThrow(RangeError);
    expect(() =>
      toAsyncIterable(of(1), { capacity: 1, overflow: 'nope' as unknown as 'error' }),
    ).toThrow(TypeError);
  });
});

// -------------------------------------------------------------------------------------------------
describe('DESIGN.md: EventBus', () => {
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

  it('publish stamps seq (dense from 1), laneSeq (dense from 1 per lane), ts = scheduler.now() and laneId main', () => {
    const scheduler = newScheduler();
    const frames: EventFrame[] = [];
    scheduler.run(() => {
      const bus = new EventBus({ scheduler });
      scheduler.schedule(() => frames.push(bus.publish({ kind: 'a' })), 0);
      scheduler.schedule(() => frames.push(bus.publish({ kind: 'b', laneId: 'l1' })), 3);
      scheduler.schedule(() => frames.push(bus.publish({ kind: 'c', runId: 'r' })), 5);
      scheduler.schedule(() => frames.push(bus.publish({ kind: 'd', laneId: 'l1' })), 8);
    });
    expect(frames.map(({ seq, laneSeq, ts, laneId }) => ({ seq, laneSeq, ts, laneId }))).toEqual([
      { seq: 1, laneSeq: 1, ts: 0, laneId: 'main' },
      { seq: 2, laneSeq: 1, ts: 3, laneId: 'l1' },
      { seq: 3, laneSeq: 2, ts: 5, laneId: 'main' },
      { seq: 4, laneSeq: 2, ts: 8, laneId: 'l1' },
    ]);
    expect(frames[2]).toMatchObject({ kind: 'c', runId: 'r' });
  });

  it('publish is synchronous and returns the frame subscribers receive', () => {
    const bus = new EventBus<{ n: number }>();
    const log = record(bus.select());
    const frame = bus.publish({ kind: 'x', payload: { n: 1 } });
    expect(log.values).toEqual([frame]);
    expect(frame).toMatchObject({ kind: 'x', seq: 1, payload: { n: 1 } });
  });

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

  it('bad events throw InvalidEventError naming the field, and change nothing', () => {
    const bus = new EventBus();
    const log = record(bus.select());
    const fieldOf = (event: unknown): unknown => {
      try {
        bus.publish(event as AgentEvent);
      } catch (error) {
        return error instanceof InvalidEventError ? error.field : error;
      }
      return 'published';
    };
    expect(fieldOf({ kind: '' })).toBe('kind');
    expect(fieldOf({})).toBe('kind');
    expect(fieldOf({ kind: 'x', runId: 7 })).toBe('runId');
    expect(fieldOf({ kind: 'x', agentId: '' })).toBe('agentId');
    expect(fieldOf({ kind: 'x', laneId: 3 })).toBe('laneId');
    expect(fieldOf({ kind: 'x', visibility: 'secret' })).toBe('visibility');
    expect(log.values).toEqual([]);
    expect(bus.metrics()).toMatchObject({ published: 0, rejected: 6 });
    expect(bus.publish({ kind: 'ok' }).seq).toBe(1);
  });

  it('send rejects a bad event with InvalidEventError', async () => {
    const bus = new EventBus();
    await expect(bus.send({ kind: '' })).rejects.toBeInstanceOf(InvalidEventError);
  });

  it('validate: a refused event throws InvalidEventError', () => {
    const bus = new EventBus({
      validate: (event) => {
        if (event.kind === 'bad') throw new Error('no');
      },
    });
    expect(() => bus.publish({ kind: 'bad' })).toThrow(InvalidEventError);
    expect(bus.publish({ kind: 'good' }).seq).toBe(1);
  });

  it('close(): subscribers drain what they hold, then complete; publish then throws BusClosedError', async () => {
    const bus = new EventBus();
    const flushOn = new Subject<void>();
    const queued = record(bus.select({}, { queue: { capacity: 8, overflow: 'error', flushOn } }));
    const direct = record(bus.select());
    bus.publish({ kind: 'a' });
    bus.publish({ kind: 'b' });
    bus.close();
    expect(direct.end).toEqual(['complete']);
    expect(queued.values).toEqual([]);
    expect(queued.end).toEqual([]);
    flushOn.next();
    expect(kinds(queued.values)).toEqual(['a', 'b']);
    expect(queued.end).toEqual(['complete']);
    expect(() => bus.publish({ kind: 'c' })).toThrow(BusClosedError);
    await expect(bus.send({ kind: 'c' })).rejects.toBeInstanceOf(BusClosedError);
  });

  it('select(filter): runId, agentId, laneId, kinds and where must all match', () => {
    const bus = new EventBus();
    const byRun = record(bus.select({ runId: 'r1' }));
    const byAgent = record(bus.select({ agentId: 'g1' }));
    const byLane = record(bus.select({ laneId: 'main' }));
    const byKinds = record(bus.select({ kinds: new Set(['k2']) }));
    const byKindList = record(bus.select({ kinds: ['k1', 'k3'] }));
    const byWhere = record(bus.select({ runId: 'r1', where: (frame) => frame.kind !== 'k1' }));
    bus.publish({ kind: 'k1', runId: 'r1', agentId: 'g1' });
    bus.publish({ kind: 'k2', runId: 'r2', laneId: 'side' });
    bus.publish({ kind: 'k3', runId: 'r1', agentId: 'g2', laneId: 'side' });
    expect(seqs(byRun.values)).toEqual([1, 3]);
    expect(seqs(byAgent.values)).toEqual([1]);
    expect(seqs(byLane.values)).toEqual([1]);
    expect(seqs(byKinds.values)).toEqual([2]);
    expect(seqs(byKindList.values)).toEqual([1, 3]);
    expect(seqs(byWhere.values)).toEqual([3]);
  });

  it('visibility: a subscriber at level V sees levels <= V; a filter without visibility means public', () => {
    const bus = new EventBus();
    const seen = (['public', 'internal', 'private', undefined] as const).map((visibility) =>
      record(bus.select(visibility === undefined ? {} : { visibility })),
    );
    bus.publish({ kind: 'none' });
    bus.publish({ kind: 'public', visibility: 'public' });
    bus.publish({ kind: 'internal', visibility: 'internal' });
    bus.publish({ kind: 'private', visibility: 'private' });
    expect(seen.map((log) => kinds(log.values))).toEqual([
      ['none', 'public'],
      ['none', 'public', 'internal'],
      ['none', 'public', 'internal', 'private'],
      ['none', 'public'],
    ]);
  });

  it('a throwing where errors that subscriber only, with that error', () => {
    const bus = new EventBus();
    const boom = new Error('where');
    let caught: unknown;
    bus
      .select({
        where: () => {
          throw boom;
        },
      })
      .subscribe({ error: (error) => (caught = error) });
    const other = record(bus.select());
    bus.publish({ kind: 'x' });
    expect(caught).toBe(boom);
    expect(kinds(other.values)).toEqual(['x']);
  });

  it('select(filter, { after }) replays seq > after, then goes live with no gap and no duplicate', () => {
    const bus = new EventBus();
    for (const kind of ['a', 'b', 'c']) bus.publish({ kind });
    const log = record(
      bus.select({}, { after: 1 }).pipe(
        finalize(() => undefined),
        (frames$) =>
          new Observable<EventFrame>((subscriber) =>
            frames$.subscribe({
              next: (frame) => {
                subscriber.next(frame);
                // A publish from inside a subscriber, in the middle of the replay.
                if (frame.kind === 'b') bus.publish({ kind: 'd' });
              },
              error: (error) => subscriber.error(error),
              complete: () => subscriber.complete(),
            }),
          ),
      ),
    );
    bus.publish({ kind: 'e' });
    expect(seqs(log.values)).toEqual([2, 3, 4, 5]);
  });

  it('select with after, through an archive that answers asynchronously: no gap, no duplicate', async () => {
    const archived: EventFrame[] = [];
    // Answers 5 ms later, with what it held when asked.
    const slowArchive: EventArchive = {
      append: (frame) => {
        archived.push(frame);
      },
      replay: (_filter, after) =>
        new Observable<EventFrame>((subscriber) => {
          const held = archived.filter((frame) => frame.seq > after);
          const timer = setTimeout(() => {
            for (const frame of held) subscriber.next(frame);
            subscriber.complete();
          }, 5);
          return () => clearTimeout(timer);
        }),
    };
    const bus = new EventBus({ history: 2, archive: slowArchive });
    for (let index = 1; index <= 5; index++) bus.publish({ kind: `k${index}` });
    const log = record(bus.select({}, { after: 1 }));
    bus.publish({ kind: 'k6' });
    expect(log.values).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    bus.publish({ kind: 'k7' });
    expect(seqs(log.values)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(log.values.some((frame) => frame.overflow !== undefined)).toBe(false);
  });

  it('a cursor older than the history, with no archive, gives an overflow notice for the missing range on the first frame', () => {
    const bus = new EventBus({ history: 2 });
    for (let index = 1; index <= 5; index++) bus.publish({ kind: `k${index}` });
    const log = record(bus.select({}, { after: 0 }));
    expect(seqs(log.values)).toEqual([4, 5]);
    expect(log.values[0]?.overflow).toMatchObject({ dropped: 3, fromSeq: 1, toSeq: 3 });
    expect(log.values[1]?.overflow).toBeUndefined();
  });

  // Deliberate departure (docs/bus.md, "Notices and repair"): DESIGN.md says terminalPreserved is
  // "always true: terminals are never dropped", which holds for every queue. A cursor older than
  // history and archive is another kind of gap: the frames are gone, a terminal frame may have
  // been among them, and the bus cannot tell, so that notice says false rather than promise it.
  it.todo(
    'departure, kept on purpose: a notice for frames gone from history says terminalPreserved: false',
  );

  it('with nothing held to replay, the notice for the missing range goes on the first live frame', () => {
    const bus = new EventBus({ history: 0 });
    for (const kind of ['a', 'b', 'c']) bus.publish({ kind });
    const log = record(bus.select({}, { after: 0 }));
    expect(log.values).toEqual([]);
    bus.publish({ kind: 'd' });
    expect(seqs(log.values)).toEqual([4]);
    expect(log.values[0]?.overflow).toMatchObject({ dropped: 3, fromSeq: 1, toSeq: 3 });
  });

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

  it('replay(filter, after) is finite: what history holds now, then complete', () => {
    const bus = new EventBus();
    for (const kind of ['a', 'b', 'c']) bus.publish({ kind, runId: kind === 'b' ? 'r2' : 'r1' });
    const all = record(bus.replay());
    const some = record(bus.replay({ runId: 'r1' }, 1));
    bus.publish({ kind: 'd', runId: 'r1' });
    expect(kinds(all.values)).toEqual(['a', 'b', 'c']);
    expect(all.end).toEqual(['complete']);
    expect(kinds(some.values)).toEqual(['c']);
    expect(some.end).toEqual(['complete']);
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

  it("a subscriber queue's gap is reported on the frame's overflow field, with fromSeq / toSeq, and to onOverflow", () => {
    const bus = new EventBus();
    const flushOn = new Subject<void>();
    const notices: OverflowNotice<EventFrame>[] = [];
    const log = record(
      bus.select(
        {},
        {
          queue: {
            capacity: 2,
            overflow: 'drop-oldest',
            flushOn,
            onOverflow: (notice) => notices.push(notice),
          },
        },
      ),
    );
    for (const kind of ['a', 'b', 'c', 'd']) bus.publish({ kind });
    flushOn.next();
    expect(kinds(log.values)).toEqual(['d']);
    const overflow = log.values[0]?.overflow;
    expect(overflow).toMatchObject({
      policy: 'drop-oldest',
      dropped: 3,
      merged: 0,
      fromSeq: 1,
      toSeq: 3,
      terminalPreserved: true,
    });
    expect(overflow?.first?.seq).toBe(1);
    expect(overflow?.last?.seq).toBe(3);
    expect(notices).toEqual([overflow]);
    bus.publish({ kind: 'e' });
    flushOn.next();
    expect(log.values[1]?.overflow).toBeUndefined();
  });

  it('a subscriber queue takes boundedQueue options: demand grants frames', () => {
    const bus = new EventBus();
    const demand = new Subject<number>();
    const log = record(bus.select({}, { queue: { capacity: 8, overflow: 'error', demand } }));
    for (const kind of ['a', 'b', 'c']) bus.publish({ kind });
    expect(log.values).toEqual([]);
    demand.next(2);
    expect(kinds(log.values)).toEqual(['a', 'b']);
  });

  it("a subscriber queue with 'error' errors with QueueOverflowError after delivering what it holds", () => {
    const bus = new EventBus();
    const flushOn = new Subject<void>();
    let caught: unknown;
    const received: string[] = [];
    bus.select({}, { queue: { capacity: 2, overflow: 'error', flushOn } }).subscribe({
      next: (frame) => received.push(frame.kind),
      error: (error) => (caught = error),
    });
    for (const kind of ['a', 'b', 'c']) bus.publish({ kind });
    expect(caught).toBeUndefined();
    flushOn.next();
    expect(received).toEqual(['a']);
    expect(caught).toBeInstanceOf(QueueOverflowError);
  });

  it("'backpressure': publish throws BackpressureError while that subscriber is full; send waits for room", async () => {
    const bus = new EventBus();
    const flushOn = new Subject<void>();
    const log = record(
      bus.select({}, { queue: { capacity: 2, overflow: 'backpressure', flushOn } }),
    );
    bus.publish({ kind: 'a' });
    expect(() => bus.publish({ kind: 'b' })).toThrow(BackpressureError);
    expect(bus.metrics().published).toBe(1);
    // A terminal frame always has room.
    expect(bus.publish({ kind: 'run.finished' }).seq).toBe(2);
    const sent = bus.send({ kind: 'b' });
    expect(await stateOf(sent)).toBe('pending');
    flushOn.next();
    expect(kinds(log.values)).toEqual(['a', 'run.finished']);
    const frame = await sent;
    expect(frame).toMatchObject({ kind: 'b', seq: 3 });
    flushOn.next();
    expect(kinds(log.values)).toEqual(['a', 'run.finished', 'b']);
  });

  it("'backpressure' holds back only the events its subscriber matches", () => {
    const bus = new EventBus();
    bus
      .select({ runId: 'r1' }, { queue: { capacity: 2, overflow: 'backpressure', flushOn: NEVER } })
      .subscribe();
    bus.publish({ kind: 'a', runId: 'r1' });
    expect(() => bus.publish({ kind: 'b', runId: 'r1' })).toThrow(BackpressureError);
    expect(bus.publish({ kind: 'b', runId: 'r2' }).seq).toBe(2);
    expect(bus.publish({ kind: 'c' }).seq).toBe(3);
  });

  it('send resolves with the frame at once when nothing holds it back', async () => {
    const bus = new EventBus();
    const frame = await bus.send({ kind: 'a' });
    expect(frame).toMatchObject({ kind: 'a', seq: 1, laneSeq: 1, laneId: 'main' });
  });

  it('a pending send rejects with BusClosedError when the bus closes', async () => {
    const bus = new EventBus();
    bus
      .select({}, { queue: { capacity: 2, overflow: 'backpressure', flushOn: NEVER } })
      .subscribe();
    bus.publish({ kind: 'a' });
    const sent = bus.send({ kind: 'b' });
    bus.close();
    await expect(sent).rejects.toBeInstanceOf(BusClosedError);
  });

  it('iterate(filter, { after }) pulls frames with for await; break unsubscribes', async () => {
    const bus = new EventBus();
    bus.publish({ kind: 'a', runId: 'r1' });
    bus.publish({ kind: 'b', runId: 'r2' });
    const received: string[] = [];
    const loop = (async () => {
      for await (const frame of bus.iterate({ runId: 'r1' }, { after: 0 })) {
        received.push(frame.kind);
        if (frame.kind === 'run.finished') break;
      }
    })();
    await microtasks();
    bus.publish({ kind: 'c', runId: 'r1' });
    bus.publish({ kind: 'run.finished', runId: 'r1' });
    await loop;
    expect(received).toEqual(['a', 'c', 'run.finished']);
    expect(bus.metrics().subscribers).toEqual([]);
  });

  it("iterate with a 'backpressure' queue: the loop's pace holds publishers back; send waits for the loop", async () => {
    const bus = new EventBus();
    const iterator = bus.iterate({}, { queue: { capacity: 2, overflow: 'backpressure' } });
    const first = iterator.next();
    bus.publish({ kind: 'a' });
    bus.publish({ kind: 'b' });
    expect(() => bus.publish({ kind: 'c' })).toThrow(BackpressureError);
    expect((await first).value?.kind).toBe('a');
    const sent = bus.send({ kind: 'c' });
    expect(await stateOf(sent)).toBe('pending');
    expect((await iterator.next()).value?.kind).toBe('b');
    expect((await iterator.next()).value?.kind).toBe('c');
    expect((await sent).seq).toBe(3);
    await iterator.return?.();
    expect(bus.metrics().subscribers).toEqual([]);
  });

  it('metrics(): published, rejected, byKind, historySize and per subscriber counters', () => {
    const bus = new EventBus({ history: 2 });
    const flushOn = new Subject<void>();
    bus
      .select({ runId: 'r1' }, { queue: { capacity: 2, overflow: 'drop-oldest', flushOn } })
      .subscribe();
    for (const kind of ['a', 'a', 'b', 'c']) bus.publish({ kind, runId: 'r1' });
    expect(() => bus.publish({ kind: '' })).toThrow(InvalidEventError);
    const metrics = bus.metrics();
    expect(metrics).toMatchObject({
      published: 4,
      rejected: 1,
      byKind: { a: 2, b: 1, c: 1 },
      historySize: 2,
    });
    expect(metrics.subscribers).toHaveLength(1);
    expect(metrics.subscribers[0]).toMatchObject({
      filter: { runId: 'r1' },
      depth: 1,
      highWater: 1,
      delivered: 0,
      dropped: 3,
      merged: 0,
      lag: 4,
    });
    expect(typeof metrics.subscribers[0]?.id).toBe('number');
    flushOn.next();
    expect(bus.metrics().subscribers[0]).toMatchObject({ depth: 0, delivered: 1, lag: 0 });
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

  it('coalesce on the bus: progress frames merge, the next frame says how many and their seq range', () => {
    const bus = new EventBus();
    const flushOn = new Subject<void>();
    const log = record(
      bus.select(
        {},
        {
          queue: {
            capacity: 2,
            overflow: coalesce<EventFrame>((acc, next) => ({
              ...acc,
              payload: `${acc.payload}${next.payload}`,
            })),
            flushOn,
          },
        },
      ),
    );
    for (const payload of ['a', 'b', 'c']) bus.publish({ kind: 'model.delta', payload });
    flushOn.next();
    expect(log.values.map((frame) => frame.payload)).toEqual(['abc']);
    const notice = log.values[0]?.overflow;
    // Nothing was lost, yet the notice has the range of the frames folded ("on the bus, always").
    expect(notice).toMatchObject({
      policy: 'coalesce',
      dropped: 0,
      merged: 2,
      fromSeq: 1,
      toSeq: 3,
    });
    // The repair cursor fromSeq - 1 gives back the frames one by one.
    const replayed: number[] = [];
    bus.replay({}, (notice?.fromSeq ?? 0) - 1).subscribe((frame) => replayed.push(frame.seq));
    expect(replayed).toEqual([1, 2, 3]);
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
describe('DESIGN.md: errors are part of the API', () => {
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

  it('drainWith: a throwing onOverflow errors the stream with what it threw', () => {
    const boom = new Error('onOverflow');
    const gate = new Subject<string>();
    let caught: unknown;
    of('a', 'b', 'c')
      .pipe(
        drainWith((value) => (value === 'a' ? gate : of(value)), {
          capacity: 1,
          overflow: 'drop-oldest',
          onOverflow: () => {
            throw boom;
          },
        }),
      )
      .subscribe({ error: (error) => (caught = error) });
    gate.complete();
    expect(caught).toBe(boom);
  });

  it('drainWith: a throwing classifier errors the stream with that error, after the accepted values', () => {
    const boom = new Error('classify');
    const handled: string[] = [];
    let caught: unknown;
    of('a', 'b', 'x')
      .pipe(
        drainWith(
          (value) => {
            handled.push(value);
            return of(value);
          },
          {
            capacity: 4,
            overflow: 'error',
            classify: (value) => {
              if (value === 'x') throw boom;
              return 'normal';
            },
          },
        ),
      )
      .subscribe({ error: (error) => (caught = error) });
    expect(handled).toEqual(['a', 'b']);
    expect(caught).toBe(boom);
  });

  it('toAsyncIterable: a throwing onOverflow rejects next() with what it threw', async () => {
    const boom = new Error('onOverflow');
    const iterator = toAsyncIterable(of('a', 'b', 'c'), {
      capacity: 1,
      overflow: 'drop-oldest',
      onOverflow: () => {
        throw boom;
      },
    });
    await expect(iterator.next()).rejects.toBe(boom);
  });

  it('toAsyncIterable: a throwing classifier errors after the values queued before it', async () => {
    const boom = new Error('classify');
    const received: string[] = [];
    const iterator = toAsyncIterable(of('a', 'x', 'b'), {
      capacity: 4,
      overflow: 'error',
      classify: (value) => {
        if (value === 'x') throw boom;
        return 'normal';
      },
    });
    await expect(
      (async () => {
        for await (const value of iterator) received.push(value);
      })(),
    ).rejects.toBe(boom);
    expect(received).toEqual(['a']);
  });

  it('mergeLanes: a throwing lane onOverflow or classifier errors the stream with what it threw', () => {
    const boom = new Error('onOverflow');
    let caught: unknown;
    mergeLanes(
      { a: of('a', 'b', 'c') },
      {
        lane: {
          capacity: 1,
          overflow: 'drop-oldest',
          onOverflow: () => {
            throw boom;
          },
        },
        scheduler: asapScheduler,
      },
    ).subscribe({ error: (error) => (caught = error) });
    return microtasks().then(() => {
      expect(caught).toBe(boom);
      const classifyBoom = new Error('classify');
      let classifyCaught: unknown;
      mergeLanes(
        { a: of('a') },
        {
          lane: {
            capacity: 1,
            overflow: 'drop-oldest',
            classify: () => {
              throw classifyBoom;
            },
          },
        },
      ).subscribe({ error: (error) => (classifyCaught = error) });
      return microtasks().then(() => expect(classifyCaught).toBe(classifyBoom));
    });
  });

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

  it('summarizeProgress: a throwing key errors the stream with that error, after the pending summaries', () => {
    const boom = new Error('key');
    const received: string[] = [];
    let caught: unknown;
    of('p1', 'x1')
      .pipe(
        summarizeProgress({
          classify: byLetter,
          merge: concat,
          window: 100,
          key: (value) => {
            if (value === 'x1') throw boom;
            return value.slice(1);
          },
        }),
      )
      .subscribe({ next: (value) => received.push(value), error: (error) => (caught = error) });
    expect(received).toEqual(['p1']);
    expect(caught).toBe(boom);
  });

  it("mergeLanes 'timestamp': a lane's error comes after every value already handed over, from any lane", () => {
    const boom = new Error('lane a failed');
    const lanes = { a: new Subject<number>(), b: new Subject<number>(), c: new Subject<number>() };
    const values: Array<Laned<number>> = [];
    let caught: unknown;
    mergeLanes(lanes, { order: 'timestamp', timestamp: Number }).subscribe({
      next: (value) => values.push(value),
      error: (error) => (caught = error),
    });
    lanes.a.next(1);
    lanes.b.next(5);
    lanes.a.error(boom);
    expect(values).toEqual([
      { lane: 'a', laneSeq: 1, value: 1 },
      { lane: 'b', laneSeq: 1, value: 5 },
    ]);
    expect(caught).toBe(boom);
    expect(lanes.b.observed || lanes.c.observed).toBe(false);
  });

  it("a bus subscriber's 'error' policy ends it with a QueueOverflowError that has the seq range", () => {
    const bus = new EventBus();
    let caught: unknown;
    const flushOn = new Subject<void>();
    bus
      .select({}, { queue: { capacity: 1, overflow: 'error', flushOn } })
      .subscribe({ error: (error) => (caught = error) });
    bus.publish({ kind: 'k' });
    bus.publish({ kind: 'k' });
    // The error comes after what the queue holds.
    expect(caught).toBeUndefined();
    flushOn.next();
    expect(caught).toBeInstanceOf(QueueOverflowError);
    expect((caught as QueueOverflowError).notice).toMatchObject({
      policy: 'error',
      fromSeq: 2,
      toSeq: 2,
    });
  });
});

// -------------------------------------------------------------------------------------------------
describe('DESIGN.md: layers', () => {
  const srcDir = new URL('../../src/', import.meta.url);
  /** The src folders each file of `layer` imports (relative imports only), and whether it imports rxjs. */
  const importsOf = (layer: string): { layers: Set<string>; rxjs: boolean } => {
    const layers = new Set<string>();
    let rxjs = false;
    for (const name of readdirSync(new URL(`${layer}/`, srcDir))) {
      if (!name.endsWith('.ts')) continue;
      const text = readFileSync(new URL(`${layer}/${name}`, srcDir), 'utf8');
      for (const match of text.matchAll(/from '([^']+)'/g)) {
        const target = match[1] as string;
        if (target === 'rxjs' || target.startsWith('rxjs/')) rxjs = true;
        else if (target.startsWith('../')) layers.add(target.split('/')[1] as string);
        else if (target.startsWith('./')) layers.add(layer);
      }
    }
    return { layers, rxjs };
  };

  it('src/core knows nothing of RxJS and imports no other layer', () => {
    const { layers, rxjs } = importsOf('core');
    expect(rxjs).toBe(false);
    expect([...layers]).toEqual(['core']);
  });

  it('operators -> core; interop -> core (plus the shared src/internal helpers)', () => {
    for (const layer of ['operators', 'interop']) {
      const allowed = new Set([layer, 'core', 'internal']);
      const { layers } = importsOf(layer);
      expect([...layers].filter((target) => !allowed.has(target))).toEqual([]);
      expect(layers.has('core')).toBe(true);
    }
  });

  it('bus -> operators, core (never the other way round)', () => {
    const { layers } = importsOf('bus');
    expect(layers.has('operators')).toBe(true);
    expect(layers.has('core')).toBe(true);
    expect(importsOf('operators').layers.has('bus')).toBe(false);
    expect(importsOf('interop').layers.has('bus')).toBe(false);
  });

  // Deliberate departure: issue 5 asks `iterate` to share the pull bridge with toAsyncIterable
  // ("share the code, do not write it twice"), so the bus imports it from interop. interop does
  // not import the bus (checked above), so the layers stay acyclic.
  it.todo(
    'departure, kept on purpose: src/bus imports toAsyncIterable from src/interop for iterate()',
  );
});

import fc from 'fast-check';
import {
  asapScheduler,
  asyncScheduler,
  concat,
  defer,
  EMPTY,
  finalize,
  interval,
  map,
  NEVER,
  Observable,
  of,
  queueScheduler,
  type SchedulerLike,
  Subject,
  scheduled,
  take,
  throwError,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import {
  type Classifier,
  coalesce,
  type EventClass,
  type OverflowNotice,
  type OverflowPolicy,
  QueueOverflowError,
} from '../../src/core/types.js';
import { type ToAsyncIterableConfig, toAsyncIterable } from '../../src/interop/toAsyncIterable.js';
import { ReferenceQueue } from '../core/referenceQueue.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  // Unhandled rejections are reported after a macrotask: give them one before asserting.
  await new Promise((resolve) => setTimeout(resolve, 20));
  process.off('unhandledRejection', onUnhandled);
  expect(unhandled).toEqual([]);
});

/** Lets every pending microtask (promise reaction) run. */
const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Collects what a for await loop sees: the values, then the error it threw (if any). */
async function collect<T>(iterable: AsyncIterable<T>): Promise<{ values: T[]; error?: unknown }> {
  const values: T[] = [];
  try {
    for await (const value of iterable) values.push(value);
  } catch (error) {
    return { values, error };
  }
  return { values };
}

/** Tracks whether a promise settled, without ever leaving a rejection unhandled. */
function track<T>(promise: Promise<T>): {
  settled: () => boolean;
  outcome: () => { value?: T; error?: unknown } | undefined;
} {
  let outcome: { value?: T; error?: unknown } | undefined;
  promise.then(
    (value) => {
      outcome = { value };
    },
    (error: unknown) => {
      outcome = { error };
    },
  );
  return { settled: () => outcome !== undefined, outcome: () => outcome };
}

/** A source that counts its subscriptions and unsubscriptions. */
function counted<T>(source: Observable<T>): {
  source$: Observable<T>;
  subscribed: () => number;
  finalized: () => number;
} {
  let subscribed = 0;
  let finalized = 0;
  const source$ = defer(() => {
    subscribed++;
    return source;
  }).pipe(
    finalize(() => {
      finalized++;
    }),
  );
  return { source$, subscribed: () => subscribed, finalized: () => finalized };
}

const big = { capacity: 1_000_000, overflow: 'error' } as const;
const classifyLetter: Classifier<string> = (value) => {
  if (value >= 'A' && value <= 'Z') return 'terminal';
  if (value.startsWith('p')) return 'progress';
  return 'normal';
};

describe('toAsyncIterable', () => {
  describe('options', () => {
    it('rejects bad queue options at once, naming the option and the value', () => {
      expect(() => toAsyncIterable(of(1), { capacity: 0, overflow: 'error' })).toThrow(
        /toAsyncIterable: capacity must be a positive integer, got 0/,
      );
      expect(() =>
        toAsyncIterable(of(1), { capacity: 1, overflow: 'nope' as OverflowPolicy<number> }),
      ).toThrow(TypeError);
      expect(() =>
        toAsyncIterable(of(1), { capacity: 2, overflow: 'error', terminalReserve: 2 }),
      ).toThrow(/terminalReserve/);
      expect(() =>
        toAsyncIterable(of(1), null as unknown as ToAsyncIterableConfig<number>),
      ).toThrow(/toAsyncIterable: options must be an object/);
    });

    it('rejects a signal that is not an AbortSignal, and a missing source', () => {
      expect(() =>
        toAsyncIterable(of(1), {
          ...big,
          signal: { aborted: false } as unknown as AbortSignal,
        }),
      ).toThrow(/toAsyncIterable: signal must be an AbortSignal, got \{"aborted":false\}/);
      expect(() => toAsyncIterable(null as unknown as Observable<number>, big)).toThrow(
        /toAsyncIterable: source must be an ObservableInput, got null/,
      );
    });

    it('is typed as an AsyncIterableIterator of the source values', () => {
      const iterator = toAsyncIterable(of('a'), big);
      expectTypeOf(iterator).toEqualTypeOf<AsyncIterableIterator<string>>();
      expectTypeOf<ToAsyncIterableConfig<number>['signal']>().toEqualTypeOf<
        AbortSignal | undefined
      >();
    });

    it('reports a source that is not an ObservableInput through the first next()', async () => {
      const iterator = toAsyncIterable(42 as unknown as Observable<number>, big);
      await expect(iterator.next()).rejects.toThrow(TypeError);
      await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    });
  });

  describe('order and ends', () => {
    it('subscribes lazily, on the first next()', async () => {
      const { source$, subscribed } = counted(of(1, 2));
      const iterator = toAsyncIterable(source$, big);
      await flush();
      expect(subscribed()).toBe(0);
      await expect(iterator.next()).resolves.toEqual({ done: false, value: 1 });
      expect(subscribed()).toBe(1);
    });

    it('yields a synchronous source in order, then ends', async () => {
      expect(await collect(toAsyncIterable(of(1, 2, 3), big))).toEqual({ values: [1, 2, 3] });
    });

    it('yields an asynchronous source in order', async () => {
      const source$ = interval(1).pipe(take(5));
      expect(await collect(toAsyncIterable(source$, big))).toEqual({ values: [0, 1, 2, 3, 4] });
    });

    it('accepts any ObservableInput: an array, a promise, an async iterable', async () => {
      async function* letters() {
        yield 'x';
        yield 'y';
      }
      expect((await collect(toAsyncIterable(['a', 'b'], big))).values).toEqual(['a', 'b']);
      expect((await collect(toAsyncIterable(Promise.resolve(7), big))).values).toEqual([7]);
      expect((await collect(toAsyncIterable(letters(), big))).values).toEqual(['x', 'y']);
    });

    it('ends at once for a source that completes synchronously with nothing', async () => {
      const iterator = toAsyncIterable(EMPTY, big);
      await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
      await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    });

    it('throws the error of a source that errors synchronously, after its values', async () => {
      const boom = new Error('boom');
      const source$ = concat(
        of(1, 2),
        throwError(() => boom),
      );
      expect(await collect(toAsyncIterable(source$, big))).toEqual({ values: [1, 2], error: boom });
      const alone = toAsyncIterable(
        throwError(() => boom),
        big,
      );
      await expect(alone.next()).rejects.toBe(boom);
      await expect(alone.next()).resolves.toEqual({ done: true, value: undefined });
    });

    it('throws an asynchronous error only after the values queued before it', async () => {
      const subject = new Subject<number>();
      const iterator = toAsyncIterable(subject, big);
      const first = iterator.next();
      subject.next(1);
      subject.next(2);
      subject.next(3);
      subject.error('late');
      await expect(first).resolves.toEqual({ done: false, value: 1 });
      await expect(iterator.next()).resolves.toEqual({ done: false, value: 2 });
      await expect(iterator.next()).resolves.toEqual({ done: false, value: 3 });
      await expect(iterator.next()).rejects.toBe('late');
      await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    });
  });

  describe('concurrent next()', () => {
    it('answers calls made without awaiting in call order', async () => {
      const subject = new Subject<string>();
      const iterator = toAsyncIterable(subject, big);
      const calls = [iterator.next(), iterator.next(), iterator.next()];
      subject.next('a');
      subject.next('b');
      subject.next('c');
      expect(await Promise.all(calls)).toEqual([
        { done: false, value: 'a' },
        { done: false, value: 'b' },
        { done: false, value: 'c' },
      ]);
    });

    it('answers pending calls with what is queued, then done on complete', async () => {
      const subject = new Subject<string>();
      const iterator = toAsyncIterable(subject, big);
      const calls = [iterator.next(), iterator.next(), iterator.next()];
      subject.next('a');
      subject.complete();
      expect(await Promise.all(calls)).toEqual([
        { done: false, value: 'a' },
        { done: true, value: undefined },
        { done: true, value: undefined },
      ]);
    });

    it('rejects only the oldest pending call with a source error; the later ones see done', async () => {
      const subject = new Subject<string>();
      const iterator = toAsyncIterable(subject, big);
      const [first, second, third] = [iterator.next(), iterator.next(), iterator.next()].map(track);
      subject.error('boom');
      await flush();
      expect(first?.outcome()).toEqual({ error: 'boom' });
      expect(second?.outcome()).toEqual({ value: { done: true, value: undefined } });
      expect(third?.outcome()).toEqual({ value: { done: true, value: undefined } });
    });
  });

  describe('return() and throw()', () => {
    it('a break unsubscribes from the source at once', async () => {
      const { source$, finalized } = counted(interval(1));
      const seen: number[] = [];
      for await (const value of toAsyncIterable(source$, big)) {
        seen.push(value);
        if (value === 2) break;
      }
      expect(seen).toEqual([0, 1, 2]);
      expect(finalized()).toBe(1);
    });

    it('return() settles every pending next() with done and stops the source', async () => {
      const subject = new Subject<number>();
      const iterator = toAsyncIterable(subject, big);
      const pending = [iterator.next(), iterator.next()].map(track);
      expect(subject.observed).toBe(true);
      await expect(iterator.return?.('bye')).resolves.toEqual({ done: true, value: 'bye' });
      expect(subject.observed).toBe(false);
      await flush();
      for (const call of pending) {
        expect(call.outcome()).toEqual({ value: { done: true, value: undefined } });
      }
      subject.next(1);
      await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    });

    it('throw() ends the iteration like return(), without rethrowing', async () => {
      const subject = new Subject<number>();
      const iterator = toAsyncIterable(subject, big);
      const pending = track(iterator.next());
      subject.next(1);
      const waiting = track(iterator.next());
      await expect(iterator.throw?.(new Error('consumer failed'))).resolves.toEqual({
        done: true,
        value: undefined,
      });
      expect(subject.observed).toBe(false);
      await flush();
      expect(pending.outcome()).toEqual({ value: { done: false, value: 1 } });
      expect(waiting.outcome()).toEqual({ value: { done: true, value: undefined } });
    });

    it('return() before any next() never subscribes', async () => {
      const { source$, subscribed } = counted(of(1));
      const iterator = toAsyncIterable(source$, big);
      await iterator.return?.();
      await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
      expect(subscribed()).toBe(0);
    });

    it('return() discards the values still queued', async () => {
      const subject = new Subject<number>();
      const iterator = toAsyncIterable(subject, big);
      await Promise.all([iterator.next(), subject.next(1)]);
      subject.next(2);
      subject.next(3);
      await iterator.return?.();
      await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    });
  });

  describe('abort', () => {
    it('rejects pending and later next() with the reason and unsubscribes', async () => {
      const controller = new AbortController();
      const { source$, finalized } = counted(NEVER as Observable<number>);
      const iterator = toAsyncIterable(source$, { ...big, signal: controller.signal });
      const pending = [iterator.next(), iterator.next()].map(track);
      const reason = new Error('stop');
      controller.abort(reason);
      expect(finalized()).toBe(1);
      await flush();
      for (const call of pending) expect(call.outcome()).toEqual({ error: reason });
      await expect(iterator.next()).rejects.toBe(reason);
      await expect(iterator.next()).rejects.toBe(reason);
    });

    it('discards queued values on abort', async () => {
      const controller = new AbortController();
      const subject = new Subject<number>();
      const iterator = toAsyncIterable(subject, { ...big, signal: controller.signal });
      const first = iterator.next();
      subject.next(1);
      subject.next(2);
      await expect(first).resolves.toEqual({ done: false, value: 1 });
      controller.abort('enough');
      expect(subject.observed).toBe(false);
      await expect(iterator.next()).rejects.toBe('enough');
    });

    it('ends a for await loop with the reason', async () => {
      const controller = new AbortController();
      const seen: number[] = [];
      const run = async () => {
        for await (const value of toAsyncIterable(interval(1), {
          ...big,
          signal: controller.signal,
        })) {
          seen.push(value);
          if (value === 3) controller.abort();
        }
      };
      const error = await run().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect((error as Error).name).toBe('AbortError');
      expect(seen).toEqual([0, 1, 2, 3]);
    });

    it('an already aborted signal rejects the first next() without subscribing', async () => {
      const { source$, subscribed } = counted(of(1));
      const iterator = toAsyncIterable(source$, { ...big, signal: AbortSignal.abort('early') });
      await expect(iterator.next()).rejects.toBe('early');
      await expect(iterator.next()).rejects.toBe('early');
      expect(subscribed()).toBe(0);
    });

    it('an abort after the iteration ended changes nothing, and the listener is removed', async () => {
      const controller = new AbortController();
      let listeners = 0;
      const signal = controller.signal;
      const add = signal.addEventListener.bind(signal);
      const remove = signal.removeEventListener.bind(signal);
      signal.addEventListener = ((...args: Parameters<typeof add>) => {
        listeners++;
        add(...args);
      }) as typeof add;
      signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
        listeners--;
        remove(...args);
      }) as typeof remove;
      const iterator = toAsyncIterable(of(1), { ...big, signal });
      expect(await collect(iterator)).toEqual({ values: [1] });
      expect(listeners).toBe(0);
      controller.abort('late');
      await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    });

    it('an abort raised by the source while it subscribes stops it', async () => {
      const controller = new AbortController();
      const source$ = new Observable<number>((subscriber) => {
        subscriber.next(1);
        controller.abort('inside');
        subscriber.next(2);
      });
      const iterator = toAsyncIterable(source$, { ...big, signal: controller.signal });
      await expect(iterator.next()).rejects.toBe('inside');
    });
  });

  describe('overflow under a slow loop', () => {
    /**
     * The loop takes the first value, then stalls while the source floods `flood`, then drains.
     * Returns what the loop saw and the notices it was told.
     */
    async function slowLoop(
      options: ToAsyncIterableConfig<string>,
      flood: string[],
    ): Promise<{ values: string[]; notices: OverflowNotice<string>[]; error?: unknown }> {
      const subject = new Subject<string>();
      const notices: OverflowNotice<string>[] = [];
      const iterator = toAsyncIterable(subject, {
        ...options,
        onOverflow: (notice) => notices.push(notice),
      });
      const values: string[] = [];
      const first = iterator.next();
      subject.next('first');
      values.push((await first).value as string);
      for (const value of flood) subject.next(value);
      subject.complete();
      const rest = await collect(iterator);
      values.push(...rest.values);
      return rest.error === undefined
        ? { values, notices }
        : { values, notices, error: rest.error };
    }

    const flood = ['a', 'p1', 'b', 'p2', 'c', 'p3', 'd', 'T'];

    it('drop-oldest keeps the newest values and the terminal', async () => {
      const result = await slowLoop({ capacity: 3, overflow: 'drop-oldest' }, flood);
      expect(result.values).toEqual(['first', 'p3', 'd', 'T']);
      expect(result.notices).toEqual([
        {
          policy: 'drop-oldest',
          dropped: 5,
          merged: 0,
          first: 'a',
          last: 'c',
          terminalPreserved: true,
        },
      ]);
    });

    it('drop-incoming keeps the oldest values, and with a reserve the terminal too', async () => {
      const result = await slowLoop(
        { capacity: 3, overflow: 'drop-incoming', classify: classifyLetter },
        flood,
      );
      expect(result.values).toEqual(['first', 'a', 'p1', 'T']);
      expect(result.notices).toMatchObject([{ dropped: 5, first: 'b', last: 'd' }]);
    });

    it('drop-progress sacrifices progress values first', async () => {
      const result = await slowLoop(
        { capacity: 4, overflow: 'drop-progress', classify: classifyLetter },
        flood,
      );
      expect(result.values).toEqual(['first', 'a', 'b', 'c', 'T']);
      expect(result.notices).toMatchObject([{ policy: 'drop-progress', dropped: 4 }]);
    });

    it("'error' yields what is queued, then throws QueueOverflowError", async () => {
      const result = await slowLoop({ capacity: 2, overflow: 'error' }, flood);
      expect(result.values).toEqual(['first', 'a', 'p1']);
      expect(result.error).toBeInstanceOf(QueueOverflowError);
      expect((result.error as QueueOverflowError).notice.first).toBe('b');
    });

    it('coalesce merges progress values the loop had no time for', async () => {
      const result = await slowLoop(
        {
          capacity: 3,
          overflow: coalesce((acc: string, next: string) => `${acc}+${next}`),
          classify: classifyLetter,
        },
        ['p1', 'p2', 'p3', 'p4', 'T'],
      );
      expect(result.values).toEqual(['first', 'p1', 'p2+p3+p4', 'T']);
      expect(result.notices).toEqual([
        { policy: 'coalesce', dropped: 0, merged: 2, terminalPreserved: true },
      ]);
    });

    it('terminal values pass even a queue full of values', async () => {
      const result = await slowLoop(
        { capacity: 1, overflow: 'drop-incoming', classify: classifyLetter },
        ['a', 'b', 'X', 'c', 'Y'],
      );
      expect(result.values).toEqual(['first', 'a', 'X', 'Y']);
    });

    it('stays within capacity however far the loop falls behind', async () => {
      const subject = new Subject<number>();
      const iterator = toAsyncIterable(subject, { capacity: 100, overflow: 'drop-oldest' });
      const first = iterator.next();
      for (let value = 0; value < 100_000; value++) subject.next(value);
      subject.complete();
      expect((await first).value).toBe(0);
      const { values } = await collect(iterator);
      expect(values).toHaveLength(100);
      expect(values[0]).toBe(99_900);
    });

    it('a throwing onOverflow rejects the next() that was to see the gap, and unsubscribes', async () => {
      const subject = new Subject<string>();
      const iterator = toAsyncIterable(subject, {
        capacity: 1,
        overflow: 'drop-oldest',
        onOverflow: () => {
          throw new Error('observer broke');
        },
      });
      const first = iterator.next();
      subject.next('a');
      await expect(first).resolves.toEqual({ done: false, value: 'a' });
      subject.next('b');
      subject.next('c'); // evicts b: the gap is reported before c
      await expect(iterator.next()).rejects.toThrow('observer broke');
      expect(subject.observed).toBe(false);
      await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
    });

    describe('an onOverflow that calls back into the iterator', () => {
      /** A loop that took 'a' and stalled while b, c, d arrived at a queue of 2 (b evicted). */
      async function stalled(
        onOverflow: (iterator: AsyncIterableIterator<string>, subject: Subject<string>) => void,
      ) {
        const subject = new Subject<string>();
        const controller = new AbortController();
        const holder: { iterator?: AsyncIterableIterator<string> } = {};
        const iterator = toAsyncIterable(subject, {
          capacity: 2,
          overflow: 'drop-oldest',
          signal: controller.signal,
          onOverflow: () => onOverflow(holder.iterator as AsyncIterableIterator<string>, subject),
        });
        holder.iterator = iterator;
        const first = iterator.next();
        subject.next('a');
        await first;
        for (const value of ['b', 'c', 'd']) subject.next(value);
        return { iterator, subject, controller };
      }

      it('a return() ends the iteration; the call in progress sees done', async () => {
        const { iterator, subject } = await stalled((it) => void it.return?.());
        await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
        expect(subject.observed).toBe(false);
      });

      it('a next() gets the value after the one being delivered', async () => {
        const inner: Array<Promise<IteratorResult<string>>> = [];
        const { iterator } = await stalled((it) => {
          inner.push(it.next());
        });
        await expect(iterator.next()).resolves.toEqual({ done: false, value: 'c' });
        await expect(inner[0]).resolves.toEqual({ done: false, value: 'd' });
      });

      it('a value pushed into the source neither evicts the value being delivered nor overtakes it', async () => {
        let pushed = false;
        const { iterator } = await stalled((_it, subject) => {
          if (pushed) return;
          pushed = true;
          subject.next('e'); // the queue holds d only: c was taken before the gap was reported
        });
        const results = [await iterator.next(), await iterator.next(), await iterator.next()];
        expect(results.map((result) => result.value)).toEqual(['c', 'd', 'e']);
      });

      it('a push then a return() throws nothing into the producer; the call sees done', async () => {
        const { iterator, subject } = await stalled((it, source) => {
          source.next('e');
          void it.return?.();
        });
        await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
        expect(subject.observed).toBe(false);
        expect(() => subject.next('f')).not.toThrow();
      });

      it('an abort rejects the call in progress with the reason', async () => {
        let controller: AbortController | undefined;
        const setup = await stalled(() => controller?.abort('stop'));
        controller = setup.controller;
        await expect(setup.iterator.next()).rejects.toBe('stop');
        expect(setup.subject.observed).toBe(false);
      });
    });

    it('a throwing classifier ends the iteration after the values queued before it', async () => {
      const broken = new Error('bad value');
      const source$ = of('a', 'b', 'boom', 'c');
      const iterator = toAsyncIterable(source$, {
        ...big,
        classify: (value: string): EventClass => {
          if (value === 'boom') throw broken;
          return 'normal';
        },
      });
      expect(await collect(iterator)).toEqual({ values: ['a', 'b'], error: broken });
    });
  });

  // The ideas of rxjs-for-await's own eachValueFrom tests, with a queue large enough to be lossless.
  describe('in the manner of rxjs-for-await', () => {
    const lossless = { capacity: 100_000, overflow: 'error' } as const;

    it('yields every value of a synchronous source in order', async () => {
      const source$ = of(1, 2, 3, 4, 5).pipe(map((value) => value * 10));
      expect((await collect(toAsyncIterable(source$, lossless))).values).toEqual([
        10, 20, 30, 40, 50,
      ]);
    });

    it('yields every value of an asynchronous source in order while the loop awaits', async () => {
      const seen: number[] = [];
      for await (const value of toAsyncIterable(interval(0).pipe(take(20)), lossless)) {
        await flush();
        seen.push(value);
      }
      expect(seen).toEqual(Array.from({ length: 20 }, (_, index) => index));
    });

    it('throws the error where it happened in the sequence', async () => {
      const source$ = concat(
        interval(1).pipe(take(3)),
        throwError(() => new Error('weird')),
      );
      const seen: number[] = [];
      let caught: unknown;
      try {
        for await (const value of toAsyncIterable(source$, lossless)) seen.push(value);
      } catch (error) {
        caught = error;
      }
      expect(seen).toEqual([0, 1, 2]);
      expect((caught as Error).message).toBe('weird');
    });

    it('unsubscribes when the loop breaks, and when the loop body throws', async () => {
      const breaking = counted(interval(1));
      for await (const value of toAsyncIterable(breaking.source$, lossless)) {
        if (value === 1) break;
      }
      expect(breaking.finalized()).toBe(1);
      const throwing = counted(interval(1));
      await expect(
        (async () => {
          for await (const value of toAsyncIterable(throwing.source$, lossless)) {
            if (value === 1) throw new Error('body failed');
          }
        })(),
      ).rejects.toThrow('body failed');
      expect(throwing.finalized()).toBe(1);
    });

    it('loses nothing when the producer outruns the loop, given room', async () => {
      const source$ = interval(0).pipe(take(50));
      const seen: number[] = [];
      for await (const value of toAsyncIterable(source$, lossless)) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        seen.push(value);
      }
      expect(seen).toHaveLength(50);
      expect(seen).toEqual([...seen].sort((a, b) => a - b));
    });
  });

  describe('sources on every scheduler', () => {
    it.each<[string, SchedulerLike]>([
      ['queueScheduler', queueScheduler],
      ['asapScheduler', asapScheduler],
      ['asyncScheduler', asyncScheduler],
    ])('yields a source emitting on %s in order, then ends', async (_name, scheduler) => {
      const source$ = scheduled([1, 2, 3, 4], scheduler);
      expect(await collect(toAsyncIterable(source$, big))).toEqual({ values: [1, 2, 3, 4] });
    });

    it('answers waiting calls and queues the rest as a TestScheduler emits', async () => {
      const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
      const source$ = scheduler.createColdObservable('-a-b-c-(d|)');
      const iterator = toAsyncIterable(source$, big);
      const waiting = [iterator.next(), iterator.next()];
      scheduler.flush();
      expect(await Promise.all(waiting)).toEqual([
        { done: false, value: 'a' },
        { done: false, value: 'b' },
      ]);
      expect((await collect(iterator)).values).toEqual(['c', 'd']);
    });
  });

  describe('property: any schedule of arrivals and pulls yields what the reference model yields', () => {
    interface Item {
      id: number;
      cls: EventClass;
      key: number;
      parts: number[];
    }
    type Op =
      | { kind: 'emit'; cls: EventClass; key: number }
      | { kind: 'pull' }
      | { kind: 'tick' }
      | { kind: 'return' }
      | { kind: 'abort' };
    type Outcome = { value: Item } | { done: true } | { error: unknown };

    const policyOf = (name: string): OverflowPolicy<Item> => {
      const merge = (acc: Item, next: Item): Item => ({
        ...acc,
        parts: [...acc.parts, ...next.parts],
      });
      if (name === 'coalesce') return coalesce(merge);
      if (name === 'coalesce-keyed') return coalesce(merge, (item: Item) => item.key);
      return name as OverflowPolicy<Item>;
    };
    const describeError = (error: unknown): unknown =>
      error instanceof QueueOverflowError ? { overflowAt: (error.notice.first as Item).id } : error;

    /** The reference: the array queue of the OverflowQueue tests, plus a list of waiting pulls. */
    function model(
      options: ToAsyncIterableConfig<Item>,
      ops: Op[],
      end: 'complete' | 'error' | 'none',
      extraPulls: number,
    ): { outcomes: Outcome[]; notices: Array<{ notice: OverflowNotice<Item>; at: string }> } {
      const queue = new ReferenceQueue<Item>(options);
      const outcomes: Outcome[] = [];
      const notices: Array<{ notice: OverflowNotice<Item>; at: string }> = [];
      const waiters: number[] = [];
      let ended: { error: unknown } | null | undefined;
      let stopped = false;
      let finished = false;
      let aborted = false;
      let pulls = 0;
      let emits = 0;
      const deliver = (pull: number): void => {
        const notice = queue.takeNotice();
        if (notice !== undefined) notices.push({ notice, at: `${pulls}/${emits}` });
        outcomes[pull] = { value: queue.shift() };
      };
      const finishWith = (pull: number, end: { error: unknown } | null): void => {
        outcomes[pull] = end === null ? { done: true } : { error: describeError(end.error) };
        for (const later of waiters.splice(0)) outcomes[later] = { done: true };
        finished = true;
      };
      const answer = (): void => {
        while (waiters.length > 0 && !finished) {
          if (queue.items.length > 0) deliver(waiters.shift() as number);
          else if (ended !== undefined) finishWith(waiters.shift() as number, ended);
          else return;
        }
      };
      // The source is a Subject: values before the first pull are missed, an end is replayed.
      let sourceEnd: { error: unknown } | null | undefined;
      const pull = (): void => {
        const index = pulls++;
        if (index === 0 && sourceEnd !== undefined) ended = sourceEnd;
        if (finished) outcomes[index] = aborted ? { error: 'aborted' } : { done: true };
        else if (waiters.length === 0 && queue.items.length > 0) deliver(index);
        else if (waiters.length === 0 && ended !== undefined) finishWith(index, ended);
        else waiters.push(index);
      };
      for (const op of ops) {
        if (op.kind === 'pull') pull();
        else if (op.kind === 'return' && !finished) {
          for (const later of waiters.splice(0)) outcomes[later] = { done: true };
          finished = true;
        } else if (op.kind === 'abort' && !finished) {
          for (const later of waiters.splice(0)) outcomes[later] = { error: 'aborted' };
          finished = true;
          aborted = true;
        } else if (op.kind === 'emit') {
          emits++;
          if (stopped || finished || pulls === 0) continue;
          const item: Item = { id: emits, cls: op.cls, key: op.key, parts: [emits] };
          if (queue.push(item) === 'overflow') {
            stopped = true;
            ended = { error: new QueueOverflowError({ ...emptyNotice, first: item }) };
            answer();
          } else answer();
        }
      }
      if (end !== 'none') {
        sourceEnd = end === 'complete' ? null : { error: 'source failed' };
        if (!stopped && pulls > 0 && !finished) {
          ended = sourceEnd;
          answer();
        }
      }
      if (end === 'none') {
        for (const later of waiters.splice(0)) outcomes[later] = { done: true };
      } else {
        for (let extra = 0; extra < extraPulls; extra++) pull();
      }
      return { outcomes, notices };
    }
    const emptyNotice: OverflowNotice<Item> = {
      policy: 'error',
      dropped: 1,
      merged: 0,
      terminalPreserved: true,
    };

    const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
      fc.record({
        kind: fc.constant('emit' as const),
        cls: fc.constantFrom<EventClass>('terminal', 'progress', 'normal', 'normal'),
        key: fc.integer({ min: 0, max: 2 }),
      }),
      fc.constant({ kind: 'pull' as const }),
      fc.constant({ kind: 'tick' as const }),
      {
        weight: 1,
        arbitrary: fc.constantFrom({ kind: 'return' as const }, { kind: 'abort' as const }),
      },
    );

    it('matches the model for every policy, capacity, reserve and ending', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(
            'drop-oldest',
            'drop-incoming',
            'drop-progress',
            'error',
            'coalesce',
            'coalesce-keyed',
          ),
          fc.integer({ min: 1, max: 5 }),
          fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
          fc.boolean(),
          fc.array(opArbitrary, { maxLength: 40 }),
          fc.constantFrom<'complete' | 'error' | 'none'>('complete', 'error', 'none'),
          async (policy, capacity, reserve, classified, ops, end) => {
            const terminalReserve = reserve === undefined ? undefined : reserve % capacity;
            const options: ToAsyncIterableConfig<Item> = {
              capacity,
              overflow: policyOf(policy),
              terminalReserve,
              // drop-progress and coalesce are refused without a classifier.
              classify:
                classified || policy === 'drop-progress' || policy.startsWith('coalesce')
                  ? (item: Item) => item.cls
                  : undefined,
            };
            const extraPulls = ops.length + 2;
            const expected = model(options, ops, end, extraPulls);

            const subject = new Subject<Item>();
            const controller = new AbortController();
            let pulls = 0;
            let emits = 0;
            const notices: Array<{ notice: OverflowNotice<Item>; at: string }> = [];
            const iterator = toAsyncIterable(subject, {
              ...options,
              signal: controller.signal,
              onOverflow: (notice) => notices.push({ notice, at: `${pulls}/${emits}` }),
            });
            const calls: Array<ReturnType<typeof track<IteratorResult<Item>>>> = [];
            const pull = (): void => {
              pulls++;
              calls.push(track(iterator.next()));
            };
            for (const op of ops) {
              if (op.kind === 'pull') pull();
              else if (op.kind === 'tick') await Promise.resolve();
              else if (op.kind === 'return') void iterator.return?.();
              else if (op.kind === 'abort') controller.abort('aborted');
              else {
                emits++;
                subject.next({ id: emits, cls: op.cls, key: op.key, parts: [emits] });
              }
            }
            if (end === 'complete') subject.complete();
            else if (end === 'error') subject.error('source failed');
            if (end === 'none') await iterator.return?.();
            else for (let extra = 0; extra < extraPulls; extra++) pull();
            await flush();

            const outcomes = calls.map((call): Outcome => {
              const outcome = call.outcome();
              if (outcome === undefined) throw new Error('a next() was left pending');
              if ('error' in outcome) return { error: describeError(outcome.error) };
              const result = outcome.value as IteratorResult<Item>;
              return result.done ? { done: true } : { value: result.value };
            });
            expect(outcomes).toEqual(expected.outcomes);
            expect(notices).toEqual(expected.notices);
            expect(subject.observed).toBe(false);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});

import { NEVER, Observable, of, Subject, throwError } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { OverflowNotice } from '../../src/core/types.js';
import { fromReadableStream } from '../../src/interop/fromReadableStream.js';
import { toReadableStream } from '../../src/interop/toReadableStream.js';
import { toWritableStream } from '../../src/interop/toWritableStream.js';

const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('toReadableStream: the reader is the demand', () => {
  it('subscribes at the first read and delivers what the reader asks for', async () => {
    let subscribed = 0;
    const source = new Observable<number>((subscriber) => {
      subscribed++;
      subscriber.next(1);
      subscriber.next(2);
      subscriber.complete();
    });
    const stream = toReadableStream(source, { capacity: 4, overflow: 'error' });
    expect(subscribed).toBe(0);
    const reader = stream.getReader();
    expect(await reader.read()).toEqual({ done: false, value: 1 });
    expect(subscribed).toBe(1);
    expect(await reader.read()).toEqual({ done: false, value: 2 });
    expect(await reader.read()).toEqual({ done: true, value: undefined });
  });

  it("applies the queue's policy while the reader is slow, reporting the gap before the next value", async () => {
    const source = new Subject<number>();
    const gaps: OverflowNotice<number>[] = [];
    const stream = toReadableStream(source, {
      capacity: 2,
      overflow: 'drop-oldest',
      onOverflow: (gap) => gaps.push(gap),
    });
    const reader = stream.getReader();
    const first = reader.read();
    await flush();
    source.next(1);
    expect(await first).toEqual({ done: false, value: 1 });
    for (const value of [2, 3, 4]) source.next(value);
    source.complete();
    expect(gaps).toEqual([]);
    expect(await reader.read()).toEqual({ done: false, value: 3 });
    expect(gaps).toMatchObject([{ dropped: 1, first: 2, last: 2 }]);
    expect(await reader.read()).toEqual({ done: false, value: 4 });
    expect((await reader.read()).done).toBe(true);
  });

  it('buffers highWaterMark values ahead of the reader', async () => {
    const source = new Subject<number>();
    const stream = toReadableStream(source, {
      capacity: 1,
      overflow: 'drop-oldest',
      highWaterMark: 3,
    });
    await flush();
    for (const value of [1, 2, 3, 4, 5]) source.next(value);
    const reader = stream.getReader();
    const values: number[] = [];
    for (let index = 0; index < 4; index++) values.push((await reader.read()).value as number);
    expect(values).toEqual([1, 2, 3, 5]);
  });

  it('errors the stream after the values queued before the error', async () => {
    const stream = toReadableStream(
      new Observable<number>((subscriber) => {
        subscriber.next(1);
        subscriber.error(new Error('boom'));
      }),
      { capacity: 4, overflow: 'error' },
    );
    const reader = stream.getReader();
    expect(await reader.read()).toEqual({ done: false, value: 1 });
    await expect(reader.read()).rejects.toThrow('boom');
  });

  it('unsubscribes at once when the stream is cancelled', async () => {
    const source = new Subject<number>();
    const stream = toReadableStream(source, { capacity: 4, overflow: 'drop-oldest' });
    const reader = stream.getReader();
    const pending = reader.read();
    await flush();
    expect(source.observed).toBe(true);
    await reader.cancel();
    expect(source.observed).toBe(false);
    expect((await pending).done).toBe(true);
  });

  it('works with for await and pipeTo', async () => {
    const values: number[] = [];
    await toReadableStream(of(1, 2, 3), { capacity: 2, overflow: 'error' }).pipeTo(
      new WritableStream({ write: (value) => void values.push(value) }),
    );
    expect(values).toEqual([1, 2, 3]);
    expectTypeOf(toReadableStream(of('a'), { capacity: 1, overflow: 'error' })).toEqualTypeOf<
      ReadableStream<string>
    >();
  });

  it('refuses bad options at once', () => {
    expect(() => toReadableStream(of(1), { capacity: 0, overflow: 'error' })).toThrow(
      'toReadableStream: capacity must be a positive integer, got 0',
    );
    expect(() =>
      toReadableStream(of(1), { capacity: 1, overflow: 'error', highWaterMark: -1 }),
    ).toThrow('toReadableStream: highWaterMark must be a non-negative number, got -1');
    expect(() => toReadableStream(null as never, { capacity: 1, overflow: 'error' })).toThrow(
      'toReadableStream: source must be an ObservableInput, got null',
    );
  });
});

/** A stream of `values` that counts the chunks its source was asked for. */
function counted(values: number[]) {
  const state = { pulls: 0, cancelled: false };
  const stream = new ReadableStream<number>(
    {
      pull(controller) {
        state.pulls++;
        const value = values.shift();
        if (value === undefined) controller.close();
        else controller.enqueue(value);
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

describe('fromReadableStream: reads only as demand allows', () => {
  it('reads one chunk at a time and completes at the end', async () => {
    const { stream } = counted([1, 2, 3]);
    const values: number[] = [];
    await new Promise<void>((resolve) =>
      fromReadableStream(stream).subscribe({ next: (v) => values.push(v), complete: resolve }),
    );
    expect(values).toEqual([1, 2, 3]);
  });

  it('with demand, leaves the rest in the stream until credits come', async () => {
    const { stream, state } = counted([1, 2, 3, 4]);
    const demand = new Subject<number>();
    const values: number[] = [];
    fromReadableStream(stream, { demand, initialDemand: 1 }).subscribe((v) => values.push(v));
    await flush();
    expect(values).toEqual([1]);
    expect(state.pulls).toBe(1);
    demand.next(2);
    await flush();
    expect(values).toEqual([1, 2, 3]);
    expect(state.pulls).toBe(3);
  });

  it('cancels the stream on unsubscribe, and errors with its error', async () => {
    const { stream, state } = counted([1, 2]);
    const subscription = fromReadableStream(stream, { demand: NEVER }).subscribe();
    subscription.unsubscribe();
    await flush();
    expect(state.cancelled).toBe(true);
    expect(stream.locked).toBe(false);
    const failing = new ReadableStream({ pull: (c) => c.error(new Error('gone')) });
    const errors: unknown[] = [];
    fromReadableStream(failing).subscribe({ error: (e) => errors.push(e) });
    await flush();
    expect(errors).toEqual([new Error('gone')]);
  });

  it('refuses bad options at once', () => {
    expect(() => fromReadableStream(null as never)).toThrow(
      'fromReadableStream: stream must be a ReadableStream, got null',
    );
    expect(() => fromReadableStream(counted([]).stream, { initialDemand: 1 })).toThrow(
      'fromReadableStream: initialDemand must be given with demand',
    );
  });
});

/** A sink that takes one chunk at a time and finishes it when `release` is called. */
function slowSink() {
  const written: number[] = [];
  const releases: Array<() => void> = [];
  const state = { closed: false, aborted: undefined as unknown };
  const stream = new WritableStream<number>(
    {
      write: (value) =>
        new Promise<void>((resolve) => {
          written.push(value);
          releases.push(resolve);
        }),
      close: () => {
        state.closed = true;
      },
      abort: (reason) => {
        state.aborted = reason ?? 'aborted';
      },
    },
    { highWaterMark: 1 },
  );
  return { stream, written, releases, state };
}

describe('toWritableStream: writes at the pace of writer.ready', () => {
  it("holds values while the stream is busy, under the queue's policy", async () => {
    const sink = slowSink();
    const source = new Subject<number>();
    const emitted: number[] = [];
    const gaps: number[] = [];
    let completed = false;
    source
      .pipe(
        toWritableStream(sink.stream, {
          capacity: 1,
          overflow: 'drop-oldest',
          onOverflow: (gap) => gaps.push(gap.dropped),
        }),
      )
      .subscribe({ next: (v) => emitted.push(v), complete: () => (completed = true) });
    for (const value of [1, 2, 3, 4]) source.next(value);
    source.complete();
    await flush();
    expect(emitted).toEqual([1]);
    while (!completed) {
      sink.releases.shift()?.();
      await flush();
    }
    expect(emitted).toEqual([1, 4]);
    expect(sink.written).toEqual([1, 4]);
    expect(gaps).toEqual([2]);
    expect(sink.state.closed).toBe(true);
  });

  it('aborts the stream with a source error, and on unsubscribe', async () => {
    const failing = slowSink();
    const errors: unknown[] = [];
    throwError(() => new Error('boom'))
      .pipe(toWritableStream(failing.stream, { capacity: 1, overflow: 'error' }))
      .subscribe({ error: (e) => errors.push(e) });
    await flush();
    expect(errors).toEqual([new Error('boom')]);
    expect(failing.state.aborted).toEqual(new Error('boom'));
    const left = slowSink();
    const subscription = new Subject<number>()
      .pipe(toWritableStream(left.stream, { capacity: 1, overflow: 'error' }))
      .subscribe();
    subscription.unsubscribe();
    await flush();
    expect(left.state.aborted).toBe('aborted');
  });

  it('errors when a write fails, and refuses bad options', async () => {
    const broken = new WritableStream<number>({
      write: () => Promise.reject(new Error('disk full')),
    });
    const errors: unknown[] = [];
    of(1, 2)
      .pipe(toWritableStream(broken, { capacity: 4, overflow: 'error' }))
      .subscribe({ error: (e) => errors.push(e) });
    await flush();
    expect(errors).toEqual([new Error('disk full')]);
    expect(() => toWritableStream({} as never, { capacity: 1, overflow: 'error' })).toThrow(
      'toWritableStream: stream must be a WritableStream, got {}',
    );
    expect(() =>
      toWritableStream(slowSink().stream, {
        capacity: 1,
        overflow: 'error',
        preventClose: 1 as never,
      }),
    ).toThrow('toWritableStream: preventClose must be true or false, got 1');
  });
});

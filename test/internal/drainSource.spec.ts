import { Observable, Subject, Subscriber } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { OverflowQueue } from '../../src/core/OverflowQueue.js';
import type { OverflowNotice } from '../../src/core/types.js';
import { drainSource } from '../../src/internal/drainSource.js';
import { SubscriberSink } from '../../src/internal/SubscriberSink.js';

type Notice = OverflowNotice<string>;

/** Subscribes `drainSource` through an Observable and records what reaches the consumer. */
function run(
  source: Observable<string>,
  queue: OverflowQueue<string>,
  triggers?: Parameters<typeof drainSource<string, Notice>>[5],
) {
  const log: string[] = [];
  const gaps: Notice[] = [];
  const subscription = new Observable<string>((subscriber) => {
    drainSource(
      source,
      subscriber,
      queue,
      new SubscriberSink<string, Notice>(subscriber, (gap) => gaps.push(gap)),
      { schedule: 'now', credits: triggers === undefined ? Number.POSITIVE_INFINITY : 0 },
      triggers,
    );
  }).subscribe({
    next: (value) => log.push(value),
    error: (error) => log.push(`#${(error as Error).message}`),
    complete: () => log.push('|'),
  });
  return { log, gaps, subscription };
}

describe('drainSource', () => {
  it('passes the values, the gaps and the end through the queue to the consumer', () => {
    const source = new Subject<string>();
    const queue = new OverflowQueue<string>({ capacity: 1, overflow: 'drop-oldest' });
    let grant: (n: number) => void = () => {};
    const { log, gaps } = run(source, queue, (engine) => {
      grant = (n) => engine.grant(n);
    });
    source.next('a');
    source.next('b');
    source.complete();
    expect(log).toEqual([]);
    grant(1);
    expect(gaps).toMatchObject([{ dropped: 1, first: 'a' }]);
    expect(log).toEqual(['b', '|']);
  });

  it("passes the source's error after the values queued before it, without triggers", () => {
    const source = new Subject<string>();
    const { log } = run(source, new OverflowQueue<string>({ capacity: 4, overflow: 'error' }));
    source.next('a');
    source.error(new Error('source failed'));
    expect(log).toEqual(['a', '#source failed']);
  });

  it('errors the stream at once when pushing throws past the queue (a broken overflowError)', () => {
    const source = new Subject<string>();
    const queue = new OverflowQueue<string>({ capacity: 1, overflow: 'error' });
    queue.overflowError = () => {
      throw new Error('no error to give');
    };
    const { log } = run(source, queue, () => {});
    source.next('a');
    source.next('b');
    expect(log).toEqual(['#no error to give']);
    expect(source.observed).toBe(false);
  });

  it('runs the triggers before subscribing to the source', () => {
    const order: string[] = [];
    const source = new Observable<string>(() => {
      order.push('source');
    });
    run(source, new OverflowQueue<string>({ capacity: 1, overflow: 'error' }), () => {
      order.push('triggers');
    });
    expect(order).toEqual(['triggers', 'source']);
  });

  it('a push that throws unsubscribes the source; its error follows the queued values', () => {
    const source = new Subject<string>();
    const queue = new OverflowQueue<string>({
      capacity: 4,
      overflow: 'error',
      classify: (value) => {
        if (value === 'bad') throw new Error('classify failed');
        return 'normal';
      },
    });
    let grant: (n: number) => void = () => {};
    const { log } = run(source, queue, (engine) => {
      grant = (n) => engine.grant(n);
    });
    source.next('a');
    source.next('bad');
    expect(source.observed).toBe(false);
    grant(1);
    expect(log).toEqual(['a', '#classify failed']);
  });

  it('unsubscribing the consumer unsubscribes the source and frees the queue', () => {
    const source = new Subject<string>();
    const queue = new OverflowQueue<string>({ capacity: 4, overflow: 'error' });
    const { subscription } = run(source, queue, () => {});
    source.next('a');
    expect(queue.size).toBe(1);
    subscription.unsubscribe();
    expect(source.observed).toBe(false);
    expect(queue.size).toBe(0);
  });
});

describe('SubscriberSink', () => {
  it('delivers with next, ends with complete or error, and says whether the subscriber closed', () => {
    const log: string[] = [];
    const subscriber = new Subscriber<string>({
      next: (value) => log.push(value),
      complete: () => log.push('|'),
      error: (error: unknown) => log.push(`#${String(error)}`),
    });
    const sink = new SubscriberSink<string, string>(subscriber, (gap) => log.push(`gap ${gap}`));
    sink.reportGap('g');
    sink.deliver('a');
    expect(sink.closed).toBe(false);
    sink.complete();
    expect(sink.closed).toBe(true);
    expect(log).toEqual(['gap g', 'a', '|']);

    const erring = new SubscriberSink<string, string>(
      new Subscriber<string>({
        next: () => {},
        complete: () => {},
        error: (error: unknown) => log.push(`#${String(error)}`),
      }),
      undefined,
    );
    erring.reportGap('ignored without onOverflow');
    erring.error('boom');
    expect(erring.closed).toBe(true);
    expect(log).toEqual(['gap g', 'a', '|', '#boom']);
  });
});

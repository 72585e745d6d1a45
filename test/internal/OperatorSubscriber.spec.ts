import { Observable, Subject, Subscriber, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { OperatorSubscriber, subscribeWithin } from '../../src/internal/OperatorSubscriber.js';

function recorder() {
  const log: string[] = [];
  const subscriber = new OperatorSubscriber<string>(
    (value) => {
      if (value === 'throw') throw new Error('next threw');
      log.push(value);
    },
    (error) => {
      if (error === 'rethrow') throw new Error('error threw');
      log.push(`#${String(error)}`);
    },
    () => log.push('|'),
    (thrown) => log.push(`thrown:${(thrown as Error).message}`),
  );
  return { log, subscriber };
}

describe('OperatorSubscriber', () => {
  it('routes a throw of the next callback to onThrow, and keeps going', () => {
    const { log, subscriber } = recorder();
    subscriber.next('a');
    subscriber.next('throw');
    subscriber.next('b');
    expect(log).toEqual(['a', 'thrown:next threw', 'b']);
  });

  it('routes a throw of the error callback to onThrow and unsubscribes', () => {
    const { log, subscriber } = recorder();
    subscriber.error('rethrow');
    expect(log).toEqual(['thrown:error threw']);
    expect(subscriber.closed).toBe(true);
  });

  it('routes a throw of the complete callback to onThrow and unsubscribes', () => {
    const log: string[] = [];
    const subscriber = new OperatorSubscriber<string>(
      () => {},
      () => {},
      () => {
        throw new Error('complete threw');
      },
      (thrown) => log.push((thrown as Error).message),
    );
    subscriber.complete();
    expect(log).toEqual(['complete threw']);
    expect(subscriber.closed).toBe(true);
  });

  it('onThrow defaults to onError', () => {
    const errors: unknown[] = [];
    const subscriber = new OperatorSubscriber<string>(
      () => {
        throw new Error('boom');
      },
      (error) => errors.push(error),
      () => {},
    );
    subscriber.next('a');
    expect(errors).toEqual([new Error('boom')]);
  });

  it('ignores a value pushed from inside its own error or complete callback', () => {
    const log: string[] = [];
    const erring: OperatorSubscriber<string> = new OperatorSubscriber<string>(
      (value) => log.push(value),
      () => {
        erring.next('after error');
        log.push('#');
      },
      () => {},
    );
    erring.error('e');
    const completing: OperatorSubscriber<string> = new OperatorSubscriber<string>(
      (value) => log.push(value),
      () => {},
      () => {
        completing.next('after complete');
        completing.error('e');
        log.push('|');
      },
    );
    completing.complete();
    expect(log).toEqual(['#', '|']);
  });

  it('ignores everything after error or complete, and after unsubscribe', () => {
    const first = recorder();
    first.subscriber.complete();
    first.subscriber.next('a');
    first.subscriber.error('e');
    first.subscriber.complete();
    expect(first.log).toEqual(['|']);

    const second = recorder();
    second.subscriber.error('e');
    second.subscriber.next('a');
    second.subscriber.complete();
    expect(second.log).toEqual(['#e']);

    const third = recorder();
    third.subscriber.unsubscribe();
    third.subscriber.next('a');
    third.subscriber.error('e');
    third.subscriber.complete();
    expect(third.log).toEqual([]);
  });
});

describe('subscribeWithin', () => {
  it('stops a synchronous endless source as soon as the consumer unsubscribes', () => {
    let produced = 0;
    const endless = new Observable<number>((subscriber) => {
      for (let value = 0; !subscriber.closed && value < 1000; value++) {
        produced++;
        subscriber.next(value);
      }
    });
    const received: number[] = [];
    new Observable<number>((consumer) => {
      subscribeWithin(
        consumer,
        endless,
        new OperatorSubscriber<number>(
          (value) => consumer.next(value),
          (error) => consumer.error(error),
          () => consumer.complete(),
        ),
      );
    })
      .pipe(take(3))
      .subscribe((value) => received.push(value));
    expect(received).toEqual([0, 1, 2]);
    expect(produced).toBe(3);
  });

  it('subscribes nothing for a consumer already closed', () => {
    const source = new Subject<number>();
    const consumer = new Subscriber<unknown>();
    consumer.unsubscribe();
    subscribeWithin(
      consumer,
      source,
      new OperatorSubscriber(
        () => {},
        () => {},
        () => {},
      ),
    );
    expect(source.observed).toBe(false);
  });

  it('reports an input that from() refuses to the observer instead of throwing', () => {
    const errors: unknown[] = [];
    const consumer = new Subscriber<unknown>();
    expect(() =>
      subscribeWithin(
        consumer,
        42 as never,
        new OperatorSubscriber(
          () => {},
          (error) => errors.push(error),
          () => {},
        ),
      ),
    ).not.toThrow();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TypeError);
  });

  it('the observer unsubscribes with the consumer', () => {
    const source = new Subject<number>();
    const consumer = new Subscriber<unknown>();
    subscribeWithin(
      consumer,
      source,
      new OperatorSubscriber(
        () => {},
        () => {},
        () => {},
      ),
    );
    expect(source.observed).toBe(true);
    consumer.unsubscribe();
    expect(source.observed).toBe(false);
  });
});

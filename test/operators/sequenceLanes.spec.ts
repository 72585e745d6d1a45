import { Observable, type OperatorFunction, of, Subject, take } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Laned } from '../../src/core/laneOrder.js';
import { mergeLanes } from '../../src/operators/mergeLanes.js';
import { sequenceLanes } from '../../src/operators/sequenceLanes.js';

interface Event {
  agent: string;
  n: number;
}

describe('sequenceLanes', () => {
  it('stamps like mergeLanes in arrival order does', () => {
    const a = new Subject<Event>();
    const b = new Subject<Event>();
    const merged = new Subject<Event>();
    const fromMergeLanes: Laned<Event>[] = [];
    const fromSequence: Laned<Event>[] = [];
    mergeLanes({ a, b }).subscribe((value) => fromMergeLanes.push(value));
    merged
      .pipe(sequenceLanes((event) => event.agent))
      .subscribe((value) => fromSequence.push(value));
    for (const [agent, n] of [
      ['a', 1],
      ['b', 2],
      ['a', 3],
      ['a', 4],
      ['b', 5],
    ] as const) {
      (agent === 'a' ? a : b).next({ agent, n });
      merged.next({ agent, n });
    }
    expect(fromSequence).toEqual(fromMergeLanes);
    expect(fromSequence.map((value) => `${value.lane}${value.laneSeq}`)).toEqual([
      'a1',
      'b1',
      'a2',
      'a3',
      'b2',
    ]);
  });

  it('counts afresh for each subscription', () => {
    const source = of('a', 'a');
    const stamped = source.pipe(sequenceLanes((value) => value));
    const first: number[] = [];
    const second: number[] = [];
    stamped.subscribe((value) => first.push(value.laneSeq));
    stamped.subscribe((value) => second.push(value.laneSeq));
    expect(first).toEqual([1, 2]);
    expect(second).toEqual([1, 2]);
  });

  it('stops a synchronous infinite source when take() has enough', () => {
    let produced = 0;
    const endless = new Observable<number>((subscriber) => {
      for (let value = 0; !subscriber.closed && value < 1_000; value++) {
        produced++;
        subscriber.next(value);
      }
    });
    const seen: number[] = [];
    endless
      .pipe(
        sequenceLanes(() => 'main'),
        take(3),
      )
      .subscribe((value) => seen.push(value.laneSeq));
    expect(seen).toEqual([1, 2, 3]);
    expect(produced).toBe(3);
  });

  it('errors with a TypeError naming what laneOf returned when it is not a string', () => {
    let error: unknown;
    of(1)
      .pipe(sequenceLanes(() => 7 as unknown as string))
      .subscribe({ error: (caught) => (error = caught) });
    expect(error).toEqual(
      new TypeError('sequenceLanes: laneOf must return a non-empty string, got 7'),
    );
  });

  it('rejects a laneOf that is not a function at creation', () => {
    expect(() => sequenceLanes('agent' as never)).toThrow(
      new TypeError('sequenceLanes: laneOf must be a function, got "agent"'),
    );
  });

  it('is typed as an operator from T to Laned<T>', () => {
    expectTypeOf(sequenceLanes((event: Event) => event.agent)).toEqualTypeOf<
      OperatorFunction<Event, Laned<Event>>
    >();
  });
});

import { Observable, type OperatorFunction } from 'rxjs';
import { checkFunction } from '../core/checks.js';
import type { Laned } from '../core/laneOrder.js';
import { describe } from '../core/types.js';
import { OperatorSubscriber } from '../internal/OperatorSubscriber.js';

/**
 * Stamps `{ lane, laneSeq }` on a stream that is already merged: `laneOf(value)` names the lane,
 * and laneSeq counts that lane's values densely from 1 (per subscription), as the bus does on
 * publish and as {@link mergeLanes} does. Order is left untouched: nothing is held.
 *
 * ```text
 * laneOf = the first character (a = 'a1', b = 'b1', c = 'a2', d = 'b2', e = 'a3'):
 * source: -a-b-c-d-e-|
 * result: -A-B-C-D-E-|    A = { lane: 'a', laneSeq: 1, value: 'a1' }, B = b#1, C = a#2, D = b#2, E = a#3
 * ```
 *
 * A `laneOf` that throws, or returns anything but a non-empty string, errors the stream (with
 * what it threw, or a `TypeError` naming the value it returned).
 *
 * @param laneOf - the lane id of a value: a non-empty string.
 *
 * Every case of marbles/sequenceLanes.ts, drawn (drops crossed out, notices marked):
 * docs/marbles/sequenceLanes.md in the repository.
 *
 * @example
 * ```ts
 * socket$.pipe(sequenceLanes((event) => event.agentId)).subscribe(({ lane, laneSeq, value }) =>
 *   store.put(`${lane}/${laneSeq}`, value),
 * );
 * ```
 *
 * @throws TypeError at creation when `laneOf` is not a function.
 */
export function sequenceLanes<T>(laneOf: (value: T) => string): OperatorFunction<T, Laned<T>> {
  checkFunction(laneOf, 'sequenceLanes', 'laneOf', true);
  return (source) =>
    new Observable<Laned<T>>((subscriber) => {
      const laneSeqs = new Map<string, number>();
      const sourceSubscriber = new OperatorSubscriber<T>(
        (value) => {
          let lane: string;
          try {
            lane = laneOf(value);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          if (typeof lane !== 'string' || lane === '') {
            subscriber.error(
              new TypeError(
                `sequenceLanes: laneOf must return a non-empty string, got ${describe(lane)}`,
              ),
            );
            return;
          }
          const laneSeq = (laneSeqs.get(lane) ?? 0) + 1;
          laneSeqs.set(lane, laneSeq);
          subscriber.next({ lane, laneSeq, value });
        },
        (error) => subscriber.error(error),
        () => subscriber.complete(),
      );
      // Added before subscribing, so a synchronous source stops as soon as the consumer leaves.
      subscriber.add(sourceSubscriber);
      source.subscribe(sourceSubscriber);
      return () => laneSeqs.clear();
    });
}

/**
 * Demand written as a marble, for `boundedQueue` and bus queues, with a check for the silent
 * deadlock of a demand that never requests what waits in the queue.
 */
import { asyncScheduler, Observable, type SchedulerLike } from 'rxjs';
import type { QueueStats } from '../core/OverflowQueue.js';
import { show } from './equality.js';
import { type MarbleMessage, parseMarble } from './marbleText.js';

/**
 * The error a {@link demandFrom} source ends with when its marble is over, nothing more will be
 * requested, and values still wait in the queue: they would never be delivered.
 */
export class DemandDeadlockError extends Error {
  /** The values waiting in the queue when the demand marble ended. */
  readonly waiting: number;
  constructor(message: string, waiting: number) {
    super(message);
    this.name = 'DemandDeadlockError';
    this.waiting = waiting;
  }
}

/** What {@link demandFrom} returns: a demand source, and the queue probe that arms its check. */
export interface DemandMarble extends Observable<number> {
  /**
   * Give it as the queue's `inspect` option (`inspect: demand.inspect`): the demand source then
   * reads the queue's depth when its marble ends, and errors with {@link DemandDeadlockError}
   * if values wait there that nothing will ever request.
   */
  readonly inspect: (readStats: () => QueueStats) => void;
}

/** The grant one marble character stands for. */
function grantOf(symbol: unknown, marble: string, frame: number): number {
  if (typeof symbol === 'number') {
    if (symbol === Number.POSITIVE_INFINITY || (Number.isInteger(symbol) && symbol >= 0)) {
      return symbol;
    }
  } else if (typeof symbol === 'string') {
    if (symbol === 'i') return Number.POSITIVE_INFINITY;
    if (/^[1-9]$/.test(symbol)) return Number(symbol);
  }
  throw new RangeError(
    `demandFrom: ${show(symbol)} at frame ${frame} of '${marble}' is not a demand: write 1-9, ` +
      'i (Infinity), or a letter that values maps to a non-negative integer',
  );
}

/**
 * Demand written as a marble, one character per frame (as inside `TestScheduler.run`): the
 * digits `1`-`9` grant that many values, `i` grants all (Infinity), a letter grants what
 * `values` maps it to (so 10 or 100 can be written), `-` grants nothing, `|` completes. Grants
 * at the first frame are made at subscription; the others on `scheduler`, which
 * `TestScheduler.run` makes virtual. Use it as `demand` of `boundedQueue` or of a bus queue.
 *
 * The silent deadlock: a demand that never requests anything while values wait stalls the
 * pipeline without an error. Give `inspect: demand.inspect` to the same queue, and when the
 * marble is over (its last frame, or `|`) with values still waiting, the demand errors with a
 * {@link DemandDeadlockError} that says so, and so does the stream.
 *
 * ```text
 * source:  -a-b-c---|
 * demand:  1----2
 * result:  -a---(bc)|
 * ```
 *
 * @example
 * ```ts
 * import { boundedQueue } from 'rxjs-backpressure';
 * import { createTestScheduler, demandFrom } from 'rxjs-backpressure/testing';
 *
 * createTestScheduler().run(({ cold, expectObservable }) => {
 *   const source = cold('      -a-b-c---|');
 *   const demand = demandFrom('1----2');
 *   const expected = '         -a---(bc)|';
 *   const queued = boundedQueue<string>({ capacity: 4, overflow: 'error', demand, inspect: demand.inspect });
 *   expectObservable(source.pipe(queued)).toBe(expected);
 * });
 * ```
 *
 * @throws RangeError at creation for a character that is not a demand.
 */
export function demandFrom(
  marble: string,
  values?: Record<string, number>,
  scheduler: SchedulerLike = asyncScheduler,
): DemandMarble {
  // Parsed letter by letter, then mapped: a digit is a count unless `values` names it.
  const messages = parseMarble(marble);
  const grants: Array<{ frame: number; grant: number }> = [];
  let end: number | undefined;
  for (const { frame, notification } of messages) {
    if (notification.kind === 'C') end = frame;
    else if (notification.kind === 'E') {
      throw new RangeError(
        `demandFrom: '#' at frame ${frame} of '${marble}': a demand never errors`,
      );
    } else {
      const symbol = notification.value as string;
      const named = values !== undefined && Object.hasOwn(values, symbol);
      grants.push({ frame, grant: grantOf(named ? values[symbol] : symbol, marble, frame) });
    }
  }
  const completes = end !== undefined;
  const last = end ?? lastFrameOf(marble, messages);
  let nextProbe: (() => QueueStats) | undefined;

  const demand = new Observable<number>((subscriber) => {
    const readStats = nextProbe;
    nextProbe = undefined;
    let granted = 0;
    const check = (): void => {
      const stats = readStats?.();
      if (stats === undefined || stats.depth === 0) return;
      const what =
        granted === 0
          ? 'never requests anything'
          : `requests nothing after its ${granted === Infinity ? 'Infinity' : granted} values`;
      subscriber.error(
        new DemandDeadlockError(
          `demandFrom('${marble}'): the demand marble ${what}, but ${stats.depth} ` +
            `value${stats.depth === 1 ? '' : 's'} wait in the queue at frame ${last} ` +
            `(${stats.delivered} delivered): they would never be delivered. Request more in ` +
            'the marble, or give the queue an initialDemand.',
          stats.depth,
        ),
      );
    };
    const at = (frame: number, work: () => void): void => {
      if (frame === 0) work();
      else subscriber.add(scheduler.schedule(work, frame));
    };
    for (const { frame, grant } of grants) {
      at(frame, () => {
        granted += grant;
        subscriber.next(grant);
      });
    }
    at(last, () => {
      check();
      if (completes) subscriber.complete();
    });
  });
  return Object.assign(demand, {
    inspect: (readStats: () => QueueStats): void => {
      nextProbe = readStats;
    },
  });
}

/** The frame of a marble's last character: where a marble without `|` is over. */
function lastFrameOf(marble: string, messages: readonly MarbleMessage[]): number {
  const lastMessage = messages[messages.length - 1]?.frame ?? 0;
  const length = parseMarble(`${marble}|`).at(-1)?.frame ?? 0;
  return Math.max(lastMessage, length - 1);
}

/**
 * Virtual time for asynchronous tests: frames of a `TestScheduler` advanced one by one, with
 * every pending microtask (promise callbacks, `await`) run between two frames, so promise-based
 * handlers and `for await` loops are as deterministic as a marble test.
 */
import { from, Observable, type ObservableInput, Subscription } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { type DemandMarble, demandFrom } from './demandFrom.js';
import { ExpectationError } from './equality.js';
import { type MarbleMessage, marbleDiff, parseMarble } from './marbleText.js';
import { IterableStepper } from './stepIterable.js';

/** The helpers {@link runVirtual} hands its test; frames count from the start of the run. */
export interface VirtualHelpers {
  /** The scheduler of the run: give it to every operator that takes a `scheduler`. */
  readonly scheduler: TestScheduler;
  /** The current frame. */
  now(): number;
  /** A cold observable on the run's scheduler, one frame per character. */
  cold<T = string>(marble: string, values?: Record<string, T>, error?: unknown): Observable<T>;
  /**
   * A promise that settles at the first event of the marble, counted from now: a value
   * resolves it, `#` rejects it with `error`, `|` resolves it with `undefined`.
   */
  promiseAt<T = string>(marble: string, values?: Record<string, T>, error?: unknown): Promise<T>;
  /** A promise that resolves `frames` frames from now. */
  wait(frames: number): Promise<void>;
  /** {@link demandFrom} on the run's scheduler. */
  demandFrom(marble: string, values?: Record<string, number>): DemandMarble;
  /** Step-by-step expectations over an async iterable or iterator. */
  stepIterable<T>(iterable: AsyncIterable<T> | AsyncIterator<T>): IterableStepper<T>;
  /**
   * Subscribes now and records; the marble given to `toBe` is checked when the run ends (with
   * aligned marbles on failure). The run goes on after the test body until it has ended.
   */
  expectObservable<T>(observable: ObservableInput<T>): {
    toBe(marble: string, values?: Record<string, unknown>, error?: unknown): void;
  };
}

/** The options of {@link runVirtual}. */
export interface RunVirtualOptions {
  /** The run fails when the test still waits at this frame. Default: 10,000. */
  maxFrames?: number | undefined;
}

/** Lets every pending promise callback run: one macrotask, after all microtasks. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Runs an asynchronous test under virtual time: the frames of `scheduler` are advanced one at a
 * time, and between two frames every pending microtask runs, so a promise-returning handler in
 * `drainWith` or a `for await` loop over `toAsyncIterable` advances exactly as the marbles say.
 * Give `helpers.scheduler` to every operator that takes a `scheduler`, and make promises that
 * settle at a frame with `helpers.promiseAt`. Resolves with what the test returns.
 *
 * It fails when the test waits for something no frame will bring (nothing is scheduled and the
 * test has not finished: a silent deadlock), or still waits at `maxFrames`.
 *
 * @example
 * ```ts
 * import { drainWith } from 'rxjs-backpressure';
 * import { runVirtual } from 'rxjs-backpressure/testing';
 * import { TestScheduler } from 'rxjs/testing';
 *
 * await runVirtual(new TestScheduler(() => {}), async ({ cold, promiseAt, expectObservable, scheduler }) => {
 *   const handled$ = cold('-a-b|').pipe(
 *     drainWith(async (value: string) => `${await promiseAt('--x')}${value}`, { capacity: 4, overflow: 'error', scheduler }),
 *   );
 *   expectObservable(handled$).toBe('---x(y|)', { x: 'xa', y: 'xb' });
 * });
 * ```
 *
 * @throws ExpectationError (rejected) when an expectation fails or the test waits for ever.
 */
export async function runVirtual<R>(
  scheduler: TestScheduler,
  test: (helpers: VirtualHelpers) => Promise<R> | R,
  options: RunVirtualOptions = {},
): Promise<R> {
  const { maxFrames = 10_000 } = options;
  const origin = scheduler.now();
  const teardown = new Subscription();
  const recordings: Recording[] = [];
  const helpers = makeHelpers(scheduler, origin, teardown, recordings);
  const previousMax = scheduler.maxFrames;
  let outcome: { value: R } | { error: unknown } | undefined;
  const advance = async (): Promise<boolean> => {
    const next = scheduler.actions[0];
    if (next === undefined || next.delay - origin > maxFrames) return false;
    scheduler.maxFrames = next.delay;
    scheduler.flush();
    await settle();
    return true;
  };
  try {
    Promise.resolve()
      .then(() => test(helpers))
      .then(
        (value) => {
          outcome = { value };
        },
        (error: unknown) => {
          outcome = { error };
        },
      );
    await settle();
    while (outcome === undefined) {
      if (!(await advance())) {
        const frame = scheduler.now() - origin;
        throw new ExpectationError(
          scheduler.actions.length === 0
            ? `runVirtual: the test still waits at frame ${frame}, but no frame is scheduled: ` +
                'it awaits a promise or an iterator that nothing will ever settle'
            : `runVirtual: the test still waits at frame ${frame}, beyond maxFrames (${maxFrames})`,
        );
      }
    }
    while (recordings.some((recording) => !recording.ended) && (await advance())) {}
    if ('error' in outcome) throw outcome.error;
    for (const recording of recordings) recording.check();
    return outcome.value;
  } finally {
    teardown.unsubscribe();
    scheduler.maxFrames = previousMax;
  }
}

interface Recording {
  ended: boolean;
  check(): void;
}

function makeHelpers(
  scheduler: TestScheduler,
  origin: number,
  teardown: Subscription,
  recordings: Recording[],
): VirtualHelpers {
  const now = (): number => scheduler.now() - origin;
  const wait = (frames: number): Promise<void> =>
    new Promise((resolve) => {
      teardown.add(scheduler.schedule(() => resolve(), frames));
    });
  const schedule = (messages: readonly MarbleMessage[], deliver: (m: MarbleMessage) => void) =>
    messages.map(({ frame }, index) =>
      scheduler.schedule(() => deliver(messages[index] as MarbleMessage), frame),
    );
  return {
    scheduler,
    now,
    wait,
    cold: <T>(marble: string, values?: Record<string, T>, error?: unknown) => {
      const messages = parseMarble(marble, values, error);
      return new Observable<T>((subscriber) => {
        for (const action of schedule(messages, ({ notification }) => {
          if (notification.kind === 'N') subscriber.next(notification.value as T);
          else if (notification.kind === 'E') subscriber.error(notification.error);
          else subscriber.complete();
        })) {
          subscriber.add(action);
        }
      });
    },
    promiseAt: <T>(marble: string, values?: Record<string, T>, error?: unknown) => {
      const [first] = parseMarble(marble, values, error);
      if (first === undefined) {
        throw new RangeError(`promiseAt: '${marble}' has no event to settle the promise`);
      }
      return new Promise<T>((resolve, reject) => {
        teardown.add(
          scheduler.schedule(() => {
            const { notification } = first;
            if (notification.kind === 'N') resolve(notification.value as T);
            else if (notification.kind === 'E') reject(notification.error);
            else resolve(undefined as T);
          }, first.frame),
        );
      });
    },
    demandFrom: (marble, values) => demandFrom(marble, values, scheduler),
    stepIterable: <T>(iterable: AsyncIterable<T> | AsyncIterator<T>) => {
      const iterator =
        Symbol.asyncIterator in iterable
          ? (iterable as AsyncIterable<T>)[Symbol.asyncIterator]()
          : (iterable as AsyncIterator<T>);
      return new IterableStepper<T>(iterator, scheduler, origin, wait);
    },
    expectObservable: <T>(observable: ObservableInput<T>) => {
      const actual: MarbleMessage[] = [];
      const recording: Recording = { ended: false, check: () => {} };
      recordings.push(recording);
      const record = (notification: MarbleMessage['notification']): void => {
        actual.push({ frame: now(), notification });
      };
      teardown.add(
        from(observable).subscribe({
          next: (value) => record({ kind: 'N', value }),
          error: (error: unknown) => {
            recording.ended = true;
            record({ kind: 'E', error });
          },
          complete: () => {
            recording.ended = true;
            record({ kind: 'C' });
          },
        }),
      );
      return {
        toBe: (marble, values, error) => {
          const expected = parseMarble(marble, values, error);
          if (!expected.some(({ notification }) => notification.kind !== 'N')) {
            recording.ended = true; // an endless expectation: check what the test body saw
          }
          recording.check = () => {
            const diff = marbleDiff(actual, expected, values);
            if (diff !== undefined) throw new ExpectationError(diff);
          };
        },
      };
    },
  };
}

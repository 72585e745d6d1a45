/**
 * The bus under marbles: a bus on the test scheduler's clock, events published as a marble, and
 * a subscriber's frames drawn back as the letters they were published under.
 */
import { from, Observable, type ObservableInput } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { EventBus } from '../bus/EventBus.js';
import type { AgentEvent, EventBusConfig, EventFrame } from '../bus/types.js';
import type { OverflowNotice } from '../core/types.js';
import { show } from './equality.js';
import { parseMarble } from './marbleText.js';
import { isNotice, withNotices } from './notices.js';

interface TestBusRecord {
  scheduler: TestScheduler;
  /** The letter each seq was published under by publishMarble. */
  letters: Map<number, string>;
}

const testBuses = new WeakMap<object, TestBusRecord>();

/**
 * An {@link EventBus} on the test scheduler's clock: frames are stamped with its frame as `ts`,
 * and {@link publishMarble} publishes on it at virtual frames.
 *
 * @example
 * ```ts fragment
 * const testBus = createTestBus(new TestScheduler(() => {}));
 * ```
 */
export function createTestBus<P = unknown>(
  scheduler: TestScheduler,
  options: Omit<EventBusConfig<P>, 'scheduler'> = {},
): EventBus<P> {
  const bus = new EventBus<P>({ ...options, scheduler });
  testBuses.set(bus, { scheduler, letters: new Map() });
  return bus;
}

/**
 * Publishes events on a bus made by {@link createTestBus} as a marble says, one frame per
 * character counted from now: each letter publishes `events[letter]`, a group `(ab)` publishes
 * both in one frame, `|` closes the bus. Returns the frames published, filled in as they are.
 *
 * @throws TypeError for a bus not made by `createTestBus`; RangeError for a letter that
 *   `events` does not map, or `#`.
 *
 * @example
 * ```ts fragment
 * const published = publishMarble(bus, '-a-b|', { a: { kind: 'model.delta' }, b: { kind: 'run.finished' } });
 * ```
 */
export function publishMarble<P>(
  bus: EventBus<P>,
  marble: string,
  events: Record<string, AgentEvent<P>>,
): EventFrame<P>[] {
  const record = testBuses.get(bus);
  if (record === undefined) {
    throw new TypeError(
      "publishMarble: the bus must come from createTestBus (it publishes on that bus's scheduler)",
    );
  }
  const messages = parseMarble(marble);
  for (const { frame, notification } of messages) {
    if (notification.kind === 'E') {
      throw new RangeError(
        `publishMarble: '#' at frame ${frame} of '${marble}': a bus never errors`,
      );
    }
    if (notification.kind === 'N' && events[notification.value as string] === undefined) {
      throw new RangeError(
        `publishMarble: ${show(notification.value)} at frame ${frame} of '${marble}' is not in events`,
      );
    }
  }
  const published: EventFrame<P>[] = [];
  for (const { frame, notification } of messages) {
    record.scheduler.schedule(() => {
      if (notification.kind === 'C') {
        bus.close();
        return;
      }
      const letter = (notification as { value: string }).value;
      // Named before publishing: a subscriber with credit receives the frame inside publish.
      const seq = bus.lastSeq + 1;
      record.letters.set(seq, letter);
      try {
        published.push(bus.publish(events[letter] as AgentEvent<P>));
      } catch (error) {
        record.letters.delete(seq);
        throw error;
      }
    }, frame);
  }
  return published;
}

/**
 * A subscriber's frames drawn as a marble: each frame becomes the letter it was published under
 * by {@link publishMarble} on `bus` (a merged frame, the letter of its newest part; without
 * `bus`, or for a frame published otherwise, its `kind`), and each notice on a frame is emitted
 * just before it, as {@link withNotices} does. Compare it with an expected marble whose letters
 * are the published ones, and `notice(...)` values for the gaps.
 *
 * ```text
 * queue { capacity: 2, overflow: 'drop-oldest', demand }:
 * demand:   1-------2
 * publish:  -a-b-c-f|
 * frames:   -a------(ncf|)     n = notice({ dropped: 1, fromSeq: 2, toSeq: 2 })
 * ```
 *
 * @example
 * ```ts fragment
 * const drawn$ = framesMarble(bus.select({ runId: 'r1' }), bus);
 * ```
 */
export function framesMarble<P>(
  frames$: ObservableInput<EventFrame<P>>,
  bus?: EventBus<P>,
): Observable<string | OverflowNotice<EventFrame<P>>> {
  const letters = bus === undefined ? undefined : testBuses.get(bus)?.letters;
  return new Observable((subscriber) =>
    withNotices(from(frames$)).subscribe({
      next: (item) => {
        if (isNotice(item)) subscriber.next(item);
        else subscriber.next(letters?.get(item.seq) ?? item.kind);
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    }),
  );
}

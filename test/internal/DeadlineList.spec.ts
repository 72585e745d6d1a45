import { type SchedulerLike, Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { type DeadlineEntry, DeadlineList } from '../../src/internal/DeadlineList.js';

class Entry implements DeadlineEntry<Entry> {
  deadline = 0;
  listed = false;
  earlier: Entry | undefined = undefined;
  later: Entry | undefined = undefined;
  constructor(readonly name: string) {}
}

/** Runs `body` on a TestScheduler; returns the expiries as `name@frame`. */
function play(
  timeout: number,
  body: (list: DeadlineList<Entry>, at: (frame: number, work: () => void) => void) => void,
  onExpire?: (entry: Entry, list: DeadlineList<Entry>) => void,
): string[] {
  const expired: string[] = [];
  const scheduler = new TestScheduler(() => {});
  scheduler.run(() => {
    const list: DeadlineList<Entry> = new DeadlineList<Entry>(scheduler, timeout, (entry) => {
      expired.push(`${entry.name}@${scheduler.now()}`);
      onExpire?.(entry, list);
    });
    body(list, (frame, work) => scheduler.schedule(work, frame));
  });
  return expired;
}

describe('DeadlineList', () => {
  it('expires each entry timeout after it was added, in order, those removed excepted', () => {
    const a = new Entry('a');
    const b = new Entry('b');
    const c = new Entry('c');
    const d = new Entry('d');
    const expired = play(5, (list, at) => {
      at(0, () => list.add(a));
      at(1, () => list.add(b));
      at(2, () => list.add(c));
      at(3, () => list.remove(a)); // the head: the timer armed for 5 finds nothing, re-arms
      at(4, () => list.remove(c)); // the tail
      at(9, () => list.add(d));
    });
    expect(expired).toEqual(['b@6', 'd@14']);
    expect([a, b, c, d].map((entry) => entry.listed)).toEqual([false, false, false, false]);
  });

  it('removes an entry from the middle and ignores removing one that is not listed', () => {
    const [a, b, c] = [new Entry('a'), new Entry('b'), new Entry('c')];
    const expired = play(3, (list, at) => {
      at(0, () => {
        list.add(a);
        list.add(b);
        list.add(c);
        list.remove(b);
        list.remove(b);
      });
    });
    expect(expired).toEqual(['a@3', 'c@3']);
  });

  it('lets an expiry add entries, which get a timeout of their own', () => {
    const a = new Entry('a');
    const expired = play(
      2,
      (list, at) => at(0, () => list.add(a)),
      (entry, list) => {
        if (entry.deadline < 6) list.add(entry);
      },
    );
    expect(expired).toEqual(['a@2', 'a@4', 'a@6']);
  });

  it('clear forgets every entry and cancels the timer', () => {
    const timers: Subscription[] = [];
    const scheduler: SchedulerLike = {
      now: () => 0,
      schedule: () => {
        const timer = new Subscription();
        timers.push(timer);
        return timer;
      },
    };
    const list = new DeadlineList<Entry>(scheduler, 10, () => {
      throw new Error('nothing expires');
    });
    const [a, b] = [new Entry('a'), new Entry('b')];
    list.add(a);
    list.add(b);
    expect(timers).toHaveLength(1); // one timer for both
    list.clear();
    expect(timers[0]?.closed).toBe(true);
    expect([a.listed, b.listed, a.later, b.earlier]).toEqual([false, false, undefined, undefined]);
    list.add(b);
    expect(timers).toHaveLength(2);
  });
});

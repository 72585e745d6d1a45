import { Observable, Subscriber } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { NotifierTicks } from '../../src/internal/NotifierTicks.js';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** An owner subscriber standing for an operator's downstream. */
function owner(): Subscriber<unknown> {
  return new Subscriber<unknown>();
}

describe('NotifierTicks', () => {
  it('is subscribed only between start and stop, and calls tick for each value', () => {
    testScheduler().run(({ cold, expectSubscriptions }) => {
      const notifier = cold('  --a--b--c--d');
      const subs = '          ^------!';
      const seen: string[] = [];
      const ticks = new NotifierTicks(owner(), notifier, {
        tick: () => seen.push('tick'),
        error: () => seen.push('error'),
        end: () => seen.push('end'),
      });
      ticks.start();
      ticks.start(); // already subscribed: nothing more
      expect(ticks.isActive).toBe(true);
      cold('-------x').subscribe(() => ticks.stop());
      expectSubscriptions(notifier.subscriptions).toBe(subs);
      cold('---------x').subscribe(() => {
        expect(seen).toEqual(['tick', 'tick']);
        expect(ticks.isActive).toBe(false);
      });
    });
  });

  it('is inactive when its end handler runs: the handler may subscribe the notifier anew', () => {
    testScheduler().run(({ cold, expectSubscriptions }) => {
      const notifier = cold(' --a|');
      const subs = ['         ^--!', '   ---^--!'];
      let ends = 0;
      const ticks: NotifierTicks = new NotifierTicks(owner(), notifier, {
        tick: () => {},
        error: () => {},
        end: () => {
          ends += 1;
          expect(ticks.isActive).toBe(false);
          if (ends === 1) ticks.start();
        },
      });
      ticks.start();
      expectSubscriptions(notifier.subscriptions).toBe(subs);
    });
  });

  it('is inactive when its error handler runs, and a refused input reaches that handler', () => {
    const errors: unknown[] = [];
    const failing = new Observable<never>((s) => s.error(new Error('boom')));
    const ticks: NotifierTicks = new NotifierTicks(owner(), failing, {
      tick: () => {},
      error: (error) => errors.push([error, ticks.isActive]),
      end: () => {},
    });
    ticks.start();
    expect(errors).toEqual([[new Error('boom'), false]]);
    const refused = new NotifierTicks(owner(), 42 as never, {
      tick: () => {},
      error: (error) => errors.push(error),
      end: () => {},
    });
    refused.start();
    expect(errors[1]).toBeInstanceOf(TypeError);
  });

  it("subscribes nothing once its owner is closed, and stops with the owner's unsubscribe", () => {
    testScheduler().run(({ cold, expectSubscriptions }) => {
      const notifier = cold(' --a--b');
      const subs = '          ^--!';
      const downstream = owner();
      const ticks = new NotifierTicks(downstream, notifier, {
        tick: () => {},
        error: () => {},
        end: () => {},
      });
      ticks.start();
      cold('---x').subscribe(() => {
        downstream.unsubscribe();
        ticks.stop();
        ticks.start();
      });
      expectSubscriptions(notifier.subscriptions).toBe(subs);
    });
  });
});

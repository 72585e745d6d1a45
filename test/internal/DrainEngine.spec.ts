import fc from 'fast-check';
import { queueScheduler, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { PushOutcome } from '../../src/core/OverflowQueue.js';
import { OverflowQueue } from '../../src/core/OverflowQueue.js';
import type { OverflowNotice } from '../../src/core/types.js';
import {
  DrainEngine,
  type DrainEngineConfig,
  type DrainSink,
  type PushQueue,
} from '../../src/internal/DrainEngine.js';

/** A FIFO whose notices are set by the test: `gaps` maps an item to the notice taken after it. */
class ScriptedQueue implements PushQueue<string, string> {
  items: string[] = [];
  gaps = new Map<string, string>();
  lastTaken: string | undefined;
  pushError: unknown;
  overflowOn: string | undefined;
  cleared = 0;

  get isEmpty(): boolean {
    return this.items.length === 0;
  }
  get size(): number {
    return this.items.length;
  }
  push(value: string): PushOutcome {
    if (this.pushError !== undefined) throw this.pushError;
    if (value === this.overflowOn) return 'overflow';
    this.items.push(value);
    return 'queued';
  }
  overflowError(value: string): Error {
    return new Error(`overflow ${value}`);
  }
  shift(): string {
    const item = this.items.shift();
    if (item === undefined) throw new RangeError('empty');
    this.lastTaken = item;
    return item;
  }
  takeNotice(): string | undefined {
    const key = this.lastTaken ?? '';
    const notice = this.gaps.get(key);
    this.gaps.delete(key);
    this.lastTaken = undefined;
    return notice;
  }
  clear(): void {
    this.items = [];
    this.cleared++;
  }
}

/** Records everything that reaches the sink, in order. */
class RecordingSink implements DrainSink<string, string> {
  log: string[] = [];
  closed = false;
  onDeliver: ((item: string) => void) | undefined;
  onGap: ((notice: string) => void) | undefined;

  deliver(item: string): void {
    this.log.push(item);
    this.onDeliver?.(item);
  }
  reportGap(notice: string): void {
    this.log.push(`gap:${notice}`);
    this.onGap?.(notice);
  }
  complete(): void {
    this.log.push('|');
    this.closed = true;
  }
  error(error: unknown): void {
    this.log.push(`#${error instanceof Error ? error.message : String(error)}`);
    this.closed = true;
  }
}

function setup(config: Partial<DrainEngineConfig> = {}) {
  const queue = new ScriptedQueue();
  const sink = new RecordingSink();
  let sourceStops = 0;
  const engine = new DrainEngine<string, string>(queue, sink, {
    schedule: 'now',
    stopSource: () => {
      sourceStops++;
    },
    ...config,
  });
  return { queue, sink, engine, stops: () => sourceStops };
}

describe('DrainEngine', () => {
  describe("the order of a step: take the item, then its gap's notice, report, deliver", () => {
    it('reports the gap taken after the item, just before delivering it', () => {
      const { queue, sink, engine } = setup();
      queue.gaps.set('b', 'ab');
      engine.accept('a');
      engine.accept('b');
      expect(sink.log).toEqual(['a', 'gap:ab', 'b']);
    });

    it('a push during the gap report waits behind the item being delivered', () => {
      const { queue, sink, engine } = setup({ credits: 0 });
      queue.gaps.set('a', 'g');
      sink.onGap = () => engine.accept('c');
      engine.accept('a');
      engine.accept('b');
      engine.grant(3);
      expect(sink.log).toEqual(['gap:g', 'a', 'b', 'c']);
    });

    it('stops without delivering when the consumer leaves during the gap report', () => {
      const { queue, sink, engine } = setup({ credits: 0 });
      queue.gaps.set('a', 'g');
      sink.onGap = () => {
        sink.closed = true;
      };
      engine.accept('a');
      engine.accept('b');
      expect(() => engine.grant(2)).not.toThrow();
      expect(sink.log).toEqual(['gap:g']);
      expect(queue.items).toEqual(['b']);
    });

    it('stops when the stream is disposed during the gap report', () => {
      const { queue, sink, engine } = setup({ credits: 0 });
      queue.gaps.set('a', 'g');
      sink.onGap = () => engine.dispose();
      engine.accept('a');
      engine.accept('b');
      engine.grant(2);
      expect(sink.log).toEqual(['gap:g']);
      expect(queue.cleared).toBe(1);
    });

    it('is never re-entered: a push from inside deliver is taken by the running step', () => {
      const { sink, engine } = setup();
      let depth = 0;
      let deepest = 0;
      sink.onDeliver = (item) => {
        depth++;
        deepest = Math.max(deepest, depth);
        if (item.length < 3) engine.accept(`${item}+`);
        depth--;
      };
      engine.accept('a');
      expect(sink.log).toEqual(['a', 'a+', 'a++']);
      expect(deepest).toBe(1);
    });

    it('a source completing or erring from inside deliver ends after the items still queued', () => {
      const queued = setup({ credits: 0 });
      queued.sink.onDeliver = (item) => {
        if (item === 'a') queued.engine.error(new Error('source failed'));
      };
      queued.engine.accept('a');
      queued.engine.accept('b');
      queued.engine.grant(5);
      expect(queued.sink.log).toEqual(['a', 'b', '#source failed']);

      const { sink, engine } = setup({ credits: 0 });
      sink.onDeliver = (item) => {
        if (item === 'a') engine.complete();
      };
      engine.accept('a');
      engine.accept('b');
      engine.grant(5);
      expect(sink.log).toEqual(['a', 'b', '|']);
    });

    it('a throwing reportGap or deliver errors the stream at once and stops the source', () => {
      const gapThrows = setup();
      gapThrows.queue.gaps.set('a', 'g');
      gapThrows.sink.onGap = () => {
        throw new Error('gap failed');
      };
      gapThrows.engine.accept('a');
      expect(gapThrows.sink.log).toEqual(['gap:g', '#gap failed']);
      expect(gapThrows.stops()).toBe(1);
      expect(gapThrows.engine.isEnded).toBe(true);

      const deliverThrows = setup();
      deliverThrows.sink.onDeliver = () => {
        throw new Error('deliver failed');
      };
      deliverThrows.engine.accept('a');
      deliverThrows.engine.accept('b');
      expect(deliverThrows.sink.log).toEqual(['a', '#deliver failed']);
      expect(deliverThrows.queue.cleared).toBe(1);
      // Ended: later grants deliver nothing.
      deliverThrows.engine.grant(1);
      expect(deliverThrows.sink.log).toEqual(['a', '#deliver failed']);
    });
  });

  describe('the gate', () => {
    it("'now' with credits: takes as many items as granted; credits accumulate", () => {
      const { sink, engine } = setup({ credits: 0 });
      for (const item of ['a', 'b', 'c', 'd']) engine.accept(item);
      expect(sink.log).toEqual([]);
      engine.grant(1);
      expect(sink.log).toEqual(['a']);
      engine.grant(2);
      expect(sink.log).toEqual(['a', 'b', 'c']);
      engine.grant(5);
      expect(sink.log).toEqual(['a', 'b', 'c', 'd']);
      engine.accept('e');
      engine.accept('f');
      engine.accept('g');
      engine.accept('h');
      engine.accept('i');
      expect(sink.log.slice(4)).toEqual(['e', 'f', 'g', 'h']);
    });

    it('setCredits replaces the gate: below zero it stays closed until that many grants return', () => {
      const { sink, engine } = setup({ credits: 0 });
      for (const item of ['a', 'b', 'c', 'd', 'e']) engine.accept(item);
      engine.setCredits(2);
      expect(sink.log).toEqual(['a', 'b']);
      engine.setCredits(-1); // a limit lowered below what is held
      engine.grant(1);
      expect(sink.log).toEqual(['a', 'b']);
      engine.grant(1);
      expect(sink.log).toEqual(['a', 'b', 'c']);
      engine.setCredits(Number.POSITIVE_INFINITY);
      expect(sink.log).toEqual(['a', 'b', 'c', 'd', 'e']);
      engine.setCredits(0); // from unlimited back to a limit: no NaN, the gate closes
      engine.accept('f');
      expect(sink.log).toHaveLength(5);
      engine.grant(1);
      expect(sink.log).toHaveLength(6);
    });

    it("'now' without credits given is unlimited", () => {
      const { sink, engine } = setup();
      for (const item of ['a', 'b', 'c']) engine.accept(item);
      expect(sink.log).toEqual(['a', 'b', 'c']);
    });

    it("'tick' takes what is queued at the tick; values pushed during it wait for the next", () => {
      const { sink, engine } = setup({ schedule: 'tick' });
      engine.accept('a');
      engine.accept('b');
      expect(sink.log).toEqual([]);
      sink.onDeliver = (item) => {
        if (item === 'a') engine.accept('x');
      };
      engine.tick();
      expect(sink.log).toEqual(['a', 'b']);
      engine.grant(10); // credits belong to ticks under 'tick': reset after each
      engine.tick();
      expect(sink.log).toEqual(['a', 'b', 'x']);
      engine.accept('y');
      engine.request();
      expect(sink.log).toEqual(['a', 'b', 'x']);
    });
  });

  describe('scheduling (a scheduler that runs tasks at once, queueScheduler, included)', () => {
    it('queueScheduler delivers every value, also values pushed later', () => {
      const { sink, engine } = setup({ schedule: queueScheduler });
      engine.accept('a');
      engine.accept('b');
      engine.accept('c');
      expect(sink.log).toEqual(['a', 'b', 'c']);
      engine.complete();
      expect(sink.log).toEqual(['a', 'b', 'c', '|']);
    });

    it('a deferred scheduler: one task for a burst; a push during the task runs in the next', () => {
      const tasks: Array<() => void> = [];
      const cancelled: number[] = [];
      const deferred: SchedulerLike = {
        now: () => 0,
        schedule: (work) => {
          const index = tasks.push(() => (work as () => void)()) - 1;
          return {
            closed: false,
            unsubscribe: () => cancelled.push(index),
          } as never;
        },
      };
      const { sink, engine } = setup({ schedule: deferred });
      engine.accept('a');
      engine.accept('b');
      expect(tasks).toHaveLength(1);
      sink.onDeliver = (item) => {
        if (item === 'a') engine.accept('x');
      };
      tasks[0]?.();
      expect(sink.log).toEqual(['a', 'b']);
      expect(tasks).toHaveLength(2);
      tasks[1]?.();
      expect(sink.log).toEqual(['a', 'b', 'x']);
      engine.accept('c');
      expect(tasks).toHaveLength(3);
      engine.dispose();
      expect(cancelled).toEqual([2]);
    });

    it('cancels the task still to run when a task that ran at once scheduled another', () => {
      const cancelled: string[] = [];
      let calls = 0;
      // The first task runs at once (as queueScheduler does outside a task); later ones wait.
      const scheduler: SchedulerLike = {
        now: () => 0,
        schedule: (work) => {
          calls++;
          const name = `task${calls}`;
          if (calls === 1) (work as () => void)();
          return { closed: false, unsubscribe: () => cancelled.push(name) } as never;
        },
      };
      const { sink, engine } = setup({ schedule: scheduler });
      sink.onDeliver = (item) => {
        if (item === 'a') engine.accept('b');
      };
      engine.accept('a');
      expect(sink.log).toEqual(['a']);
      expect(calls).toBe(2);
      engine.dispose();
      expect(cancelled).toEqual(['task2']);
    });

    it('a scheduled stream that completes empty ends at once, without a task', () => {
      const tasks: unknown[] = [];
      const deferred: SchedulerLike = {
        now: () => 0,
        schedule: (work) => {
          tasks.push(work);
          return { closed: false, unsubscribe: () => {} } as never;
        },
      };
      const { sink, engine } = setup({ schedule: deferred });
      engine.complete();
      expect(sink.log).toEqual(['|']);
      expect(tasks).toEqual([]);
    });

    it('a scheduled stream completes once the queue is empty; an empty one at once', () => {
      const empty = setup({ schedule: queueScheduler });
      empty.engine.complete();
      expect(empty.sink.log).toEqual(['|']);
    });
  });

  describe('the end', () => {
    it('complete and error wait for the queued items, without credit', () => {
      const completing = setup({ credits: 0 });
      completing.engine.accept('a');
      completing.engine.complete();
      expect(completing.sink.log).toEqual([]);
      completing.engine.grant(1);
      expect(completing.sink.log).toEqual(['a', '|']);

      const erring = setup({ credits: 0 });
      erring.engine.accept('a');
      erring.engine.error(new Error('boom'));
      erring.engine.accept('late');
      erring.engine.grant(5);
      expect(erring.sink.log).toEqual(['a', '#boom']);
    });

    it('reports the last gap before ending', () => {
      const { queue, sink, engine } = setup();
      queue.gaps.set('', 'tail');
      engine.complete();
      expect(sink.log).toEqual(['gap:tail', '|']);
    });

    it('a throwing last gap report errors instead of completing', () => {
      const { queue, sink, engine } = setup();
      queue.gaps.set('', 'tail');
      sink.onGap = () => {
        throw new Error('report failed');
      };
      engine.complete();
      expect(sink.log).toEqual(['gap:tail', '#report failed']);
    });

    it('a consumer leaving during the last gap report gets no end', () => {
      const { queue, sink, engine } = setup();
      queue.gaps.set('', 'tail');
      sink.onGap = () => {
        sink.closed = true;
      };
      engine.error(new Error('x'));
      expect(sink.log).toEqual(['gap:tail']);
    });

    it('waits until the sink is settled', () => {
      let inFlight = 1;
      const { sink, engine } = setup({ settled: () => inFlight === 0 });
      engine.complete();
      expect(sink.log).toEqual([]);
      inFlight = 0;
      engine.request();
      expect(sink.log).toEqual(['|']);
    });

    it('a push that throws stops the source; the error follows the queued values', () => {
      const { queue, sink, engine, stops } = setup({ credits: 0 });
      engine.accept('a');
      queue.pushError = new Error('classify failed');
      engine.accept('b');
      expect(stops()).toBe(1);
      expect(engine.isSourceDone).toBe(true);
      queue.pushError = undefined;
      engine.accept('c');
      engine.grant(5);
      expect(sink.log).toEqual(['a', '#classify failed']);
    });

    it("the 'error' policy's overflow stops the source with the queue's overflow error", () => {
      const { queue, sink, engine, stops } = setup({ credits: 0 });
      queue.overflowOn = 'b';
      engine.accept('a');
      engine.accept('b');
      expect(stops()).toBe(1);
      engine.grant(1);
      expect(sink.log).toEqual(['a', '#overflow b']);
    });

    it('fail errors at once, dropping what is queued; later calls do nothing', () => {
      const { queue, sink, engine, stops } = setup({ credits: 0 });
      engine.accept('a');
      engine.fail(new Error('notifier failed'));
      expect(sink.log).toEqual(['#notifier failed']);
      expect(queue.cleared).toBe(1);
      expect(stops()).toBe(1);
      engine.fail(new Error('again'));
      engine.complete();
      engine.error(new Error('again'));
      engine.stop(new Error('again'));
      engine.tick();
      expect(sink.log).toEqual(['#notifier failed']);
      expect(stops()).toBe(1);
    });

    it('the first end wins, also while values are still queued', () => {
      const { sink, engine } = setup({ credits: 0 });
      engine.accept('a');
      engine.complete();
      engine.error(new Error('late'));
      engine.stop(new Error('later'));
      engine.grant(1);
      expect(sink.log).toEqual(['a', '|']);
    });

    it('ends once, also with a sink that does not close itself (the pull bridge)', () => {
      const { sink, engine } = setup();
      sink.complete = () => {
        sink.log.push('|');
      };
      engine.complete();
      engine.request();
      engine.grant(1);
      engine.tick();
      expect(sink.log).toEqual(['|']);
    });

    it('queues nothing once disposed', () => {
      const { queue, sink, engine } = setup({ credits: 0 });
      engine.dispose();
      engine.accept('a');
      engine.grant(1);
      expect(queue.items).toEqual([]);
      expect(sink.log).toEqual([]);
    });

    it('works without a stopSource hook', () => {
      const queue = new ScriptedQueue();
      const sink = new RecordingSink();
      const engine = new DrainEngine<string, string>(queue, sink, { schedule: 'now', credits: 0 });
      engine.accept('a');
      expect(() => engine.stop(new Error('stopped'))).not.toThrow();
      engine.grant(1);
      expect(sink.log).toEqual(['a', '#stopped']);
      const failing = new DrainEngine<string, string>(new ScriptedQueue(), new RecordingSink(), {
        schedule: 'now',
      });
      expect(() => failing.fail(new Error('x'))).not.toThrow();
    });

    it('the first end wins', () => {
      const { sink, engine } = setup();
      engine.complete();
      engine.error(new Error('late'));
      expect(sink.log).toEqual(['|']);
    });
  });

  it('runs afterDrain after each drain that left the stream open', () => {
    let runs = 0;
    const { sink, engine } = setup({
      afterDrain: () => {
        runs++;
      },
    });
    engine.accept('a');
    expect(runs).toBe(1);
    sink.closed = true;
    engine.accept('b');
    expect(runs).toBe(1);
  });

  it('matches a reference model over any interleaving of pushes, grants and ends', () => {
    type Step = { op: 'push'; value: number } | { op: 'grant'; n: number };
    const step = fc.oneof(
      fc.record({ op: fc.constant('push' as const), value: fc.integer({ min: 0, max: 99 }) }),
      fc.record({ op: fc.constant('grant' as const), n: fc.integer({ min: 0, max: 3 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(step as fc.Arbitrary<Step>, { maxLength: 40 }),
        fc.integer({ min: 1, max: 5 }),
        (steps, capacity) => {
          const queue = new OverflowQueue<number>({ capacity, overflow: 'drop-oldest' });
          const delivered: number[] = [];
          const gaps: OverflowNotice<number>[] = [];
          const engine = new DrainEngine(
            queue,
            {
              closed: false,
              deliver: (value: number) => delivered.push(value),
              reportGap: (notice: OverflowNotice<number>) => gaps.push(notice),
              complete: () => {},
              error: () => {},
            },
            { schedule: 'now', credits: 0 },
          );
          // Reference: a plain array, oldest dropped beyond capacity, credits counted.
          const model: number[] = [];
          const expected: number[] = [];
          let credits = 0;
          let dropped = 0;
          for (const s of steps) {
            if (s.op === 'push') {
              engine.accept(s.value);
              model.push(s.value);
              if (model.length > capacity) {
                model.shift();
                dropped++;
              }
            } else if (s.op === 'grant') {
              engine.grant(s.n);
              credits += s.n;
            }
            while (credits > 0 && model.length > 0) {
              credits--;
              expected.push(model.shift() as number);
            }
          }
          expect(delivered).toEqual(expected);
          const reported = gaps.reduce((sum, gap) => sum + gap.dropped, 0);
          expect(reported + (queue.takeNotice()?.dropped ?? 0)).toBe(dropped);
        },
      ),
    );
  });
});

import { describe, expect, it } from 'vitest';
import { boundedQueue } from '../../src/index.js';
import {
  createTestBus,
  createTestScheduler,
  DemandDeadlockError,
  demandFrom,
  framesMarble,
  publishMarble,
} from '../../src/testing/index.js';

describe('demandFrom', () => {
  it('grants digits, i (Infinity) and letters mapped by values, one character per frame', () => {
    createTestScheduler().run(({ expectObservable }) => {
      const grants = demandFrom('1-9-i-(ab)|', { a: 10, b: 100 });
      const expected = '         1-9-i-(ab)|';
      expectObservable(grants).toBe(expected, { 1: 1, 9: 9, i: Infinity, a: 10, b: 100 });
    });
  });

  it('is the demand of boundedQueue: values wait for credit', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const source = cold('      -a-b-c---|');
      const demand = demandFrom('1----2');
      const expected = '         -a---(bc)|';
      expectObservable(source.pipe(boundedQueue({ capacity: 4, overflow: 'error', demand }))).toBe(
        expected,
      );
    });
  });

  it('is the demand of a bus queue', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      const demand = demandFrom('-----2');
      const frames = bus.select({}, { queue: { capacity: 4, overflow: 'error', demand } });
      publishMarble(bus, '       -a-b-|', { a: { kind: 'x' }, b: { kind: 'y' } });
      const expected = '         -----(ab|)';
      expectObservable(framesMarble(frames, bus)).toBe(expected);
    });
  });

  it('fails the stream with a message when it never requests anything while values wait', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const source = cold('      -a-b-|');
      const demand = demandFrom('------');
      const queued = boundedQueue<string>({
        capacity: 4,
        overflow: 'error',
        demand,
        inspect: demand.inspect,
      });
      const expected = '         -----#';
      const deadlock = new DemandDeadlockError(
        "demandFrom('------'): the demand marble never requests anything, but 2 values wait in " +
          'the queue at frame 5 (0 delivered): they would never be delivered. Request more in ' +
          'the marble, or give the queue an initialDemand.',
        2,
      );
      expectObservable(source.pipe(queued)).toBe(expected, undefined, deadlock);
    });
  });

  it('says how much it granted when it stops requesting while values wait', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const source = cold('      -a-b-c-|');
      const demand = demandFrom('1----');
      const queued = boundedQueue<string>({
        capacity: 4,
        overflow: 'error',
        demand,
        inspect: demand.inspect,
      });
      const expected = '         -a--#';
      expectObservable(source.pipe(queued)).toBe(expected, { a: 'a' }, expect.any(Error));
    });
    const demand = demandFrom('1--');
    const errors: unknown[] = [];
    demand.inspect(() => ({ depth: 1, delivered: 1 }) as never);
    createTestScheduler().run(() => {
      demand.subscribe({ error: (error) => errors.push(error) });
    });
    expect(errors).toEqual([
      expect.objectContaining({
        name: 'DemandDeadlockError',
        waiting: 1,
        message: expect.stringContaining('requests nothing after its 1 values, but 1 value wait'),
      }),
    ]);
  });

  it('lets a queue that holds nothing when the marble ends go on', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const source = cold('      -a-|');
      const demand = demandFrom('1--|');
      const queued = boundedQueue<string>({
        capacity: 4,
        overflow: 'error',
        demand,
        inspect: demand.inspect,
      });
      const expected = '         -a-|';
      expectObservable(source.pipe(queued)).toBe(expected);
    });
  });

  it('refuses, at creation, a character that is not a demand, and #', () => {
    expect(() => demandFrom('-x')).toThrow(
      new RangeError(
        `demandFrom: "x" at frame 1 of '-x' is not a demand: write 1-9, i (Infinity), or a letter that values maps to a non-negative integer`,
      ),
    );
    expect(() => demandFrom('0')).toThrow(RangeError);
    expect(() => demandFrom('a', { a: -1 })).toThrow(/-1 at frame 0 of 'a' is not a demand/);
    expect(() => demandFrom('a', { a: 1.5 })).toThrow(RangeError);
    expect(() => demandFrom('-#')).toThrow(
      "demandFrom: '#' at frame 1 of '-#': a demand never errors",
    );
  });
});

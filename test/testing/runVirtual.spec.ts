import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { drainWith, toAsyncIterable } from '../../src/index.js';
import { runVirtual } from '../../src/testing/index.js';

const scheduler = () => new TestScheduler(() => {});

describe('runVirtual', () => {
  it('runs a real async handler of drainWith under virtual time', async () => {
    await runVirtual(scheduler(), async ({ cold, promiseAt, expectObservable, scheduler }) => {
      const source = cold('    -a-b-|');
      const handled = source.pipe(
        drainWith(
          async (value: string) => {
            const suffix = await promiseAt('--x', { x: '!' });
            return `${value}${suffix}`;
          },
          { capacity: 4, overflow: 'error', scheduler },
        ),
      );
      const expected = '      ---x-(y|)';
      expectObservable(handled).toBe(expected, { x: 'a!', y: 'b!' });
    });
  });

  it('runs a real for await loop over toAsyncIterable under virtual time', async () => {
    const seen = await runVirtual(scheduler(), async ({ cold, now, wait }) => {
      const source = cold('-a-b-c|');
      const values: string[] = [];
      for await (const value of toAsyncIterable(source, { capacity: 1, overflow: 'drop-oldest' })) {
        values.push(`${value}@${now()}`);
        await wait(5); // a slow consumer: c evicts b while it handles a
      }
      return values;
    });
    expect(seen).toEqual(['a@1', 'c@6']);
  });

  it('steps through an iterable: next, silence, end', async () => {
    await runVirtual(scheduler(), async ({ cold, stepIterable, now }) => {
      const step = stepIterable(
        toAsyncIterable(cold('-a---b|'), { capacity: 4, overflow: 'error' }),
      );
      expect(await step.expectNext('a')).toBe('a');
      expect(now()).toBe(1);
      await step.expectNoValueFor(3);
      await step.expectNext();
      expect(now()).toBe(5);
      await step.expectDone();
    });
  });

  it('steps to an error, and cancels an iteration', async () => {
    await runVirtual(scheduler(), async ({ cold, stepIterable }) => {
      const failing = stepIterable(
        toAsyncIterable(cold('-#', undefined, new Error('down')), {
          capacity: 4,
          overflow: 'error',
        }),
      );
      expect(await failing.expectError(new Error('down'))).toEqual(new Error('down'));
      const source = new Subject<number>();
      const cancelled = stepIterable(toAsyncIterable(source, { capacity: 4, overflow: 'error' }));
      const first = cancelled.expectNext(1); // the first next() subscribes
      source.next(1);
      await first;
      await cancelled.cancel();
      expect(source.observed).toBe(false);
    });
  });

  describe('failures say what happened, and when', () => {
    const fails = (test: Parameters<typeof runVirtual>[1]) =>
      runVirtual(scheduler(), test).then(
        () => 'passed',
        (error: Error) => `${error.name}: ${error.message}`,
      );

    it('expectNext: another value, the end, an error', async () => {
      expect(
        await fails(async ({ cold, stepIterable }) => {
          await stepIterable(
            toAsyncIterable(cold('--b'), { capacity: 1, overflow: 'error' }),
          ).expectNext('a');
        }),
      ).toBe('ExpectationError: stepIterable: expected "a" at frame 2, got "b"');
      expect(
        await fails(async ({ cold, stepIterable }) => {
          await stepIterable(
            toAsyncIterable(cold('-|'), { capacity: 1, overflow: 'error' }),
          ).expectNext();
        }),
      ).toBe('ExpectationError: stepIterable: expected a value at frame 1, got the end');
      expect(
        await fails(async ({ cold, stepIterable }) => {
          const it = stepIterable(
            toAsyncIterable(cold('#', undefined, new Error('x')), {
              capacity: 1,
              overflow: 'error',
            }),
          );
          await it.expectNext();
        }),
      ).toBe('ExpectationError: stepIterable: expected a value at frame 0, got error Error: x');
    });

    it('expectNoValueFor: a value inside the window', async () => {
      expect(
        await fails(async ({ cold, stepIterable }) => {
          const step = stepIterable(
            toAsyncIterable(cold('--a'), { capacity: 1, overflow: 'error' }),
          );
          await step.expectNoValueFor(3);
        }),
      ).toBe(
        'ExpectationError: stepIterable: expected no value for 3 frames from frame 0, got "a" at frame 2',
      );
    });

    it('expectNoValueFor keeps a value that arrives at its last frame for the next step', async () => {
      await runVirtual(scheduler(), async ({ cold, stepIterable }) => {
        const step = stepIterable(
          toAsyncIterable(cold('---a'), { capacity: 1, overflow: 'error' }),
        );
        await step.expectNoValueFor(3);
        await step.expectNext('a');
      });
    });

    it('expectDone and expectError: something else came', async () => {
      expect(
        await fails(async ({ cold, stepIterable }) => {
          await stepIterable(
            toAsyncIterable(cold('-a'), { capacity: 1, overflow: 'error' }),
          ).expectDone();
        }),
      ).toBe('ExpectationError: stepIterable: expected the end at frame 1, got "a"');
      expect(
        await fails(async ({ cold, stepIterable }) => {
          await stepIterable(
            toAsyncIterable(cold('-|'), { capacity: 1, overflow: 'error' }),
          ).expectError();
        }),
      ).toBe('ExpectationError: stepIterable: expected an error at frame 1, got the end');
    });

    it('expectObservable: aligned marbles, the first differing frame marked', async () => {
      expect(
        await fails(async ({ cold, expectObservable }) => {
          expectObservable(cold('-a-b|')).toBe('-a-c|');
        }),
      ).toBe(
        [
          'ExpectationError: marbles differ at frame 3:',
          '  expected  -a-c|',
          '  actual    -a-b|',
          '               ^ expected "c", got "b"',
        ].join('\n'),
      );
    });

    it('a test that waits for what no frame will bring', async () => {
      expect(
        await fails(async ({ cold, stepIterable }) => {
          const step = stepIterable(
            toAsyncIterable(cold('-a'), { capacity: 1, overflow: 'error' }),
          );
          await step.expectNext('a');
          await step.expectNext('b');
        }),
      ).toBe(
        'ExpectationError: runVirtual: the test still waits at frame 1, but no frame is scheduled: ' +
          'it awaits a promise or an iterator that nothing will ever settle',
      );
      expect(
        await runVirtual(scheduler(), ({ wait }) => wait(50), { maxFrames: 10 }).catch(
          (error: Error) => error.message,
        ),
      ).toBe('runVirtual: the test still waits at frame 0, beyond maxFrames (10)');
    });

    it('promiseAt rejects at its # and refuses a marble with no event', async () => {
      expect(
        await fails(async ({ promiseAt }) => {
          await promiseAt('--#', undefined, new Error('late'));
        }),
      ).toBe('Error: late');
      expect(await fails(({ promiseAt }) => promiseAt('---'))).toBe(
        "RangeError: promiseAt: '---' has no event to settle the promise",
      );
    });
  });

  it('resolves with what the test returns, and leaves the scheduler as it found it', async () => {
    const testScheduler = scheduler();
    const before = testScheduler.maxFrames;
    expect(await runVirtual(testScheduler, async ({ promiseAt }) => promiseAt('-|'))).toBe(
      undefined,
    );
    expect(await runVirtual(testScheduler, () => 42)).toBe(42);
    expect(testScheduler.maxFrames).toBe(before);
  });

  it('uses demandFrom on its own scheduler', async () => {
    await runVirtual(scheduler(), async ({ demandFrom, expectObservable }) => {
      expectObservable(demandFrom('-2|')).toBe('-2|', { 2: 2 });
    });
  });
});

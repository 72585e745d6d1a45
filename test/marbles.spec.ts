import { type Observable, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { marbleSuites } from '../marbles/index.js';
import type { MarbleStream } from '../marbles/types.js';

describe.each(marbleSuites.map((suite) => [suite.operator, suite] as const))(
  '%s marble cases',
  (_name, suite) => {
    it.each(suite.cases.map((marbleCase) => [marbleCase.title, marbleCase] as const))(
      '%s',
      (_title, marbleCase) => {
        const scheduler = new TestScheduler((actual, expected) => {
          expect(actual).toEqual(expected);
        });
        scheduler.run(({ cold, hot, expectObservable, expectSubscriptions }) => {
          const inputs: Record<string, Observable<unknown>> = {};
          const checks: Array<() => void> = [];
          for (const [name, stream] of Object.entries(marbleCase.inputs) as Array<
            [string, MarbleStream]
          >) {
            const input = stream.hot
              ? hot(stream.marble, stream.values, stream.error)
              : cold(stream.marble, stream.values, stream.error);
            inputs[name] = input;
            const expectedSubscriptions = stream.subscriptions;
            if (expectedSubscriptions !== undefined) {
              checks.push(() =>
                expectSubscriptions(input.subscriptions).toBe(expectedSubscriptions),
              );
            }
          }
          const notices = new Subject<unknown>();
          const output = suite.build(marbleCase.options, inputs, {
            onOverflow: (notice) => notices.next(notice),
          });
          const { expected } = marbleCase;
          expectObservable(output, marbleCase.unsub).toBe(
            expected.marble,
            expected.values,
            expected.error,
          );
          expectObservable(notices).toBe(
            marbleCase.notices?.marble ?? '',
            marbleCase.notices?.values,
          );
          for (const check of checks) check();
        });
      },
    );
  },
);

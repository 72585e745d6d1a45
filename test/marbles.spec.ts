import { isDeepStrictEqual } from 'node:util';
import { type Observable, Subject, tap } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { marbleSuites } from '../marbles/index.js';
import type { MarbleCase, MarbleStream } from '../marbles/types.js';
import { type OverflowNotice, QueueOverflowError } from '../src/core/types.js';

/** Characters of a marble string that are not values. */
const MARBLE_SYNTAX = new Set(['-', ' ', '(', ')', '|', '#', '^', '!']);

/** The letters of a marble string's value events, in order. */
function marbleLetters(marble: string): string[] {
  return [...marble].filter((char) => !MARBLE_SYNTAX.has(char));
}

/** The value a letter of a stream stands for. */
function letterValue(stream: MarbleStream, letter: string): unknown {
  return stream.values !== undefined && letter in stream.values ? stream.values[letter] : letter;
}

/**
 * The streams a case's `dropped` letters come from: `source`, or every input when the operator
 * has no single source (mergeLanes, whose inputs are lanes).
 */
function droppedFrom(marbleCase: MarbleCase<unknown>): MarbleStream[] {
  const { source } = marbleCase.inputs;
  return source !== undefined ? [source] : Object.values(marbleCase.inputs);
}

/** What an output value carries of its input: a lane-tagged value's `value`, else itself. */
function carried(output: unknown): unknown {
  if (typeof output === 'object' && output !== null && 'lane' in output && 'value' in output) {
    return output.value;
  }
  return output;
}

function countEqual(values: unknown[], wanted: unknown): number {
  return values.filter((value) => isDeepStrictEqual(value, wanted)).length;
}

/**
 * Checks a case's `dropped` letters against what the run did: the notices reported (and the
 * notice of a `QueueOverflowError`) count exactly the declared values, each notice's `first` and
 * `last` are the first and last of its share of them in order, and no declared value reaches the
 * output more often than the source emitted it minus the times it is declared lost.
 */
function checkDropped(
  marbleCase: MarbleCase<unknown>,
  reported: OverflowNotice<unknown>[],
  outputs: unknown[],
): void {
  const streams = droppedFrom(marbleCase);
  const emitted = streams.flatMap((stream) =>
    marbleLetters(stream.marble).map((letter) => letterValue(stream, letter)),
  );
  const declared = (marbleCase.dropped ?? []).map((letter) => {
    const stream = streams.find((candidate) => marbleLetters(candidate.marble).includes(letter));
    expect(stream, `dropped letter ${letter} is not an event of the inputs`).toBeDefined();
    return letterValue(stream as MarbleStream, letter);
  });

  const gaps = reported.filter((notice) => notice.dropped > 0);
  const reportedCount = gaps.reduce((sum, notice) => sum + notice.dropped, 0);
  expect(reportedCount, 'values the notices report dropped vs the case’s `dropped`').toBe(
    declared.length,
  );
  let next = 0;
  for (const gap of gaps) {
    const share = declared.slice(next, next + gap.dropped);
    next += gap.dropped;
    expect(gap.first, 'a notice’s first dropped value').toStrictEqual(share[0]);
    expect(gap.last, 'a notice’s last dropped value').toStrictEqual(share[share.length - 1]);
  }

  const delivered = outputs.map(carried);
  for (const value of new Set(declared)) {
    const left = countEqual(emitted, value) - countEqual(declared, value);
    expect(
      countEqual(delivered, value),
      `${String(value)} is declared dropped but was delivered`,
    ).toBeLessThanOrEqual(left);
  }
}

describe.each(marbleSuites.map((suite) => [suite.operator, suite] as const))(
  '%s marble cases',
  (_name, suite) => {
    it.each(suite.cases.map((marbleCase) => [marbleCase.title, marbleCase] as const))(
      '%s',
      (_title, marbleCase) => {
        const scheduler = new TestScheduler((actual, expected) => {
          expect(actual).toEqual(expected);
        });
        const reported: OverflowNotice<unknown>[] = [];
        const outputs: unknown[] = [];
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
          const output = suite
            .build(marbleCase.options, inputs, {
              onOverflow: (notice) => {
                reported.push(notice);
                notices.next(notice);
              },
            })
            .pipe(
              tap({
                next: (value) => outputs.push(value),
                error: (error: unknown) => {
                  if (error instanceof QueueOverflowError) reported.push(error.notice);
                },
              }),
            );
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
        checkDropped(marbleCase, reported, outputs);
      },
    );
  },
);

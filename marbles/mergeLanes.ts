import { mergeMap, type Observable, of } from 'rxjs';
import type { Laned } from '../src/core/laneOrder.js';
import { coalesce, QueueOverflowError } from '../src/core/types.js';
import { type MergeLanesConfig, mergeLanes } from '../src/operators/mergeLanes.js';
import { notice } from './boundedQueue.js';
import { classifyLetter, concatText, LETTER_LEGEND } from './fixtures.js';
import { defineMarbleSuite } from './types.js';

/**
 * The options of a case: mergeLanes' own (the scheduler is the TestScheduler's), plus `chain`,
 * which puts `mergeMap(x => of(x))` before every lane and after the result, to show that
 * unsubscription chains are not broken.
 */
type Options = Omit<MergeLanesConfig<unknown>, 'scheduler'> & { chain?: boolean };

/** A released value as the output holds it. */
function laned(lane: string, laneSeq: number, value: unknown, late?: true): Laned<unknown> {
  return late ? { lane, laneSeq, value, late } : { lane, laneSeq, value };
}

/** Digits are their own timestamps. */
const digitTime = (value: unknown): number => Number(value);

/** Like {@link digitTime}, but throws on `x`: a timestamp callback that fails. */
const throwingTime = (value: unknown): number => {
  if (value === 'x') throw new Error('no time for x');
  return Number(value);
};

const byTimestamp = { order: 'timestamp', timestamp: digitTime } as const;

const passThrough = mergeMap((value: unknown) => of(value));

/**
 * mergeLanes has no single source: every input of a case is a lane, named after its key (the
 * runner does not need an input called `source`).
 */
export const mergeLanesSuite = defineMarbleSuite<Options>({
  operator: 'mergeLanes',
  legend: `Every input is a lane named after its key. In 'timestamp' cases a digit is a value whose timestamp is that digit. ${LETTER_LEGEND}`,
  build: (options, inputs, hooks) => {
    const { chain, ...config } = options;
    const lanes: Record<string, Observable<unknown>> = {};
    for (const [name, input] of Object.entries(inputs)) {
      lanes[name] = chain ? input.pipe(passThrough) : input;
    }
    const merged = mergeLanes(lanes, {
      ...config,
      lane:
        config.lane === undefined
          ? undefined
          : { ...config.lane, onOverflow: (gap) => hooks.onOverflow(gap) },
    });
    return chain ? merged.pipe(passThrough) : merged;
  },
  cases: [
    {
      title: "'arrival' order tags each value with its lane and a dense laneSeq",
      options: {},
      inputs: {
        a: { marble: '-x--y-|', subscriptions: '^-----!' },
        b: { marble: '--u--v--|', subscriptions: '^-------!' },
      },
      expected: {
        marble: '-AB-CD--|',
        values: {
          A: laned('a', 1, 'x'),
          B: laned('b', 1, 'u'),
          C: laned('a', 2, 'y'),
          D: laned('b', 2, 'v'),
        },
      },
    },
    {
      title: "'timestamp' order interleaves two lanes by timestamp, each waiting for the other",
      options: byTimestamp,
      inputs: {
        a: { marble: '-1--3--5|', subscriptions: '^-------!' },
        b: { marble: '--2--4--6---|', subscriptions: '^-----------!' },
      },
      expected: {
        marble: '--A-BC-D(EF)|',
        values: {
          A: laned('a', 1, '1'),
          B: laned('b', 1, '2'),
          C: laned('a', 2, '3'),
          D: laned('b', 2, '4'),
          E: laned('a', 3, '5'),
          F: laned('b', 3, '6'),
        },
      },
    },
    {
      title: 'equal timestamps come out in lane-id order, whichever lane arrived first',
      options: byTimestamp,
      inputs: {
        b: { marble: '-5-----|', subscriptions: '^------!' },
        a: { marble: '--5-|', subscriptions: '^---!' },
      },
      expected: {
        marble: '--A-B--|',
        values: { A: laned('a', 1, '5'), B: laned('b', 1, '5') },
      },
    },
    {
      title: 'a lane that completes stops holding the others back',
      options: byTimestamp,
      inputs: {
        a: { marble: '-1-|', subscriptions: '^--!' },
        b: { marble: '--2-3------|', subscriptions: '^----------!' },
      },
      expected: {
        marble: '--ABC------|',
        values: { A: laned('a', 1, '1'), B: laned('b', 1, '2'), C: laned('b', 2, '3') },
      },
    },
    {
      title: 'a silent lane holds the others back at most maxSkew',
      options: { ...byTimestamp, maxSkew: 3 },
      inputs: {
        a: { marble: '-1-----2--|', subscriptions: '^---------!' },
        b: { marble: '-----------|', subscriptions: '^----------!' },
      },
      expected: {
        marble: '----A-----B|',
        values: { A: laned('a', 1, '1'), B: laned('a', 2, '2') },
      },
    },
    {
      title: 'a value waits at most maxSkew for a silent lane',
      options: { ...byTimestamp, maxSkew: 3 },
      inputs: {
        a: { marble: '-1-2-----|', subscriptions: '^--------!' },
        b: { marble: '----------|', subscriptions: '^---------!' },
      },
      expected: {
        marble: '----A-B---|',
        values: { A: laned('a', 1, '1'), B: laned('a', 2, '2') },
      },
    },
    {
      title: 'without maxSkew a silent lane holds every value back until it completes',
      options: byTimestamp,
      inputs: {
        a: { marble: '-1-2|', subscriptions: '^---!' },
        b: { marble: '--------|', subscriptions: '^-------!' },
      },
      expected: {
        marble: '--------(AB|)',
        values: { A: laned('a', 1, '1'), B: laned('a', 2, '2') },
      },
    },
    {
      title: 'a value older than one already released is released at once, marked late',
      options: { ...byTimestamp, maxSkew: 2 },
      inputs: {
        a: { marble: '-3-----4---|', subscriptions: '^----------!' },
        b: { marble: '-----1----|', subscriptions: '^---------!' },
      },
      expected: {
        marble: '---A-B---C-|',
        values: { A: laned('a', 1, '3'), B: laned('b', 1, '1', true), C: laned('a', 2, '4') },
      },
    },
    {
      title:
        "isolation under 'arrival': a flooding lane drops its own progress, the quiet lane loses nothing",
      options: {
        lane: { capacity: 3, overflow: 'drop-progress', classify: classifyLetter },
      },
      inputs: {
        a: { marble: '-(pqrsT)-|', subscriptions: '^--------!' },
        b: { marble: '-x------y-|', subscriptions: '^---------!' },
      },
      expected: {
        marble: '-(ABCD)-E-|',
        values: {
          A: laned('a', 1, 'r'),
          B: laned('a', 2, 's'),
          C: laned('a', 3, 'T'),
          D: laned('b', 1, 'x'),
          E: laned('b', 2, 'y'),
        },
      },
      notices: { marble: '-n', values: { n: notice('drop-progress', 2, 0, 'p', 'q') } },
      dropped: ['p', 'q'],
    },
    {
      title: "isolation under 'timestamp': values held for order are bounded per lane",
      options: { ...byTimestamp, lane: { capacity: 2, overflow: 'drop-oldest' } },
      inputs: {
        a: { marble: '-(1234)------|', subscriptions: '^------------!' },
        b: { marble: '---------5----|', subscriptions: '^-------------!' },
      },
      expected: {
        marble: '---------(AB)C|',
        values: { A: laned('a', 1, '3'), B: laned('a', 2, '4'), C: laned('b', 1, '5') },
      },
      notices: { marble: '---------n', values: { n: notice('drop-oldest', 2, 0, '1', '2') } },
      dropped: ['1', '2'],
    },
    {
      title: 'coalesce in a lane merges that lane’s progress into one value',
      options: {
        lane: { capacity: 3, overflow: coalesce(concatText), classify: classifyLetter },
      },
      inputs: {
        a: { marble: '-(apqrs)-|', subscriptions: '^--------!' },
        b: { marble: '-(bc)----|', subscriptions: '^--------!' },
      },
      expected: {
        marble: '-(ABCD)--|',
        values: {
          A: laned('a', 1, 'a'),
          B: laned('a', 2, 'pqrs'),
          C: laned('b', 1, 'b'),
          D: laned('b', 2, 'c'),
        },
      },
      notices: { marble: '-n', values: { n: notice('coalesce', 0, 3) } },
    },
    {
      title: "a lane's 'error' policy ends the stream after the values queued before it",
      options: { lane: { capacity: 1, overflow: 'error' } },
      inputs: {
        a: { marble: '-(xy)-|', subscriptions: '^!' },
        b: { marble: '-------|', subscriptions: '^!' },
      },
      expected: {
        marble: '-(A#)',
        values: { A: laned('a', 1, 'x') },
        error: new QueueOverflowError(notice('error', 1, 0, 'y', 'y'), 1),
      },
      dropped: ['y'],
    },
    {
      title: 'an error in one lane releases every held value at once, in merge order, then errors',
      options: byTimestamp,
      inputs: {
        a: { marble: '-1-------|', subscriptions: '^-----!' },
        b: { marble: '--2--3#', error: 'boom', subscriptions: '^-----!' },
      },
      expected: {
        marble: '--A---(BC#)',
        values: { A: laned('a', 1, '1'), B: laned('b', 1, '2'), C: laned('b', 2, '3') },
        error: 'boom',
      },
    },
    {
      title: 'a value held in another lane goes out before the error, even one that sorts after it',
      options: byTimestamp,
      inputs: {
        a: { marble: '-1--3-----|', subscriptions: '^----!' },
        b: { marble: '--2--#', error: 'boom', subscriptions: '^----!' },
      },
      expected: {
        marble: '--A-B(C#)',
        values: { A: laned('a', 1, '1'), B: laned('b', 1, '2'), C: laned('a', 2, '3') },
        error: 'boom',
      },
    },
    {
      title: 'an error waits neither for a silent lane nor for maxSkew',
      options: { ...byTimestamp, maxSkew: 8 },
      inputs: {
        a: { marble: '-3-5------|', subscriptions: '^---!' },
        b: { marble: '-----------', subscriptions: '^---!' },
        c: { marble: '--1-#', error: 'boom', subscriptions: '^---!' },
      },
      expected: {
        marble: '----(ABC#)',
        values: { A: laned('c', 1, '1'), B: laned('a', 1, '3'), C: laned('a', 2, '5') },
        error: 'boom',
      },
    },
    {
      title: 'an error under arrival order passes at once',
      options: {},
      inputs: {
        a: { marble: '-x--#', subscriptions: '^---!' },
        b: { marble: '--y-----|', subscriptions: '^---!' },
      },
      expected: {
        marble: '-AB-#',
        values: { A: laned('a', 1, 'x'), B: laned('b', 1, 'y') },
        error: 'error',
      },
    },
    {
      title: 'a timestamp callback that throws errors the stream',
      options: { order: 'timestamp', timestamp: throwingTime },
      inputs: { a: { marble: '-1-x-2-|', subscriptions: '^--!' } },
      expected: {
        marble: '-A-#',
        values: { A: laned('a', 1, '1') },
        error: new Error('no time for x'),
      },
    },
    {
      title: 'a NaN timestamp errors the stream with a TypeError naming the lane',
      options: byTimestamp,
      inputs: { a: { marble: '-1-n-|', subscriptions: '^--!' } },
      expected: {
        marble: '-A-#',
        values: { A: laned('a', 1, '1') },
        error: new TypeError(
          'mergeLanes: timestamp must return a number (not NaN), got NaN in lane "a"',
        ),
      },
    },
    {
      title: 'timestamps going backwards within a lane error with a TypeError naming the lane',
      options: byTimestamp,
      inputs: {
        a: { marble: '-3-2-|', subscriptions: '^--!' },
        b: { marble: '-1-----|', subscriptions: '^--!' },
      },
      expected: {
        marble: '-A-(B#)',
        values: { A: laned('b', 1, '1'), B: laned('a', 1, '3') },
        error: new TypeError('mergeLanes: timestamps of lane "a" went backwards: 2 after 3'),
      },
    },
    {
      title: 'unsubscribing early unsubscribes every lane',
      options: byTimestamp,
      inputs: {
        a: { marble: '-1--3--5-', subscriptions: '^-----!' },
        b: { marble: '--2--4--6', subscriptions: '^-----!' },
        c: { marble: '---------', subscriptions: '^-----!' },
      },
      unsub: '------!',
      expected: { marble: '-------' },
    },
    {
      title: 'unsubscribing early cancels the maxSkew timer',
      options: { ...byTimestamp, maxSkew: 5 },
      inputs: {
        a: { marble: '-1-----', subscriptions: '^--!' },
        b: { marble: '-------', subscriptions: '^--!' },
      },
      unsub: '---!',
      expected: { marble: '----' },
    },
    {
      title: 'unsubscription chains are not broken by mergeMap before and after',
      options: { ...byTimestamp, chain: true },
      inputs: {
        a: { marble: '-1--3--5-', subscriptions: '^----!' },
        b: { marble: '--2--4--6', subscriptions: '^----!' },
      },
      unsub: '-----!',
      expected: {
        marble: '--A-B',
        values: { A: laned('a', 1, '1'), B: laned('b', 1, '2') },
      },
    },
    {
      title: 'never lanes stay silent',
      options: byTimestamp,
      inputs: { a: { marble: '-', subscriptions: '^' }, b: { marble: '-', subscriptions: '^' } },
      expected: { marble: '-' },
    },
    {
      title: 'empty lanes complete at once',
      options: byTimestamp,
      inputs: {
        a: { marble: '|', subscriptions: '(^!)' },
        b: { marble: '|', subscriptions: '(^!)' },
      },
      expected: { marble: '|' },
    },
    {
      title: 'never-ending lanes keep delivering',
      options: {},
      inputs: {
        a: { marble: '-a-b-c-', subscriptions: '^' },
        b: { marble: '--d-e-f', subscriptions: '^' },
      },
      expected: {
        marble: '-ABCDEF',
        values: {
          A: laned('a', 1, 'a'),
          B: laned('b', 1, 'd'),
          C: laned('a', 2, 'b'),
          D: laned('b', 2, 'e'),
          E: laned('a', 3, 'c'),
          F: laned('b', 3, 'f'),
        },
      },
    },
  ],
});

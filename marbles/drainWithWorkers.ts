import { HandlerTimeoutError } from '../src/core/HandlerTimeoutError.js';
import type { Options } from './drainWith.js';
import type { MarbleCase } from './types.js';

/** Concurrency values, by the digit that draws them. */
const LIMITS = { 1: 1, 2: 2, 3: 3, 0: 0 };

/**
 * The cases of drainWith as a pool of workers: a reactive concurrency, retries with backoff,
 * dead letters and timeouts (the timers run on the TestScheduler's virtual clock).
 */
export const drainWithWorkerCases: MarbleCase<Options>[] = [
  {
    title: 'raising a reactive concurrency starts waiting values at once',
    options: { capacity: 4, overflow: 'error', reactiveConcurrency: true },
    inputs: {
      source: { marble: '-abc------|' },
      concurrency: { marble: '1--2', values: LIMITS, subscriptions: '^----------!' },
      inner: { marble: '----v|', subscriptions: ['-^----!', '---^----!', '------^----!'] },
    },
    expected: { marble: '-----a-b--c|' },
  },
  {
    title:
      'lowering a reactive concurrency lets the work in flight finish and starts nothing until fewer are in flight',
    options: { capacity: 4, overflow: 'error', reactiveConcurrency: true },
    inputs: {
      source: { marble: '-abcd--------|' },
      concurrency: { marble: '3--1', values: LIMITS },
      inner: {
        marble: '---v|',
        subscriptions: ['-^---!', '--^---!', '------^---!', '----------^---!'],
      },
    },
    expected: { marble: '----ab---c---d|' },
  },
  {
    title: 'a reactive concurrency that is not a positive integer errors the result, naming it',
    options: { capacity: 4, overflow: 'error', reactiveConcurrency: true },
    inputs: {
      source: { marble: '-a-b-|', subscriptions: '^--!' },
      concurrency: { marble: '1--0', values: LIMITS, subscriptions: '^--!' },
      inner: { marble: '-----v|', subscriptions: '-^-!' },
    },
    expected: {
      marble: '---#',
      error: new RangeError('drainWith: concurrency must be a positive integer or Infinity, got 0'),
    },
  },
  {
    title: 'under retry a failed attempt runs again after the backoff, keeping its slot',
    options: { capacity: 4, overflow: 'error', retry: { maxAttempts: 2, backoff: () => 2 } },
    inputs: {
      source: { marble: '-ab------|' },
      inner_a_1: { marble: '-#', error: 'flaky', subscriptions: '-^!' },
      inner: { marble: '--v|', subscriptions: ['----^--!', '-------^--!'] },
    },
    expected: { marble: '------a--b|' },
  },
  {
    title: 'after its last attempt a value goes to deadLetter, and the rest goes on',
    options: {
      capacity: 4,
      overflow: 'error',
      retry: { maxAttempts: 2, backoff: () => 1 },
      deadLetter: () => {},
    },
    inputs: {
      source: { marble: '-ab----|' },
      inner_a: { marble: '-#', error: 'broken', subscriptions: ['-^!', '---^!'] },
      inner: { marble: '--v|', subscriptions: '----^--!' },
    },
    expected: { marble: '------b|' },
  },
  {
    title: 'an attempt that outlives timeout is cancelled and retried',
    options: { capacity: 4, overflow: 'error', timeout: 3, retry: { maxAttempts: 2 } },
    inputs: {
      source: { marble: '-a----|' },
      inner_a_1: { marble: '------v|', subscriptions: '-^--!' },
      inner: { marble: '-v|', subscriptions: '----^-!' },
    },
    expected: { marble: '-----a|' },
  },
  {
    title: 'without retry or deadLetter an attempt that outlives timeout errors the result',
    options: { capacity: 4, overflow: 'error', timeout: 3 },
    inputs: {
      source: { marble: '-a----|', subscriptions: '^---!' },
      inner: { marble: '------v|', subscriptions: '-^--!' },
    },
    expected: { marble: '----#', error: new HandlerTimeoutError('drainWith', 'a', 1, 3) },
  },
];

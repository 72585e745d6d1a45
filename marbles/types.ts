/**
 * Marble cases as typed data: the single source of truth for each operator's behaviour. The test
 * suite runs every case under the TestScheduler (test/marbles.spec.ts) and the docs draw them.
 */
import type { Observable } from 'rxjs';
import type { OverflowNotice } from '../src/core/types.js';

/** One input or output timeline, in TestScheduler marble syntax. */
export interface MarbleStream {
  /** The marble string; inputs are cold unless `hot` is true. */
  marble: string;
  /** What each letter stands for; a letter without an entry stands for itself (a string). */
  values?: Record<string, unknown>;
  /** The value of `#`. */
  error?: unknown;
  /** A hot input (with `^` for the subscription point). Default: cold. */
  hot?: boolean;
  /** Expected subscription marbles of this input (`^` subscribe, `!` unsubscribe). */
  subscriptions?: string | string[];
}

/** Side channels an operator reports to, recorded on their own timelines. */
export interface MarbleHooks {
  /** Receives overflow notices; the runner records them on the `notices` timeline. */
  onOverflow: (notice: OverflowNotice<unknown>) => void;
}

/** One behaviour of one operator. */
export interface MarbleCase<Options> {
  /** What the case shows, as a sentence (used as the test name and the diagram caption). */
  title: string;
  /** The operator's options (notifiers and hooks are wired by the suite's `build`). */
  options: Options;
  /** Named inputs: `source` always; `demand`, `flushOn`, lane names and so on as the operator needs. */
  inputs: Record<string, MarbleStream>;
  /** The expected output. */
  expected: MarbleStream;
  /** Unsubscribes from the output at `!` (early unsubscribe). */
  unsub?: string;
  /** Expected overflow notices, each at the frame it is reported. */
  notices?: MarbleStream;
  /**
   * Every value the operator loses, in the order it is lost: letters of `inputs.source` (or of the
   * inputs, for an operator without a `source`, such as mergeLanes' lanes). The runner checks them
   * against the run: the overflow notices (and a `QueueOverflowError`'s notice) must count exactly
   * these values, with each notice's `first` and `last` the first and last of its share, and none
   * of them may be delivered. Leave it out only when nothing is dropped. The diagrams mark them.
   */
  dropped?: string[];
}

/** Every case of one operator, and how to wire a case's inputs into the operator. */
export interface MarbleSuite<Options> {
  /** The operator's exported name. */
  operator: string;
  /** Legend for the letters used, shown under the diagrams. */
  legend?: string;
  /** Builds the observable under test from a case's options and its inputs (by name). */
  build(
    options: Options,
    inputs: Record<string, Observable<unknown>>,
    hooks: MarbleHooks,
  ): Observable<unknown>;
  cases: MarbleCase<Options>[];
}

/** Helps TypeScript infer a suite's option type. */
export function defineMarbleSuite<Options>(suite: MarbleSuite<Options>): MarbleSuite<Options> {
  return suite;
}

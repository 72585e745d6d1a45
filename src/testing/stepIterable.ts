/**
 * Step-by-step expectations over an async iterator under virtual time, in the manner of a probe:
 * await the next value, assert a silence of some frames, assert the end.
 */
import type { SchedulerLike } from 'rxjs';
import { deepEqual, ExpectationError, show } from './equality.js';

type Settled<T> =
  | { frame: number; result: IteratorResult<T>; error?: undefined; failed: false }
  | { frame: number; result?: undefined; error: unknown; failed: true };

/**
 * Expectations over an async iterator, one step at a time; made by `stepIterable` of
 * {@link runVirtual}'s helpers. Frames are counted from the start of `runVirtual`.
 */
export class IterableStepper<T> {
  private pending: Promise<IteratorResult<T>> | undefined;
  private settled: Settled<T> | undefined;

  /** @internal made by runVirtual's helpers */
  constructor(
    private readonly iterator: AsyncIterator<T>,
    private readonly scheduler: SchedulerLike,
    private readonly origin: number,
    private readonly wait: (frames: number) => Promise<void>,
  ) {}

  private frame(): number {
    return this.scheduler.now() - this.origin;
  }

  /** The pending `next()` call, made once and kept until a step takes its result. */
  private pull(): Promise<IteratorResult<T>> {
    if (this.pending === undefined) {
      const call = this.iterator.next();
      this.pending = call;
      this.settled = undefined;
      call.then(
        (result) => {
          if (this.pending === call) this.settled = { frame: this.frame(), result, failed: false };
        },
        (error: unknown) => {
          if (this.pending === call) this.settled = { frame: this.frame(), error, failed: true };
        },
      );
    }
    return this.pending;
  }

  /** Takes the next result, whenever it comes. */
  async next(): Promise<IteratorResult<T>> {
    const call = this.pull();
    try {
      return await call;
    } finally {
      this.pending = undefined;
    }
  }

  /**
   * Waits for the next value and checks it (deep equality, matchers allowed); without an
   * argument any value passes. Returns the value.
   *
   * @throws ExpectationError when the iterator ends, errors, or yields another value.
   */
  async expectNext(...expected: [] | [unknown]): Promise<T> {
    const want = expected.length === 0 ? 'a value' : show(expected[0]);
    let result: IteratorResult<T>;
    try {
      result = await this.next();
    } catch (error) {
      throw new ExpectationError(
        `stepIterable: expected ${want} at frame ${this.frame()}, got error ${show(error)}`,
      );
    }
    if (result.done === true) {
      throw new ExpectationError(
        `stepIterable: expected ${want} at frame ${this.frame()}, got the end`,
      );
    }
    if (expected.length === 1 && !deepEqual(result.value, expected[0])) {
      throw new ExpectationError(
        `stepIterable: expected ${want} at frame ${this.frame()}, got ${show(result.value)}`,
      );
    }
    return result.value;
  }

  /**
   * Checks that nothing (no value, no end, no error) arrives during the next `frames` frames;
   * what arrives at the last of them, or later, is kept for the next step.
   *
   * @throws ExpectationError naming what arrived, and at which frame.
   */
  async expectNoValueFor(frames: number): Promise<void> {
    const from = this.frame();
    this.pull();
    await this.wait(frames);
    const settled = this.settled;
    if (settled !== undefined && settled.frame < from + frames) {
      this.pending = undefined;
      const what = settled.failed
        ? `error ${show(settled.error)}`
        : settled.result.done === true
          ? 'the end'
          : show(settled.result.value);
      throw new ExpectationError(
        `stepIterable: expected no value for ${frames} frames from frame ${from}, got ${what} ` +
          `at frame ${settled.frame}`,
      );
    }
  }

  /**
   * Waits for the end of the iterator.
   *
   * @throws ExpectationError when a value or an error comes instead.
   */
  async expectDone(): Promise<void> {
    let result: IteratorResult<T>;
    try {
      result = await this.next();
    } catch (error) {
      throw new ExpectationError(
        `stepIterable: expected the end at frame ${this.frame()}, got error ${show(error)}`,
      );
    }
    if (result.done !== true) {
      throw new ExpectationError(
        `stepIterable: expected the end at frame ${this.frame()}, got ${show(result.value)}`,
      );
    }
  }

  /**
   * Waits for the iterator to throw, and checks the error (deep equality, matchers allowed; an
   * Error compares by name and message). Returns the error.
   *
   * @throws ExpectationError when a value or the end comes instead, or another error.
   */
  async expectError(...expected: [] | [unknown]): Promise<unknown> {
    let result: IteratorResult<T>;
    try {
      result = await this.next();
    } catch (error) {
      if (expected.length === 1 && !deepEqual(error, expected[0])) {
        throw new ExpectationError(
          `stepIterable: expected error ${show(expected[0])} at frame ${this.frame()}, got error ${show(error)}`,
        );
      }
      return error;
    }
    throw new ExpectationError(
      `stepIterable: expected an error at frame ${this.frame()}, got ${
        result.done === true ? 'the end' : show(result.value)
      }`,
    );
  }

  /** Ends the iteration early, as `break` in a `for await` loop does. */
  async cancel(): Promise<void> {
    this.pending = undefined;
    await this.iterator.return?.();
  }
}

/**
 * The option checks of every operator, the pull bridge and the bus: one rule and one message per
 * kind of option, so that every bad option reads `owner: option must be …, got …` and is refused
 * when the operator is created, never later with a generic message. Nothing here imports RxJS:
 * what RxJS's `from` accepts is recognised by shape.
 *
 * @packageDocumentation
 */
import type {
  CoalesceFallback,
  CoalescePolicy,
  OverflowPolicy,
  OverflowPolicyName,
} from './types.js';

/** Renders an option's value for an error message: short, and never throws. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (typeof value === 'bigint') return `${value}n`;
  // Stryker disable next-line ConditionalExpression,StringLiteral: String(symbol) renders the same
  if (typeof value === 'symbol') return value.toString();
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an array';
  try {
    const json = JSON.stringify(value);
    return json.length > 60 ? `${json.slice(0, 57)}...` : json;
  } catch {
    return 'an object';
  }
}

/** {@link describe} under the name the other entries import it by (from the package root).
 * @internal (exported from the root for the other entries)
 */
export { describe as describeValue };

/** `owner: option must be …, got …` as a `TypeError`.
 * @internal (exported from the root for the other entries)
 */
export function typeError(
  owner: string,
  option: string,
  expected: string,
  got: unknown,
): TypeError {
  return new TypeError(`${owner}: ${option} must be ${expected}, got ${describe(got)}`);
}

/** `owner: option must be …, got …` as a `RangeError`.
 * @internal (exported from the root for the other entries)
 */
export function rangeError(
  owner: string,
  option: string,
  expected: string,
  got: unknown,
): RangeError {
  return new RangeError(`${owner}: ${option} must be ${expected}, got ${describe(got)}`);
}

/** Refuses anything but a non-null object (an options bag). */
export function checkOptions(options: unknown, owner: string): void {
  if (options === null || typeof options !== 'object') {
    throw typeError(owner, 'options', 'an object', options);
  }
}

/** Refuses anything but a function; `undefined` passes unless `required`.
 * @internal (exported from the root for the other entries)
 */
export function checkFunction(
  value: unknown,
  owner: string,
  option: string,
  required = false,
): void {
  if (value === undefined && !required) return;
  if (typeof value !== 'function') {
    throw typeError(owner, option, 'a function', value);
  }
}

/** Whether `value` is a positive integer or `Infinity`. */
function isCount(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    ((Number.isInteger(value) && value >= 1) || value === Number.POSITIVE_INFINITY)
  );
}

/** Refuses anything but a positive integer, or `Infinity` when `infinite` is allowed.
 * @internal (exported from the root for the other entries)
 */
export function checkPositiveInteger(
  value: unknown,
  owner: string,
  option: string,
  infinite = false,
): void {
  if (infinite ? isCount(value) : isCount(value) && value !== Number.POSITIVE_INFINITY) return;
  throw rangeError(
    owner,
    option,
    infinite ? 'a positive integer or Infinity' : 'a positive integer',
    value,
  );
}

/** Refuses anything but a non-negative number (`Infinity` allowed, `NaN` not). */
export function checkNonNegative(value: unknown, owner: string, option: string, unit = ''): void {
  if (typeof value === 'number' && value >= 0) return;
  throw rangeError(owner, option, `a non-negative number${unit}`, value);
}

/** Whether `value` is an object (not a function) whose two members have the types named. */
function hasMembers(
  value: unknown,
  first: string,
  firstType: string,
  second: string,
  secondType: string,
): boolean {
  if (value === null || typeof value !== 'object') return false;
  const members = value as Record<string, unknown>;
  return typeof members[first] === firstType && typeof members[second] === secondType;
}

/**
 * Refuses anything that is not a `SchedulerLike` (an object with `schedule` and `now`): every
 * scheduler option is held to the same rule, since any of them may read the clock.
 * @internal (exported from the root for the other entries)
 */
export function checkScheduler(value: unknown, owner: string, option = 'scheduler'): void {
  if (hasMembers(value, 'schedule', 'function', 'now', 'function')) return;
  throw typeError(owner, option, 'a SchedulerLike (with schedule and now)', value);
}

/** `Symbol.observable` where a polyfill defines it, else the name RxJS falls back to. */
const observableKey: string | symbol =
  // Stryker disable next-line all: no runtime the tests run on defines Symbol.observable
  (typeof Symbol === 'function' && (Symbol as { observable?: symbol }).observable) ||
  '@@observable';

/**
 * Whether RxJS's `from` accepts `value`: an Observable or interop observable, a promise, an
 * array-like, an iterable, an async iterable or a ReadableStream. Checked by shape, as `from`
 * does, so that a bad input is refused when the operator is created rather than when it is
 * subscribed.
 */
export function isObservableInput(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return true;
  if (typeof value !== 'object' && typeof value !== 'function') return false;
  const shape = value as Record<string | symbol, unknown>;
  return (
    typeof shape[observableKey] === 'function' ||
    typeof shape.then === 'function' ||
    (typeof shape.length === 'number' && typeof value !== 'function') ||
    typeof shape[Symbol.iterator] === 'function' ||
    typeof shape[Symbol.asyncIterator] === 'function' ||
    typeof shape.getReader === 'function'
  );
}

/** Refuses anything RxJS's `from` would refuse; `undefined` passes unless `required`. */
export function checkObservableInput(
  value: unknown,
  owner: string,
  option: string,
  required = false,
): void {
  if (value === undefined && !required) return;
  if (!isObservableInput(value)) throw typeError(owner, option, 'an ObservableInput', value);
}

/**
 * Refuses anything that lacks what the library uses of an `AbortSignal` (`aborted` and
 * `addEventListener`); `undefined` passes.
 */
export function checkAbortSignal(value: unknown, owner: string, option = 'signal'): void {
  if (
    value === undefined ||
    hasMembers(value, 'addEventListener', 'function', 'aborted', 'boolean')
  ) {
    return;
  }
  throw typeError(owner, option, 'an AbortSignal', value);
}

const POLICY_NAMES: readonly string[] = ['drop-oldest', 'drop-incoming', 'drop-progress', 'error'];

/** `coalesce`'s fallback, refusing anything but the four named policies; default `'drop-progress'`. */
export function checkFallback(value: unknown, owner: string): CoalesceFallback {
  if (value === undefined) return 'drop-progress';
  if (typeof value === 'string' && POLICY_NAMES.includes(value)) return value as CoalesceFallback;
  throw typeError(
    owner,
    'fallback',
    "'drop-progress', 'drop-oldest', 'drop-incoming' or 'error'",
    value,
  );
}

/** The name of a policy, refusing anything but the named policies and `coalesce(...)`. */
export function policyNameOf<T>(overflow: OverflowPolicy<T>, owner: string): OverflowPolicyName {
  if (typeof overflow === 'string' && POLICY_NAMES.includes(overflow)) return overflow;
  if (
    overflow !== null &&
    typeof overflow === 'object' &&
    (overflow as CoalescePolicy<T>).kind === 'coalesce' &&
    typeof (overflow as CoalescePolicy<T>).merge === 'function'
  ) {
    return 'coalesce';
  }
  throw typeError(
    owner,
    'overflow',
    "'drop-oldest', 'drop-incoming', 'drop-progress', 'error' or coalesce(merge, key?)",
    overflow,
  );
}

/** The options every bounded queue checks (a `QueueConfig`, with callbacks of any shape). */
export interface CheckedQueueConfig<T> {
  capacity: number;
  overflow: OverflowPolicy<T>;
  classify?: unknown;
  terminalReserve?: number | undefined;
  onOverflow?: unknown;
  onDrop?: unknown;
}

/**
 * Checks the options shared by every queue and returns the effective terminal reserve (default 1
 * with a classifier when capacity > 1, else 0). A caller that supplies a default classifier (the
 * bus) passes it in `classify`: `'drop-progress'` and `coalesce` are refused only when no
 * classifier applies, since without one no value is progress and they would silently behave as
 * `'drop-incoming'`.
 */
export function validateQueueConfig<T>(config: CheckedQueueConfig<T>, owner: string): number {
  checkOptions(config, owner);
  const { capacity, overflow, classify, terminalReserve, onOverflow, onDrop } = config;
  checkPositiveInteger(capacity, owner, 'capacity');
  const policy = policyNameOf(overflow, owner);
  checkFunction(classify, owner, 'classify');
  if (classify === undefined && (policy === 'drop-progress' || policy === 'coalesce')) {
    throw typeError(
      owner,
      'classify',
      `a function when overflow is ${policy === 'coalesce' ? 'coalesce(...)' : "'drop-progress'"} (without it no value is progress, and every overflow would drop the newcomer as 'drop-incoming' does)`,
      classify,
    );
  }
  checkFunction(onOverflow, owner, 'onOverflow');
  checkFunction(onDrop, owner, 'onDrop');
  if (terminalReserve === undefined) return classify !== undefined && capacity > 1 ? 1 : 0;
  if (
    typeof terminalReserve !== 'number' ||
    !Number.isInteger(terminalReserve) ||
    terminalReserve < 0 ||
    terminalReserve >= capacity
  ) {
    throw rangeError(
      owner,
      'terminalReserve',
      `an integer with 0 <= terminalReserve < capacity, which is ${capacity} (non-terminal values have room for capacity - terminalReserve)`,
      terminalReserve,
    );
  }
  return terminalReserve;
}

/** The options that drive a queue's delivery: those of `boundedQueue` and bus subscriber queues. */
export interface CheckedDeliveryOptions {
  demand?: unknown;
  initialDemand?: unknown;
  flushOn?: unknown;
  scheduler?: unknown;
  inspect?: unknown;
}

/**
 * Checks what drives a queue's delivery (`demand`, `initialDemand`, `flushOn`, `scheduler`,
 * `inspect`), for `boundedQueue` and bus subscriber queues alike, and returns the credits granted
 * at subscription (`initialDemand`, default 0). `scheduler` is checked only when given.
 */
export function checkDeliveryOptions(options: CheckedDeliveryOptions, owner: string): number {
  const { demand, initialDemand, flushOn, scheduler, inspect } = options;
  if (demand !== undefined && flushOn !== undefined) {
    throw new RangeError(`${owner}: demand and flushOn cannot be combined; give one of them`);
  }
  checkObservableInput(demand, owner, 'demand');
  checkObservableInput(flushOn, owner, 'flushOn');
  if (scheduler !== undefined) checkScheduler(scheduler, owner);
  checkFunction(inspect, owner, 'inspect');
  if (initialDemand === undefined) return 0;
  if (
    typeof initialDemand !== 'number' ||
    !(
      initialDemand === Number.POSITIVE_INFINITY ||
      (Number.isInteger(initialDemand) && initialDemand >= 0)
    )
  ) {
    throw rangeError(owner, 'initialDemand', 'a non-negative integer or Infinity', initialDemand);
  }
  if (demand === undefined) {
    throw rangeError(
      owner,
      'initialDemand',
      'given with demand (it is the credit granted before demand first emits)',
      initialDemand,
    );
  }
  return initialDemand;
}

/**
 * Refuses anything but a number above 0 (`Infinity` only when `infinite`; `NaN` never).
 * @internal (exported from the root for the other entries)
 */
export function checkPositiveNumber(
  value: unknown,
  owner: string,
  option: string,
  infinite = false,
  unit = '',
): void {
  if (typeof value === 'number' && value > 0 && (infinite || value !== Number.POSITIVE_INFINITY)) {
    return;
  }
  const expected = infinite ? 'a positive number' : 'a finite positive number';
  throw rangeError(owner, option, `${expected}${unit}`, value);
}

/** Refuses anything but one of the strings `allowed`. */
export function checkOneOf(
  value: unknown,
  owner: string,
  option: string,
  allowed: readonly string[],
): void {
  if (typeof value === 'string' && allowed.includes(value)) return;
  throw typeError(
    owner,
    option,
    allowed
      .map((name) => `'${name}'`)
      .join(', ')
      .replace(/, ([^,]*)$/, ' or $1'),
    value,
  );
}

/** Refuses anything but `true` or `false`.
 * @internal (exported from the root for the other entries)
 */
export function checkBoolean(value: unknown, owner: string, option: string): void {
  if (typeof value !== 'boolean') throw typeError(owner, option, 'true or false', value);
}

/**
 * Marble strings in and out: parsing with one frame per character (as inside
 * `TestScheduler.run`), drawing recorded notifications back as a marble, and the aligned
 * expected/actual picture every marble expectation of the kit fails with.
 */
import type { ObservableNotification } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { deepEqual, ExpectationError, show } from './equality.js';

/** One recorded notification at a virtual frame, as `TestScheduler` records them. */
export interface MarbleMessage {
  frame: number;
  notification: ObservableNotification<unknown>;
}

/**
 * Parses a marble with one frame per character, whatever mode a `TestScheduler` is in: spaces
 * align and take no time, `(ab)` groups values in one frame, `10ms` advances time.
 */
export function parseMarble(
  marble: string,
  values?: Record<string, unknown>,
  error?: unknown,
): MarbleMessage[] {
  const factor = TestScheduler.frameTimeFactor;
  TestScheduler.frameTimeFactor = 1;
  try {
    return TestScheduler.parseMarbles(marble, values, error, false, true);
  } finally {
    TestScheduler.frameTimeFactor = factor;
  }
}

/** Letters for values the expected side did not name. */
const SPARE_LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

/** Names values by the letters of `values`, or by spare letters listed in a legend. */
class Letters {
  private readonly spare: Array<[string, unknown]> = [];
  private readonly used = new Set<string>();

  constructor(private readonly values: Record<string, unknown> | undefined) {}

  of(value: unknown): string {
    if (this.values !== undefined) {
      const entries = Object.entries(this.values);
      const named =
        entries.find(([, known]) => Object.is(value, known)) ??
        entries.find(([, known]) => deepEqual(value, known));
      if (named !== undefined) {
        if (named[1] !== named[0]) this.used.add(named[0]);
        return named[0];
      }
    }
    if (typeof value === 'string' && value.length === 1 && this.values?.[value] === undefined) {
      return value;
    }
    const known = this.spare.find(([, named]) => deepEqual(value, named));
    if (known !== undefined) return known[0];
    const letter = SPARE_LETTERS[this.spare.length] ?? '?';
    this.spare.push([letter, value]);
    return letter;
  }

  legend(): string[] {
    const named = [...this.used].map((letter) => `${letter} = ${show(this.values?.[letter])}`);
    return [...named, ...this.spare.map(([letter, value]) => `${letter} = ${show(value)}`)];
  }
}

function symbolOf(notification: ObservableNotification<unknown>, letters: Letters): string {
  if (notification.kind === 'C') return '|';
  if (notification.kind === 'E') return '#';
  return letters.of(notification.value);
}

/** The text of each frame that has messages: one symbol, or a `(group)`. */
function cellsOf(messages: readonly MarbleMessage[], letters: Letters): Map<number, string> {
  const symbols = new Map<number, string[]>();
  for (const { frame, notification } of messages) {
    const list = symbols.get(frame) ?? [];
    list.push(symbolOf(notification, letters));
    symbols.set(frame, list);
  }
  const cells = new Map<number, string>();
  for (const [frame, list] of symbols) {
    cells.set(frame, list.length === 1 ? (list[0] as string) : `(${list.join('')})`);
  }
  return cells;
}

/**
 * The columns of a marble line, one per frame, as RxJS reads marbles: a group `(ab)` is drawn at
 * its frame and spans as many frames as it has characters, so the frames it covers draw nothing.
 */
function columnsOf(cells: Map<number, string>, last: number): string[] {
  const columns: string[] = [];
  let covered = 0;
  for (let frame = 0; frame <= last; frame++) {
    const cell = cells.get(frame);
    if (cell !== undefined) {
      columns.push(cell);
      covered = cell.length - 1;
    } else if (covered > 0) {
      columns.push('');
      covered--;
    } else {
      columns.push('-');
    }
  }
  return columns;
}

/**
 * Draws recorded messages as a marble, one character per frame as RxJS reads marbles (a group
 * spans as many frames as it has characters); values are named by `values`, or by spare letters.
 */
export function drawMarble(
  messages: readonly MarbleMessage[],
  values?: Record<string, unknown>,
): string {
  const cells = cellsOf(messages, new Letters(values));
  return columnsOf(cells, Math.max(-1, ...cells.keys())).join('');
}

function sameMessage(a: MarbleMessage | undefined, b: MarbleMessage | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.frame !== b.frame || a.notification.kind !== b.notification.kind) return false;
  if (a.notification.kind === 'N' && b.notification.kind === 'N') {
    return deepEqual(a.notification.value, b.notification.value);
  }
  if (a.notification.kind === 'E' && b.notification.kind === 'E') {
    return deepEqual(a.notification.error, b.notification.error);
  }
  return true;
}

function describeMessage(message: MarbleMessage | undefined, other?: MarbleMessage): string {
  if (message === undefined) return 'nothing';
  const { notification } = message;
  const at =
    other !== undefined && other.frame !== message.frame ? ` at frame ${message.frame}` : '';
  if (notification.kind === 'C') return `complete${at}`;
  if (notification.kind === 'E') return `error ${show(notification.error)}${at}`;
  return `${show(notification.value)}${at}`;
}

/**
 * `undefined` when the messages are equal; otherwise the picture of both as aligned marbles,
 * with the first differing frame marked and what differs there.
 */
export function marbleDiff(
  actual: readonly MarbleMessage[],
  expected: readonly MarbleMessage[],
  values?: Record<string, unknown>,
): string | undefined {
  const length = Math.max(actual.length, expected.length);
  let index = 0;
  while (index < length && sameMessage(actual[index], expected[index])) index++;
  if (index === length) return undefined;
  const got = actual[index];
  const wanted = expected[index];
  const at = Math.min(got?.frame ?? Number.POSITIVE_INFINITY, wanted?.frame ?? Infinity);
  const letters = new Letters(values);
  const expectedCells = cellsOf(expected, letters);
  const actualCells = cellsOf(actual, letters);
  const last = Math.max(0, ...expectedCells.keys(), ...actualCells.keys());
  const expectedColumns = columnsOf(expectedCells, last);
  const actualColumns = columnsOf(actualCells, last);
  let expectedLine = '';
  let actualLine = '';
  let caret = '';
  for (let frame = 0; frame <= last; frame++) {
    const e = expectedColumns[frame] as string;
    const a = actualColumns[frame] as string;
    // Both lines advance together: each keeps the place its own groups take.
    const start = Math.max(expectedLine.length, actualLine.length);
    if (e === '' && a === '') continue;
    if (frame === at) caret = `${' '.repeat(start)}^`;
    if (e !== '') expectedLine = expectedLine.padEnd(start, ' ') + e;
    if (a !== '') actualLine = actualLine.padEnd(start, ' ') + a;
  }
  const lines = [
    `marbles differ at frame ${at}:`,
    `  expected  ${expectedLine.trimEnd()}`,
    `  actual    ${actualLine.trimEnd()}`,
    `            ${caret} expected ${describeMessage(wanted, got)}, got ${describeMessage(got, wanted)}`,
  ];
  const legend = letters.legend();
  if (legend.length > 0) lines.push(`  where ${legend.join(', ')}`);
  return lines.join('\n');
}

function isMessageList(value: unknown): value is MarbleMessage[] {
  return (
    Array.isArray(value) &&
    value.every(
      (item) =>
        typeof item === 'object' && item !== null && 'frame' in item && 'notification' in item,
    )
  );
}

/**
 * A `TestScheduler` assertion (its constructor's argument) that fails with aligned marbles: the
 * expected and actual lines drawn column by column, the first differing frame marked, and the
 * values there printed. Honours asymmetric matchers such as {@link notice}. Subscription logs are
 * compared as they are.
 *
 * @throws ExpectationError when `actual` and `expected` differ.
 */
export function assertMarbles(actual: unknown, expected: unknown): void {
  if (isMessageList(actual) && isMessageList(expected)) {
    const diff = marbleDiff(actual, expected, valuesOf(expected));
    if (diff !== undefined) throw new ExpectationError(diff);
    return;
  }
  if (!deepEqual(actual, expected)) {
    throw new ExpectationError(`expected ${show(expected)}\n     got ${show(actual)}`);
  }
}

/** Names the expected values by themselves when they are one-letter strings, else by letters. */
function valuesOf(expected: readonly MarbleMessage[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  let next = 0;
  for (const { notification } of expected) {
    if (notification.kind !== 'N') continue;
    const value = notification.value;
    if (Object.values(values).some((known) => Object.is(value, known))) continue;
    if (typeof value === 'string' && value.length === 1 && !(value in values)) {
      values[value] = value;
      continue;
    }
    const letters = 'nmopqrstuvwxyzabcdefghijkl';
    while (next < letters.length && (letters[next] as string) in values) next++;
    values[letters[next] ?? '?'] = value;
  }
  return values;
}

/**
 * A `TestScheduler` whose marble expectations fail with aligned marbles (see
 * {@link assertMarbles}) and understand {@link notice} matchers, whatever the test framework.
 *
 * @example
 * ```ts
 * const scheduler = createTestScheduler();
 * scheduler.run(({ cold, expectObservable }) => {
 *   expectObservable(cold('-a-b|')).toBe('-a-b|');
 * });
 * ```
 */
export function createTestScheduler(): TestScheduler {
  return new TestScheduler(assertMarbles);
}

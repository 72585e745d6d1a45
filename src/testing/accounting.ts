/**
 * Expectations over what a lossy pipeline delivered: every value accounted for, bus frames in
 * seq order, lanes in lane order. Each throws an {@link ExpectationError} naming what is wrong.
 */
import type { OverflowNotice } from '../core/types.js';
import { ExpectationError, show } from './equality.js';
import { isNotice } from './notices.js';

interface Framed {
  seq: number;
  laneSeq?: number;
  laneId?: string;
  overflow?: OverflowNotice<unknown> | undefined;
}

function isFramed(value: unknown): value is Framed {
  return typeof value === 'object' && value !== null && typeof (value as Framed).seq === 'number';
}

/** The options of {@link expectAccounted}. */
export interface AccountedOptions<T> {
  /**
   * What identifies a value when delivered values are compared with input values. Default: the
   * value itself (`Object.is`), or a frame's `seq` for bus frames.
   */
  key?: ((value: T) => unknown) | undefined;
}

/**
 * Checks that every input value is accounted for in a lossy pipeline's output: delivered, or
 * counted in a notice (dropped, or merged by `coalesce`). `output` is what
 * {@link withNotices} emitted (values and notices), or a subscriber's bus frames, whose notices
 * ride on their `overflow` field and name seq ranges: a frame is accounted for when it was
 * delivered or lies in a notice's `fromSeq..toSeq`.
 *
 * @throws ExpectationError naming the values that are missing (neither delivered nor counted),
 *   delivered twice, or counted twice (more values counted in notices than were lost).
 *
 * @example
 * ```ts fragment
 * expectAccounted(['a', 'b', 'c'], ['a', notice({ dropped: 1 }), 'c']); // passes: b was dropped
 * ```
 */
export function expectAccounted<T>(
  input: Iterable<T>,
  output: Iterable<T | OverflowNotice<T>>,
  options: AccountedOptions<T> = {},
): void {
  const inputs = [...input];
  const outputs = [...output];
  const framed = inputs.length > 0 && inputs.every(isFramed);
  if (framed) {
    accountFrames(inputs as unknown as Framed[], outputs as unknown as Array<Framed | object>);
    return;
  }
  const keyOf = options.key ?? ((value: T) => value);
  const notices: OverflowNotice<T>[] = [];
  const pending = new Map<unknown, number[]>();
  inputs.forEach((value, index) => {
    const key = keyOf(value);
    pending.set(key, [...(pending.get(key) ?? []), index]);
  });
  const delivered = new Set<number>();
  const twice: T[] = [];
  let foreign = 0;
  for (const item of outputs) {
    if (isNotice(item) || isNoticeShaped(item)) {
      notices.push(item as OverflowNotice<T>);
      continue;
    }
    const key = keyOf(item as T);
    const indexes = pending.get(key);
    if (indexes === undefined) {
      foreign++; // a merged value, made by coalesce: it stands for one of the values it merged
      continue;
    }
    const index = indexes.shift();
    if (index === undefined) twice.push(item as T);
    else delivered.add(index);
  }
  const lost = inputs.filter((_value, index) => !delivered.has(index));
  const problems: string[] = [];
  const counted = notices.reduce((sum, n) => sum + n.dropped + n.merged, foreign);
  if (twice.length > 0) problems.push(`delivered twice: ${twice.map(show).join(', ')}`);
  const deliveredKeys = new Set([...delivered].map((index) => keyOf(inputs[index] as T)));
  const namedButDelivered = notices
    .flatMap((n) => [n.first, n.last])
    .filter((value) => value !== undefined && deliveredKeys.has(keyOf(value as T)))
    .filter((value) => !lost.some((missing) => keyOf(missing) === keyOf(value as T)));
  const merges = notices.reduce((sum, n) => sum + n.merged, 0);
  if (foreign > merges) {
    problems.push(
      `delivered ${foreign} value${foreign === 1 ? '' : 's'} not in the input, more than the ` +
        `${merges} merges the notices count`,
    );
  }
  if (namedButDelivered.length > 0) {
    problems.push(
      `counted twice (delivered, and named in a notice): ${unique(namedButDelivered).map(show).join(', ')}`,
    );
  }
  if (counted < lost.length) {
    const indexOf = (value: unknown): number =>
      inputs.findIndex((input) => keyOf(input) === keyOf(value as T));
    const spans = notices
      .filter((n) => n.first !== undefined)
      .map((n) => [indexOf(n.first), indexOf(n.last ?? n.first)] as const);
    const outside = inputs.filter(
      (_value, index) =>
        !delivered.has(index) && !spans.some(([from, to]) => from <= index && index <= to),
    );
    const named = outside.length > 0 ? outside : lost;
    problems.push(
      `missing (neither delivered nor counted in a notice): ${lost.length - counted} of ` +
        `${named.map(show).join(', ')}; notices count ${counted - foreign}`,
    );
  } else if (counted > lost.length) {
    problems.push(
      `counted twice: notices count ${counted} values dropped or merged, but only ` +
        `${lost.length} were not delivered${lost.length > 0 ? ` (${lost.map(show).join(', ')})` : ''}`,
    );
  }
  if (problems.length > 0) {
    throw new ExpectationError(`expectAccounted: ${problems.join('; ')}`);
  }
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

function isNoticeShaped(item: unknown): boolean {
  return (
    typeof item === 'object' &&
    item !== null &&
    !isFramed(item) &&
    typeof (item as Partial<OverflowNotice<unknown>>).dropped === 'number' &&
    typeof (item as Partial<OverflowNotice<unknown>>).merged === 'number'
  );
}

function accountFrames(inputs: Framed[], outputs: Array<Framed | object>): void {
  const seen = new Map<number, number>();
  const ranges: Array<[number, number]> = [];
  for (const item of outputs) {
    const gap = isFramed(item) ? item.overflow : (item as OverflowNotice<unknown>);
    if (gap?.fromSeq !== undefined) ranges.push([gap.fromSeq, gap.toSeq ?? gap.fromSeq]);
    if (isFramed(item)) seen.set(item.seq, (seen.get(item.seq) ?? 0) + 1);
  }
  const twice = [...seen].filter(([, times]) => times > 1).map(([seq]) => seq);
  const missing = inputs
    .map((frame) => frame.seq)
    .filter((seq) => !seen.has(seq) && !ranges.some(([from, to]) => from <= seq && seq <= to));
  const problems: string[] = [];
  if (missing.length > 0) {
    problems.push(
      `missing (neither delivered nor in a notice's seq range): seq ${missing.join(', ')}`,
    );
  }
  if (twice.length > 0) problems.push(`delivered twice: seq ${twice.join(', ')}`);
  if (problems.length > 0) throw new ExpectationError(`expectAccounted: ${problems.join('; ')}`);
}

/**
 * Checks that bus frames come in increasing seq order with no hole a notice does not explain:
 * each seq after the first is the previous one plus one, or the frame carries a notice whose
 * `fromSeq..toSeq` covers the seqs skipped.
 *
 * @throws ExpectationError naming the first frame out of order, or the seqs skipped silently.
 *
 * @example
 * ```ts fragment
 * expectDenseSeq([frame]);
 * ```
 */
export function expectDenseSeq(frames: Iterable<Framed>): void {
  let previous: number | undefined;
  for (const frame of frames) {
    if (previous !== undefined) {
      if (frame.seq <= previous) {
        throw new ExpectationError(
          `expectDenseSeq: seq ${frame.seq} came after seq ${previous}: frames out of order`,
        );
      }
      if (frame.seq > previous + 1) {
        const { fromSeq, toSeq } = frame.overflow ?? {};
        const covered =
          fromSeq !== undefined &&
          toSeq !== undefined &&
          fromSeq <= previous + 1 &&
          toSeq >= frame.seq - 1;
        if (!covered) {
          const skipped =
            frame.seq === previous + 2 ? `${previous + 1}` : `${previous + 1}..${frame.seq - 1}`;
          throw new ExpectationError(
            `expectDenseSeq: seq ${skipped} skipped between seq ${previous} and seq ${frame.seq} ` +
              `with no notice covering ${frame.seq === previous + 2 ? 'it' : 'them'}` +
              (frame.overflow === undefined ? '' : ` (the notice covers ${fromSeq}..${toSeq})`),
          );
        }
      }
    }
    previous = frame.seq;
  }
}

/**
 * Checks that within each lane, frames come in increasing `laneSeq` and `seq` order (a frame
 * without `laneId` is in lane `'main'`).
 *
 * @throws ExpectationError naming the lane and the first frame out of order.
 *
 * @example
 * ```ts fragment
 * expectLaneOrder([frame]);
 * ```
 */
export function expectLaneOrder(frames: Iterable<Framed>): void {
  const last = new Map<string, Framed>();
  for (const frame of frames) {
    const lane = frame.laneId ?? 'main';
    const before = last.get(lane);
    if (
      before !== undefined &&
      (frame.seq <= before.seq || (frame.laneSeq ?? 0) <= (before.laneSeq ?? -1))
    ) {
      throw new ExpectationError(
        `expectLaneOrder: in lane '${lane}', seq ${frame.seq} (laneSeq ${frame.laneSeq}) came ` +
          `after seq ${before.seq} (laneSeq ${before.laneSeq})`,
      );
    }
    last.set(lane, frame);
  }
}

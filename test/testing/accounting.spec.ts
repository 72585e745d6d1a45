import fc from 'fast-check';
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  boundedQueue,
  type Classifier,
  coalesce,
  EventBus,
  type EventFrame,
  type OverflowNotice,
  type OverflowPolicy,
} from '../../src/index.js';
import {
  expectAccounted,
  expectDenseSeq,
  expectLaneOrder,
  withNotices,
} from '../../src/testing/index.js';

const gap = (fields: Partial<OverflowNotice<string>>): OverflowNotice<string> => ({
  policy: 'drop-oldest',
  dropped: 0,
  merged: 0,
  terminalPreserved: true,
  ...fields,
});

describe('expectAccounted', () => {
  it('passes when every value is delivered or counted', () => {
    expectAccounted(['a', 'b', 'c'], ['a', gap({ dropped: 1, first: 'b', last: 'b' }), 'c']);
    expectAccounted(['a', 'b', 'c'], [gap({ merged: 2 }), 'abc']);
    expectAccounted([], []);
  });

  it('names the values missing', () => {
    expect(() => expectAccounted(['a', 'b', 'c', 'd'], ['a', 'd'])).toThrow(
      'expectAccounted: missing (neither delivered nor counted in a notice): 2 of "b", "c"; notices count 0',
    );
    expect(() =>
      expectAccounted(['a', 'b', 'c', 'd'], [gap({ dropped: 1, first: 'b', last: 'b' }), 'd']),
    ).toThrow(
      'missing (neither delivered nor counted in a notice): 2 of "a", "c"; notices count 1',
    );
  });

  it('names the values delivered twice, and those counted twice', () => {
    expect(() => expectAccounted(['a', 'b'], ['a', 'b', 'b'])).toThrow(
      'expectAccounted: delivered twice: "b"',
    );
    expect(() =>
      expectAccounted(['a', 'b'], [gap({ dropped: 1, first: 'a', last: 'a' }), 'a', 'b']),
    ).toThrow(
      'expectAccounted: counted twice (delivered, and named in a notice): "a"; counted twice: ' +
        'notices count 1 values dropped or merged, but only 0 were not delivered',
    );
  });

  it('compares by key when asked', () => {
    const input = [{ id: 1 }, { id: 2 }];
    expectAccounted(input, [{ id: 1 }, { id: 2 }], { key: (value) => value.id });
    expect(() => expectAccounted(input, [{ id: 1 }, { id: 2 }])).toThrow(
      'expectAccounted: delivered 2 values not in the input, more than the 0 merges the notices count',
    );
  });

  it('accounts bus frames by seq: delivered, or inside a notice range', () => {
    const frame = (seq: number, overflow?: OverflowNotice<unknown>) =>
      ({ seq, laneSeq: seq, kind: 'x', ts: 0, laneId: 'main', overflow }) as EventFrame;
    const published = [1, 2, 3, 4].map((seq) => frame(seq));
    expectAccounted(published, [frame(1), frame(4, gap({ dropped: 2, fromSeq: 2, toSeq: 3 }))]);
    expect(() => expectAccounted(published, [frame(1), frame(4)])).toThrow(
      "expectAccounted: missing (neither delivered nor in a notice's seq range): seq 2, 3",
    );
    expect(() =>
      expectAccounted(published, [frame(1), frame(1), frame(2), frame(3), frame(4)]),
    ).toThrow('expectAccounted: delivered twice: seq 1');
  });

  it('property: boundedQueue accounts for every value, whatever the policy and the demand', () => {
    const classify: Classifier<string> = (value) => (value.startsWith('p') ? 'progress' : 'normal');
    const policies: Array<OverflowPolicy<string>> = [
      'drop-oldest',
      'drop-incoming',
      'drop-progress',
      coalesce((acc: string, next: string) => `${acc}+${next}`),
    ];
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constantFrom('p', 'n'), fc.integer({ min: 0, max: 3 })), {
          maxLength: 40,
        }),
        fc.constantFrom(...policies),
        fc.integer({ min: 1, max: 4 }),
        (steps, overflow, capacity) => {
          const source = new Subject<string>();
          const demand = new Subject<number>();
          const output: unknown[] = [];
          withNotices<string>((onOverflow) =>
            source.pipe(boundedQueue({ capacity, overflow, classify, demand, onOverflow })),
          ).subscribe((item) => output.push(item));
          const input: string[] = [];
          steps.forEach((step, index) => {
            if (typeof step === 'number') demand.next(step);
            else {
              input.push(`${step}${index}`);
              source.next(`${step}${index}`);
            }
          });
          source.complete();
          demand.next(Number.POSITIVE_INFINITY);
          expectAccounted(input, output as Array<string | OverflowNotice<string>>);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('expectDenseSeq', () => {
  const frame = (seq: number, overflow?: Partial<OverflowNotice<unknown>>) =>
    ({ seq, overflow: overflow === undefined ? undefined : gap(overflow as never) }) as {
      seq: number;
      overflow?: OverflowNotice<unknown>;
    };

  it('passes on consecutive seqs, and on gaps a notice covers', () => {
    expectDenseSeq([frame(3), frame(4), frame(7, { fromSeq: 5, toSeq: 6 })]);
    expectDenseSeq([]);
  });

  it('names the seqs skipped silently, and frames out of order', () => {
    expect(() => expectDenseSeq([frame(1), frame(4)])).toThrow(
      'expectDenseSeq: seq 2..3 skipped between seq 1 and seq 4 with no notice covering them',
    );
    expect(() => expectDenseSeq([frame(1), frame(3, { fromSeq: 1, toSeq: 1 })])).toThrow(
      'expectDenseSeq: seq 2 skipped between seq 1 and seq 3 with no notice covering it (the notice covers 1..1)',
    );
    expect(() => expectDenseSeq([frame(2), frame(2)])).toThrow(
      'expectDenseSeq: seq 2 came after seq 2: frames out of order',
    );
  });

  it('holds for a bus subscriber that drops, with the notices on its frames', () => {
    const bus = new EventBus();
    const demand = new Subject<number>();
    const seen: EventFrame[] = [];
    bus
      .select({}, { queue: { capacity: 2, overflow: 'drop-oldest', demand } })
      .subscribe((f) => seen.push(f));
    demand.next(1);
    for (let i = 0; i < 6; i++) bus.publish({ kind: 'k' });
    demand.next(Number.POSITIVE_INFINITY);
    expect(seen.map((f) => [f.seq, f.overflow?.fromSeq, f.overflow?.toSeq])).toEqual([
      [1, undefined, undefined],
      [6, 2, 5],
    ]);
    expectDenseSeq(seen);
    expect(() => expectDenseSeq(seen.map(({ overflow: _gap, ...rest }) => rest))).toThrow(
      'seq 2..5 skipped between seq 1 and seq 6 with no notice covering them',
    );
  });
});

describe('expectLaneOrder', () => {
  it('passes when each lane is in order, whatever the interleaving', () => {
    expectLaneOrder([
      { seq: 1, laneSeq: 1, laneId: 'a' },
      { seq: 2, laneSeq: 1, laneId: 'b' },
      { seq: 3, laneSeq: 2, laneId: 'a' },
      { seq: 5, laneSeq: 3 },
    ]);
  });

  it('names the lane and the frame out of order', () => {
    expect(() =>
      expectLaneOrder([
        { seq: 2, laneSeq: 2, laneId: 'a' },
        { seq: 3, laneSeq: 1, laneId: 'a' },
      ]),
    ).toThrow("expectLaneOrder: in lane 'a', seq 3 (laneSeq 1) came after seq 2 (laneSeq 2)");
  });
});

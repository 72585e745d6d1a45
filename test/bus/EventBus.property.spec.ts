import fc from 'fast-check';
import { Subject, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus/EventBus.js';
import { BackpressureError, BusClosedError } from '../../src/bus/errors.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { EventFilter, EventFrame, SubscriberQueue } from '../../src/bus/types.js';
import { type OverflowNotice, QueueOverflowError } from '../../src/core/types.js';

/**
 * Random publish / subscribe / unsubscribe / demand / close schedules, checked against a
 * reference model: the list of frames the bus accepted, and for each subscriber its cursor and
 * filter. Everything is synchronous (queues are driven by `demand` subjects), so a schedule
 * replays exactly.
 */

const KINDS = ['model.delta', 'tool.call', 'run.finished'] as const;
const RUNS = ['a', 'b'] as const;
type Mode = 'direct' | 'lossy' | 'backpressure';

type Op =
  | { t: 'publish'; kind: (typeof KINDS)[number]; run: (typeof RUNS)[number] }
  | {
      t: 'subscribe';
      mode: Mode;
      policy: 'drop-oldest' | 'drop-incoming' | 'drop-progress';
      capacity: number;
      run: (typeof RUNS)[number] | undefined;
      onlyKinds: boolean;
      cursorBack: number | undefined;
    }
  | { t: 'grant'; sub: number; n: number }
  | { t: 'unsubscribe'; sub: number }
  | { t: 'close' };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('publish' as const),
      kind: fc.constantFrom(...KINDS),
      run: fc.constantFrom(...RUNS),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('subscribe' as const),
      mode: fc.constantFrom<Mode>('direct', 'lossy', 'backpressure'),
      policy: fc.constantFrom('drop-oldest', 'drop-incoming', 'drop-progress' as const),
      capacity: fc.integer({ min: 1, max: 4 }),
      run: fc.option(fc.constantFrom(...RUNS), { nil: undefined }),
      onlyKinds: fc.boolean(),
      cursorBack: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined, freq: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('grant' as const),
      sub: fc.nat(7),
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('unsubscribe' as const), sub: fc.nat(7) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('close' as const) }) },
);

interface ModelSubscriber {
  mode: Mode;
  filter: EventFilter;
  /** Frames with seq > start are the subscriber's. */
  start: number;
  demand: Subject<number>;
  subscription: Subscription;
  frames: EventFrame[];
  notices: OverflowNotice<EventFrame>[];
  completed: boolean;
  unsubscribed: boolean;
}

function matches(filter: EventFilter, frame: EventFrame): boolean {
  if (filter.runId !== undefined && frame.runId !== filter.runId) return false;
  return filter.kinds === undefined || [...filter.kinds].includes(frame.kind);
}

function run(ops: Op[], history: number, archived = false): void {
  const bus = new EventBus(archived ? { history, archive: new MemoryArchive() } : { history });
  const published: EventFrame[] = [];
  const subscribers: ModelSubscriber[] = [];
  let closed = false;
  for (const op of ops) {
    switch (op.t) {
      case 'publish': {
        const event = { kind: op.kind, runId: op.run };
        try {
          const frame = bus.publish(event);
          expect(closed).toBe(false);
          expect(frame.seq).toBe(published.length + 1);
          published.push(frame);
        } catch (error) {
          if (error instanceof BusClosedError) expect(closed).toBe(true);
          else {
            expect(error).toBeInstanceOf(BackpressureError);
            // Refused only for a backpressure subscriber that matches and is full.
            expect(
              subscribers.some(
                (s) =>
                  s.mode === 'backpressure' &&
                  !s.unsubscribed &&
                  !s.completed &&
                  matches(s.filter, { ...event, seq: 0, laneSeq: 0, ts: 0 }),
              ),
            ).toBe(true);
          }
        }
        break;
      }
      case 'subscribe': {
        const filter: EventFilter = {};
        if (op.run !== undefined) filter.runId = op.run;
        if (op.onlyKinds) filter.kinds = ['tool.call', 'run.finished'];
        const after =
          op.cursorBack === undefined ? undefined : Math.max(0, published.length - op.cursorBack);
        const demand = new Subject<number>();
        const model: ModelSubscriber = {
          mode: op.mode,
          filter,
          start: after ?? published.length,
          demand,
          subscription: undefined as unknown as Subscription,
          frames: [],
          notices: [],
          completed: false,
          unsubscribed: false,
        };
        const queue: SubscriberQueue | undefined =
          op.mode === 'direct'
            ? undefined
            : {
                capacity: op.capacity,
                overflow: op.mode === 'backpressure' ? 'backpressure' : op.policy,
                demand,
                onOverflow: (notice) => model.notices.push(notice),
              };
        const options = after === undefined ? { queue } : { after, queue };
        model.subscription = bus.select(filter, options).subscribe({
          next: (frame) => model.frames.push(frame),
          complete: () => {
            model.completed = true;
          },
          // Ending on a gap no frame carried and no onOverflow heard of: the error carries it.
          error: (error: unknown) => {
            expect(error).toBeInstanceOf(QueueOverflowError);
            model.notices.push((error as QueueOverflowError).notice as OverflowNotice<EventFrame>);
            model.completed = true;
          },
        });
        subscribers.push(model);
        break;
      }
      case 'grant':
        subscribers[op.sub]?.demand.next(op.n);
        break;
      case 'unsubscribe': {
        const model = subscribers[op.sub];
        if (model !== undefined && !model.completed) {
          model.unsubscribed = true;
          model.subscription.unsubscribe();
        }
        break;
      }
      case 'close':
        bus.close();
        closed = true;
        break;
    }
  }
  bus.close();
  for (const model of subscribers) model.demand.next(Number.POSITIVE_INFINITY);

  for (const model of subscribers) {
    const seqs = model.frames.map((f) => f.seq);
    // Increasing, and only frames of its own, after its cursor.
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] as number);
    const mine = published.filter((f) => f.seq > model.start && matches(model.filter, f));
    const mineSeqs = mine.map((f) => f.seq);
    for (const seq of seqs) expect(mineSeqs).toContain(seq);
    if (model.unsubscribed) continue;
    expect(model.completed).toBe(true);
    // Frames the log (history, archive) no longer held when the subscriber read its way there:
    // announced with `terminalPreserved: false` (nobody can tell what they were), never with an
    // archive, and only for frames history no longer holds at the end.
    const logNotices = [
      ...model.notices,
      ...model.frames.flatMap((f) => (f.overflow === undefined ? [] : [f.overflow])),
    ].filter((n) => !n.terminalPreserved);
    if (archived) expect(logNotices).toEqual([]);
    for (const notice of logNotices) {
      expect(notice.fromSeq).toBeGreaterThan(model.start);
      expect(notice.toSeq).toBeLessThanOrEqual(published.length - history);
    }
    const lostToLog = (seq: number) =>
      logNotices.some((n) => (n.fromSeq as number) <= seq && seq <= (n.toSeq as number));
    if (model.mode !== 'lossy') {
      // Lossless: exactly its frames (but those the log no longer held).
      expect(seqs).toEqual(mineSeqs.filter((seq) => !lostToLog(seq)));
      continue;
    }
    // Lossy: every missing frame is accounted for by a notice; terminal frames always arrive.
    const missing = mineSeqs.filter((seq) => !seqs.includes(seq) && !lostToLog(seq));
    const queueNotices = model.notices.filter((n) => n.terminalPreserved);
    expect(queueNotices.reduce((sum, n) => sum + n.dropped, 0)).toBe(missing.length);
    for (const seq of missing) {
      expect(
        queueNotices.some(
          (n) => (n.fromSeq as number) <= seq && seq <= (n.toSeq as number) && n.dropped > 0,
        ),
      ).toBe(true);
    }
    for (const frame of mine) {
      if (frame.kind === 'run.finished' && !lostToLog(frame.seq)) {
        expect(seqs).toContain(frame.seq);
      }
    }
  }
}

describe('EventBus against a reference model', () => {
  it('with a history that holds everything', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 80, size: 'large' }), (ops) =>
        run(ops, 10_000),
      ),
      { numRuns: 200 },
    );
  });

  it('with a history of 5 frames and an archive (old cursors lose nothing)', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 80, size: 'large' }), (ops) =>
        run(ops, 5, true),
      ),
      { numRuns: 150 },
    );
  });

  it('with a history of 5 frames (old cursors lose frames, with a notice)', () => {
    fc.assert(
      fc.property(fc.array(opArbitrary, { maxLength: 80, size: 'large' }), (ops) => run(ops, 5)),
      { numRuns: 200 },
    );
  });
});

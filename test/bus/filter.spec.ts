import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/bus/EventBus.js';
import { compileFilter, matchesFilter } from '../../src/bus/filter.js';
import { MemoryArchive } from '../../src/bus/MemoryArchive.js';
import type { EventFilter, EventFrame } from '../../src/bus/types.js';

const frame = (seq: number, kind: string): EventFrame =>
  Object.freeze({ kind, runId: 'r', laneId: 'main', seq, laneSeq: seq, ts: seq });

function* kindsOnce(...kinds: string[]): Generator<string> {
  yield* kinds;
}

describe('compileFilter: kinds', () => {
  it.each([
    ['a Map keys iterator', () => new Map([['a', 1]]).keys()],
    ['a generator', () => kindsOnce('a')],
    ['an array', () => ['a']],
    ['a Set', () => new Set(['a'])],
  ])('%s gives every later reader the same kinds, as a frozen array', (_, makeKinds) => {
    const given: EventFilter = { runId: 'r', kinds: makeKinds() };
    const compiled = compileFilter(given, 'test');
    expect(compiled.source.kinds).toEqual(['a']);
    expect(Array.isArray(compiled.source.kinds)).toBe(true);
    expect(Object.isFrozen(compiled.source.kinds)).toBe(true);
    expect(compiled.source.runId).toBe('r');
    // A second reader (an archive compiling the source it was handed) sees the same kinds.
    const again = compileFilter(compiled.source, 'archive');
    expect(matchesFilter(again, frame(1, 'a'))).toBe(true);
    expect(matchesFilter(again, frame(2, 'b'))).toBe(false);
  });

  it('keeps the kinds once each, in the order given, and leaves the given filter alone', () => {
    const kinds = kindsOnce('b', 'a', 'b');
    const given: EventFilter = { kinds };
    const compiled = compileFilter(given, 'test');
    expect(compiled.source.kinds).toEqual(['b', 'a']);
    expect(given.kinds).toBe(kinds);
    expect(compiled.source).not.toBe(given);
  });

  it('hands a filter without kinds on as given', () => {
    const given: EventFilter = { runId: 'r' };
    expect(compileFilter(given, 'test').source).toBe(given);
    expect(compileFilter(undefined, 'test').source).toEqual({});
  });

  it('through a bus and its archive, a one-shot kinds replays everything with no false gap', () => {
    const bus = new EventBus({ history: 2, archive: new MemoryArchive() });
    for (let i = 0; i < 6; i++) bus.publish({ kind: i % 2 ? 'a' : 'b' });
    const live: EventFrame[] = [];
    bus.select({ kinds: new Map([['a', 1]]).keys() }, { after: 0 }).subscribe((f) => live.push(f));
    bus.publish({ kind: 'a' });
    expect(live.map((f) => f.seq)).toEqual([2, 4, 6, 7]);
    expect(live.every((f) => f.overflow === undefined)).toBe(true);
    const replayed: EventFrame[] = [];
    bus.replay({ kinds: kindsOnce('a') }, 0).subscribe((f) => replayed.push(f));
    expect(replayed.map((f) => f.seq)).toEqual([2, 4, 6, 7]);
    expect(replayed.every((f) => f.overflow === undefined)).toBe(true);
  });

  it('metrics show the kinds a subscriber was given', () => {
    const bus = new EventBus();
    bus.select({ kinds: new Set(['a']).values() }).subscribe();
    expect(bus.metrics().subscribers[0]?.filter.kinds).toEqual(['a']);
  });
});

import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { boundedQueue, type OverflowNotice } from '../../src/index.js';
import {
  createTestBus,
  createTestScheduler,
  demandFrom,
  isNotice,
  notice,
  publishMarble,
  withNotices,
} from '../../src/testing/index.js';

describe('withNotices', () => {
  it('puts each notice at the frame it was reported, just before the value after the gap', () => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const source = cold('      -a-b-c-----|');
      const demand = demandFrom('1------2');
      const noticed = withNotices<string>((onOverflow) =>
        source.pipe(boundedQueue({ capacity: 1, overflow: 'drop-oldest', demand, onOverflow })),
      );
      const expected = '         -a-----(nc)|';
      expectObservable(noticed).toBe(expected, {
        a: 'a',
        c: 'c',
        n: notice({ policy: 'drop-oldest', dropped: 1, first: 'b', last: 'b' }),
      });
    });
  });

  it('builds the pipeline once per subscription, each with its own notices', () => {
    let built = 0;
    const source = new Subject<number>();
    const demand = new Subject<number>();
    const noticed = withNotices<number>((onOverflow) => {
      built++;
      return source.pipe(
        boundedQueue({ capacity: 1, overflow: 'drop-incoming', onOverflow, demand }),
      );
    });
    const runs: unknown[][] = [[], []];
    noticed.subscribe((item) => runs[0]?.push(item));
    noticed.subscribe((item) => runs[1]?.push(item));
    for (const value of [1, 2]) source.next(value);
    demand.next(1);
    expect(built).toBe(2);
    for (const run of runs) {
      expect(run).toEqual([expect.objectContaining({ dropped: 1, first: 2 }), 1]);
      expect(run.map((item) => isNotice(item))).toEqual([true, false]);
    }
  });

  it('takes the notices of bus frames from their overflow field', () => {
    const scheduler = createTestScheduler();
    scheduler.run(({ expectObservable }) => {
      const bus = createTestBus(scheduler);
      const demand = demandFrom('1------1');
      const frames = bus.select({}, { queue: { capacity: 1, overflow: 'drop-oldest', demand } });
      publishMarble(bus, '       -a-b-c-|', {
        a: { kind: 'a' },
        b: { kind: 'b' },
        c: { kind: 'c' },
      });
      const kinds = withNotices(frames);
      const gap = notice({ dropped: 1, fromSeq: 2, toSeq: 2 });
      const expected = '         -a-----(nc|)';
      expectObservable(kinds).toBe(expected, {
        a: expect.objectContaining({ kind: 'a', seq: 1 }),
        n: gap,
        c: expect.objectContaining({ kind: 'c', seq: 3, overflow: gap }),
      });
    });
  });

  it('passes errors and completion through', () => {
    const source = new Subject<number>();
    const seen: string[] = [];
    withNotices(source).subscribe({
      error: (error: Error) => seen.push(error.message),
      complete: () => seen.push('complete'),
    });
    source.error(new Error('boom'));
    expect(seen).toEqual(['boom']);
  });
});

describe('notice', () => {
  const real: OverflowNotice<string> = {
    policy: 'drop-oldest',
    dropped: 2,
    merged: 0,
    first: 'a',
    last: 'b',
    terminalPreserved: true,
  };

  it('matches every notice with the fields given, whatever the others', () => {
    expect(notice({ dropped: 2 }).asymmetricMatch(real)).toBe(true);
    expect(notice({ first: 'a', policy: 'drop-oldest' }).asymmetricMatch(real)).toBe(true);
    expect(notice().asymmetricMatch(real)).toBe(true);
    expect(real).toEqual(notice({ dropped: 2 }));
  });

  it('fails on a differing field, and on anything that is not a notice', () => {
    expect(notice({ dropped: 1 }).asymmetricMatch(real)).toBe(false);
    expect(notice({ last: 'c' }).asymmetricMatch(real)).toBe(false);
    expect(notice().asymmetricMatch('a')).toBe(false);
    expect(notice().asymmetricMatch({ dropped: 1 })).toBe(false);
    expect(real).not.toEqual(notice({ merged: 1 }));
  });

  it('prints as it was written', () => {
    expect(String(notice({ dropped: 2, first: 'a' }))).toBe('notice({"dropped":2,"first":"a"})');
  });
});

import type { Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { describe, expectTypeOf, it } from 'vitest';
import type { EventBus, EventFrame, OverflowNotice, QueueStats } from '../../src/index.js';
import {
  type DemandMarble,
  demandFrom,
  expectAccounted,
  expectDenseSeq,
  type expectLaneOrder,
  framesMarble,
  type IterableStepper,
  isNotice,
  type NoticeMatcher,
  notice,
  runVirtual,
  type VirtualHelpers,
  withNotices,
} from '../../src/testing/index.js';

describe('the test kit: types', () => {
  it('withNotices, isNotice, notice', () => {
    expectTypeOf(withNotices<number>(() => [1])).toEqualTypeOf<
      Observable<number | OverflowNotice<number>>
    >();
    expectTypeOf(withNotices({} as Observable<EventFrame>)).toEqualTypeOf<
      Observable<EventFrame | OverflowNotice<EventFrame>>
    >();
    const item = {} as string | OverflowNotice<string>;
    if (isNotice(item)) expectTypeOf(item).toEqualTypeOf<OverflowNotice<string>>();
    else expectTypeOf(item).toEqualTypeOf<string>();
    expectTypeOf(notice<string>({ first: 'a' })).toEqualTypeOf<NoticeMatcher<string>>();
    // @ts-expect-error: a notice has no such field
    notice({ lost: 1 });
  });

  it('expectAccounted, expectDenseSeq, expectLaneOrder', () => {
    expectTypeOf(expectAccounted<string>).parameters.toEqualTypeOf<
      [
        Iterable<string>,
        Iterable<string | OverflowNotice<string>>,
        ({ key?: ((value: string) => unknown) | undefined } | undefined)?,
      ]
    >();
    expectTypeOf(expectDenseSeq).parameter(0).toExtend<Iterable<{ seq: number }>>();
    expectTypeOf<EventFrame[]>().toExtend<Parameters<typeof expectLaneOrder>[0]>();
  });

  it('demandFrom', () => {
    const demand = demandFrom('1-2', { a: 10 });
    expectTypeOf(demand).toExtend<Observable<number>>();
    expectTypeOf(demand).toEqualTypeOf<DemandMarble>();
    expectTypeOf(demand.inspect).toEqualTypeOf<(readStats: () => QueueStats) => void>();
    // @ts-expect-error: values map letters to counts
    expectTypeOf(demandFrom).toBeCallableWith('a', { a: 'ten' });
  });

  it('runVirtual and its helpers', () => {
    expectTypeOf(runVirtual<number>).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf<VirtualHelpers['scheduler']>().toEqualTypeOf<TestScheduler>();
    // Types only: the helpers exist inside a run.
    const typesOf = (helpers: VirtualHelpers) => {
      expectTypeOf(helpers.promiseAt('-a')).toEqualTypeOf<Promise<string>>();
      expectTypeOf(helpers.promiseAt('-a', { a: 1 })).toEqualTypeOf<Promise<number>>();
      expectTypeOf(helpers.cold('-a', { a: true })).toEqualTypeOf<Observable<boolean>>();
      expectTypeOf(helpers.stepIterable({} as AsyncIterable<number>)).toEqualTypeOf<
        IterableStepper<number>
      >();
    };
    expectTypeOf(typesOf).toBeFunction();
    expectTypeOf<IterableStepper<number>['expectNext']>().returns.toEqualTypeOf<Promise<number>>();
  });

  it('framesMarble', () => {
    expectTypeOf(
      framesMarble({} as Observable<EventFrame<string>>, {} as EventBus<string>),
    ).toEqualTypeOf<Observable<string | OverflowNotice<EventFrame<string>>>>();
  });
});

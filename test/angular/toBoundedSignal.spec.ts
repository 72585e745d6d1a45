import {
  ɵChangeDetectionScheduler as ChangeDetectionScheduler,
  createEnvironmentInjector,
  DestroyRef,
  type EnvironmentInjector,
  ɵINJECTOR_SCOPE as INJECTOR_SCOPE,
  Injector,
  NgZone,
  ɵNoopNgZone as NoopNgZone,
  PendingTasks,
  PLATFORM_ID,
  runInInjectionContext,
  type Signal,
} from '@angular/core';
import { BehaviorSubject, NEVER, Observable, of, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type ToBoundedSignalOptions, toBoundedSignal } from '../../src/angular/index.js';

/**
 * A root injector, as a zoneless application has, on the browser or on the server (with a
 * change detection scheduler that does nothing: there is no view to check).
 */
function rootInjector(platform: 'browser' | 'server' = 'browser'): EnvironmentInjector {
  return createEnvironmentInjector(
    [
      { provide: INJECTOR_SCOPE, useValue: 'root' },
      { provide: PLATFORM_ID, useValue: platform },
      { provide: ChangeDetectionScheduler, useValue: { notify: () => {}, runningTick: false } },
      { provide: NgZone, useValue: new NoopNgZone() },
    ],
    Injector.create({ providers: [] }) as EnvironmentInjector,
  );
}

/** Whether rendering would wait: the app has pending tasks. */
function hasPendingTasks(injector: Injector): boolean {
  const tasks = injector.get(PendingTasks) as unknown as {
    internalPendingTasks: { hasPendingTasks: boolean };
  };
  return tasks.internalPendingTasks.hasPendingTasks;
}

describe('toBoundedSignal', () => {
  it('writes the latest value at most once per window tick, and at once on complete', () => {
    const injector = rootInjector();
    const source = new Subject<number>();
    const ticks = new Subject<void>();
    const value = toBoundedSignal(source, { injector, window: ticks });
    expect(value()).toBeUndefined();
    source.next(1);
    source.next(2);
    expect(value()).toBeUndefined();
    expect(ticks.observed).toBe(true);
    ticks.next();
    expect(value()).toBe(2);
    expect(ticks.observed).toBe(false);
    source.next(3);
    expect(value()).toBe(2);
    source.complete();
    expect(value()).toBe(3);
    expect(ticks.observed).toBe(false);
  });

  it('folds every value with reduce: nothing is lost between two windows', () => {
    const injector = rootInjector();
    const source = new Subject<string>();
    const ticks = new Subject<void>();
    const text = toBoundedSignal(source, {
      injector,
      window: ticks,
      initialValue: '',
      reduce: (state: string, delta: string) => state + delta,
    });
    for (const delta of ['a', 'b', 'c']) source.next(delta);
    expect(text()).toBe('');
    ticks.next();
    expect(text()).toBe('abc');
    source.next('d');
    ticks.next();
    expect(text()).toBe('abcd');
  });

  it('with the default window (frames), writes once per 16 ms frame where there are no animation frames', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ hot, flush }) => {
      const injector = rootInjector();
      const source = hot('a-b-c 20ms d|', { a: 1, b: 2, c: 3, d: 4 });
      const value = toBoundedSignal(source, { injector, initialValue: 0 });
      const seen: Array<[number, number]> = [];
      // Read just after each time's own actions (the frame timer included) have run.
      for (const time of [0, 5, 15, 16, 20, 25, 26]) {
        scheduler.schedule(() => scheduler.schedule(() => seen.push([time, value()])), time);
      }
      flush();
      // 1, 2 and 3 come at 0, 2 and 4: one write at the frame (16) shows 3; 4 comes at 25 and
      // waits for the next frame, but the completion at 26 shows it at once.
      expect(seen).toEqual([
        [0, 0],
        [5, 0],
        [15, 0],
        [16, 3],
        [20, 3],
        [25, 3],
        [26, 4],
      ]);
    });
  });

  it('window 0 writes every value at once; a notifier that emits at once works each time', () => {
    const injector = rootInjector();
    const source = new BehaviorSubject(1);
    const now = toBoundedSignal(source, { injector, window: 0 });
    const sync = toBoundedSignal(source, { injector, window: of(0) });
    source.next(2);
    expect([now(), sync()]).toEqual([2, 2]);
    source.next(3);
    expect([now(), sync()]).toEqual([3, 3]);
  });

  it("throws the source's error when read, after showing the state before it", () => {
    const injector = rootInjector();
    const source = new Subject<number>();
    const ticks = new Subject<void>();
    const boom = new Error('boom');
    const value = toBoundedSignal(source, { injector, window: ticks, initialValue: 0 });
    source.next(1);
    source.error(boom);
    expect(() => value()).toThrow(boom);
    expect(ticks.observed).toBe(false);
  });

  it("a window notifier's error is thrown when the signal is read, and the source is left", () => {
    const injector = rootInjector();
    const source = new Subject<number>();
    const ticks = new Subject<void>();
    const value = toBoundedSignal(source, { injector, window: ticks, initialValue: 0 });
    source.next(1);
    ticks.error(new Error('no frames'));
    expect(() => value()).toThrow('no frames');
    expect(source.observed).toBe(false);
  });

  it('a throwing reduce is thrown when the signal is read', () => {
    const injector = rootInjector();
    const source = new Subject<number>();
    const value = toBoundedSignal(source, {
      injector,
      window: 0,
      initialValue: 0,
      reduce: (state: number, next: number) => {
        if (next === 2) throw new Error('reduce failed');
        return state + next;
      },
    });
    source.next(1);
    expect(value()).toBe(1);
    source.next(2);
    expect(() => value()).toThrow('reduce failed');
    expect(source.observed).toBe(false);
  });

  it("ends the subscription (source and window) when the injector's DestroyRef fires", () => {
    const injector = rootInjector();
    const source = new Subject<number>();
    const ticks = new Subject<void>();
    const value = toBoundedSignal(source, { injector, window: ticks });
    source.next(1);
    expect([source.observed, ticks.observed]).toEqual([true, true]);
    injector.destroy();
    expect([source.observed, ticks.observed]).toEqual([false, false]);
    expect(value()).toBeUndefined();
  });

  it('manualCleanup keeps the subscription past the injector', () => {
    const injector = rootInjector();
    const source = new Subject<number>();
    const value = toBoundedSignal(source, { injector, window: 0, manualCleanup: true });
    injector.destroy();
    source.next(5);
    expect(value()).toBe(5);
    expect(source.observed).toBe(true);
    source.complete();
  });

  it('runs in an injection context, and refuses to run outside one without an injector', () => {
    const injector = rootInjector();
    const value = runInInjectionContext(injector, () => toBoundedSignal(of(7), { window: 0 }));
    expect(value()).toBe(7);
    expect(() => toBoundedSignal(of(7))).toThrow(/injection context/);
    expect(injector.get(DestroyRef)).toBeDefined();
  });

  it('on the server: no frames, every value at once, and rendering waits for the source to end', () => {
    const injector = rootInjector('server');
    const source = new Subject<string>();
    const text = toBoundedSignal(source, {
      injector,
      initialValue: '',
      reduce: (state: string, delta: string) => state + delta,
    });
    expect(hasPendingTasks(injector)).toBe(true);
    source.next('a');
    source.next('b');
    expect(text()).toBe('ab');
    source.complete();
    expect(hasPendingTasks(injector)).toBe(false);
  });

  it('on the server, awaitOnServer false does not hold the rendering', () => {
    const injector = rootInjector('server');
    toBoundedSignal(NEVER, { injector, awaitOnServer: false });
    expect(hasPendingTasks(injector)).toBe(false);
    const held = rootInjector('server');
    toBoundedSignal(NEVER, { injector: held });
    expect(hasPendingTasks(held)).toBe(true);
    held.destroy();
  });

  it.each([
    ['options', null, /toBoundedSignal: options must be an object, got null/],
    ['reduce', { reduce: 1 }, /toBoundedSignal: reduce must be a function, got 1/],
    ['equal', { equal: 'x' }, /toBoundedSignal: equal must be a function, got "x"/],
    ['window', { window: -1 }, /toBoundedSignal: window must be a non-negative number.*got -1/],
    ['window NaN', { window: Number.NaN }, /window must be .*got NaN/],
  ])('refuses a bad %s at the call, naming it', (_name, options, message) => {
    const injector = rootInjector();
    const call = () =>
      toBoundedSignal(of(1), {
        injector,
        ...(options as object),
      } as ToBoundedSignalOptions<number> as never);
    expect(options === null ? () => toBoundedSignal(of(1), null as never) : call).toThrow(message);
  });

  it('refuses a source that is not an Observable', () => {
    expect(() => toBoundedSignal({} as Observable<number>, { injector: rootInjector() })).toThrow(
      /toBoundedSignal: source must be an Observable/,
    );
  });

  it('is typed after toSignal: T | undefined without initialValue, the state type with reduce', () => {
    const injector = rootInjector();
    expectTypeOf(toBoundedSignal(of(1), { injector })).toEqualTypeOf<Signal<number | undefined>>();
    expectTypeOf(toBoundedSignal(of(1), { injector, initialValue: 0 })).toEqualTypeOf<
      Signal<number>
    >();
    expectTypeOf(
      toBoundedSignal(of(1), {
        injector,
        initialValue: '',
        reduce: (state: string, value: number) => state + value,
      }),
    ).toEqualTypeOf<Signal<string>>();
    expect(new Observable()).toBeInstanceOf(Observable);
  });
});

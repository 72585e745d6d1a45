import {
  assertInInjectionContext,
  computed,
  DestroyRef,
  Injector,
  inject,
  PendingTasks,
  PLATFORM_ID,
  type Signal,
  signal,
  untracked,
} from '@angular/core';
import { from, type Observable, type ObservableInput, type Subscription, take, timer } from 'rxjs';
import { checkFunction, typeError } from '../core/checks.js';
import { frames } from '../operators/frames.js';

/** The options of {@link toBoundedSignal}, as those of Angular's `toSignal` plus the window. */
export interface ToBoundedSignalOptions<T, S = T> {
  /**
   * The signal's value before the source's first value (and the first state of `reduce`).
   * Default: `undefined`.
   */
  initialValue?: S | undefined;
  /**
   * Folds each value into the signal's state (append a text delta, count events): the state is
   * updated at every value, and the signal shows it at most once per window. Default: the state
   * is the latest value.
   */
  reduce?: ((state: S, value: T) => S) | undefined;
  /**
   * When the signal shows the state it holds: at the first tick of this notifier (or this many ms)
   * after a value changed it, so the page renders at most once per window however fast values
   * come. `0` writes at every value. Default: `frames()`, once per animation frame, with a timer
   * where there are none and a fallback in a hidden tab. On the server there is no window: every
   * value is written at once.
   */
  window?: number | ObservableInput<unknown> | undefined;
  /**
   * Where the signal lives: its `DestroyRef` ends the subscription. Default: the current
   * injection context (calling `toBoundedSignal` outside one without `injector` throws, as
   * `toSignal` does).
   */
  injector?: Injector | undefined;
  /**
   * Keeps the subscription when the injector is destroyed: it then ends only with the source.
   * Default: `false`.
   */
  manualCleanup?: boolean | undefined;
  /**
   * On the server, holds the application's rendering until the source completes or errs, so the
   * page is rendered with the final value. Set it to `false` for a source that does not end on
   * the server. Default: `true`.
   */
  awaitOnServer?: boolean | undefined;
  /** The signal's equality function. Default: `Object.is`. */
  equal?: ((a: S, b: S) => boolean) | undefined;
}

type State<S> = { readonly value: S } | { readonly error: unknown };

const OWNER = 'toBoundedSignal';

/**
 * A signal from an Observable that may flood: Angular's `toSignal`, except that the signal is
 * written at most once per window (a frame, by default) with the state folded from every value
 * since. Pipe the source through the operators that bound it (`summarizeProgress`, `paceText`,
 * `boundedQueue`) and render the signal: however fast the source, a component re-renders at most
 * once per frame, and no value is lost on the way (`reduce` sees each one).
 *
 * As with `toSignal`: called in an injection context or given `injector`; the subscription ends
 * when that injector is destroyed (`DestroyRef`); the source's error is thrown when the signal is
 * read; `complete` writes the last state at once. Zoneless-friendly (a signal write schedules
 * change detection) and SSR-safe: on the server there are no frames, every value is written at
 * once, and rendering waits for the source to end (`awaitOnServer`).
 *
 * @example
 * ```ts
 * readonly text = toBoundedSignal(deltas$.pipe(paceText(paceOptions)), {
 *   initialValue: '',
 *   reduce: (text, delta) => text + delta.payload.text,
 * });
 * ```
 *
 * @throws TypeError at the call for bad options (naming the option and value), and Angular's
 * error outside an injection context without `injector`.
 */
export function toBoundedSignal<T>(
  source: Observable<T>,
  options?: ToBoundedSignalOptions<T, T | undefined> & {
    initialValue?: undefined;
    reduce?: undefined;
  },
): Signal<T | undefined>;
export function toBoundedSignal<T>(
  source: Observable<T>,
  options: ToBoundedSignalOptions<T, T> & { initialValue: T; reduce?: undefined },
): Signal<T>;
export function toBoundedSignal<T, S>(
  source: Observable<T>,
  options: ToBoundedSignalOptions<T, S> & {
    initialValue: S;
    reduce: (state: S, value: T) => S;
  },
): Signal<S>;
export function toBoundedSignal<T, S>(
  source: Observable<T>,
  options: ToBoundedSignalOptions<T, S> = {},
): Signal<S> {
  checkSignalOptions(source, options);
  const { reduce, manualCleanup = false, awaitOnServer = true, equal } = options;
  if (options.injector === undefined) assertInInjectionContext(toBoundedSignal);
  const injector = options.injector ?? inject(Injector);
  const onServer = injector.get(PLATFORM_ID, null) === 'server';
  const window = onServer ? 0 : (options.window ?? frames());
  let current = options.initialValue as S;
  const state = signal<State<S>>({ value: current });
  let ticks: Subscription | undefined;
  let subscription: Subscription | undefined;
  const endTask = onServer && awaitOnServer ? injector.get(PendingTasks, null)?.add() : undefined;

  const show = (): void => {
    const pending = ticks;
    ticks = undefined;
    pending?.unsubscribe();
    state.set({ value: current });
  };
  const end = (): void => {
    ticks?.unsubscribe();
    ticks = undefined;
    endTask?.();
  };
  const ask = (): void => {
    if (ticks !== undefined) return;
    const notifier = typeof window === 'number' ? timer(window) : from(window);
    const subscribed = notifier.pipe(take(1)).subscribe({ next: show, error: fail });
    // A notifier that emitted at once has shown the state already.
    ticks = subscribed.closed ? undefined : subscribed;
  };
  const fail = (error: unknown): void => {
    end();
    state.set({ error });
    subscription?.unsubscribe();
  };

  untracked(() => {
    subscription = source.subscribe({
      next: (value) => {
        try {
          current = reduce === undefined ? (value as unknown as S) : reduce(current, value);
        } catch (error) {
          fail(error);
          return;
        }
        if (window === 0) show();
        else ask();
      },
      error: (error: unknown) => {
        if (ticks !== undefined) show();
        fail(error);
      },
      complete: () => {
        if (ticks !== undefined) show();
        end();
      },
    });
  });
  if (!manualCleanup) {
    injector.get(DestroyRef).onDestroy(() => {
      subscription?.unsubscribe();
      end();
    });
  }
  return computed(
    () => {
      const now = state();
      if ('error' in now) throw now.error;
      return now.value;
    },
    equal === undefined ? undefined : { equal },
  );
}

/** Bad options throw at the call, naming the option and the value. */
function checkSignalOptions<T, S>(source: unknown, options: ToBoundedSignalOptions<T, S>): void {
  if (options === null || typeof options !== 'object') {
    throw typeError(OWNER, 'options', 'an object', options);
  }
  if (
    source === null ||
    typeof source !== 'object' ||
    typeof (source as { subscribe?: unknown }).subscribe !== 'function'
  ) {
    throw typeError(OWNER, 'source', 'an Observable', source);
  }
  checkFunction(options.reduce, OWNER, 'reduce');
  checkFunction(options.equal, OWNER, 'equal');
  const { window } = options;
  if (typeof window === 'number' ? !(window >= 0) : window === null) {
    throw typeError(OWNER, 'window', 'a non-negative number of ms or an ObservableInput', window);
  }
}

import { type Subscription, VirtualTimeScheduler } from 'rxjs';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { type FramesConfig, frames } from '../../src/operators/frames.js';

/** Moves a virtual clock to `time`, running every action due until then. */
function advanceTo(scheduler: VirtualTimeScheduler, time: number): void {
  scheduler.maxFrames = time;
  scheduler.flush();
  scheduler.frame = time;
}

/**
 * A browser's frame loop on a virtual clock: `requestAnimationFrame` calls back at the next
 * multiple of 16 ms while `running`, never once stopped (a hidden tab); a document whose
 * visibility can change.
 */
function fakeBrowser(scheduler: VirtualTimeScheduler) {
  const pending = new Map<number, Subscription>();
  const listeners = new Set<() => void>();
  let nextHandle = 1;
  const browser = {
    running: true,
    requested: 0,
    document: {
      visibilityState: 'visible',
      addEventListener: (type: string, listener: () => void) => {
        if (type === 'visibilitychange') listeners.add(listener);
      },
      removeEventListener: (type: string, listener: () => void) => {
        if (type === 'visibilitychange') listeners.delete(listener);
      },
    },
    listeners,
    pending,
    hide() {
      browser.running = false;
      browser.document.visibilityState = 'hidden';
      for (const listener of [...listeners]) listener();
    },
  };
  vi.stubGlobal('requestAnimationFrame', (callback: (time: number) => void) => {
    const handle = nextHandle++;
    browser.requested++;
    if (!browser.running) return handle;
    const delay = 16 - (scheduler.now() % 16);
    pending.set(
      handle,
      scheduler.schedule(() => {
        pending.delete(handle);
        if (browser.running) callback(scheduler.now());
      }, delay),
    );
    return handle;
  });
  vi.stubGlobal('cancelAnimationFrame', (handle: number) => {
    pending.get(handle)?.unsubscribe();
    pending.delete(handle);
  });
  vi.stubGlobal('document', browser.document);
  return browser;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('frames', () => {
  describe('options', () => {
    const bad: Array<[string, unknown, RegExp]> = [
      ['options', null, /frames: options must be an object, got null/],
      [
        'interval 0',
        { interval: 0 },
        /frames: interval must be a finite positive number of ms, got 0/,
      ],
      ['interval Infinity', { interval: Number.POSITIVE_INFINITY }, /interval must be .*Infinity/],
      ['interval NaN', { interval: Number.NaN }, /interval must be .*got NaN/],
      ['maxWait -1', { maxWait: -1 }, /frames: maxWait must be a positive number of ms, got -1/],
      ['maxWait string', { maxWait: '5' }, /maxWait must be .*got "5"/],
      ['scheduler', { scheduler: {} }, /frames: scheduler must be a SchedulerLike/],
    ];
    it.each(bad)('rejects a bad %s at creation, naming it', (_name, options, message) => {
      expect(() => frames(options as FramesConfig)).toThrow(message);
    });

    it('accepts maxWait Infinity and no options', () => {
      expect(() => frames({ maxWait: Number.POSITIVE_INFINITY })).not.toThrow();
      expect(() => frames()).not.toThrow();
      expectTypeOf(frames()).toEqualTypeOf<import('rxjs').Observable<number>>();
    });
  });

  describe('without animation frames (Node, server rendering, tests)', () => {
    it('ticks on the scheduler every interval, and unsubscribing leaves no timer', () => {
      const scheduler = new VirtualTimeScheduler();
      const ticks: number[] = [];
      const subscription = frames({ interval: 10, scheduler }).subscribe((time) =>
        ticks.push(time),
      );
      advanceTo(scheduler, 35);
      expect(ticks).toEqual([10, 20, 30]);
      subscription.unsubscribe();
      expect(scheduler.actions.filter((action) => !action.closed)).toHaveLength(0);
    });
  });

  describe('with animation frames', () => {
    it('ticks once per frame, and the maxWait timer never ticks while frames come', () => {
      const scheduler = new VirtualTimeScheduler();
      fakeBrowser(scheduler);
      const ticks: number[] = [];
      frames({ scheduler, maxWait: 40 }).subscribe((time) => ticks.push(time));
      advanceTo(scheduler, 100);
      expect(ticks).toEqual([16, 32, 48, 64, 80, 96]);
    });

    it('when frames stop (a hidden tab), ticks every maxWait until they resume', () => {
      const scheduler = new VirtualTimeScheduler();
      const browser = fakeBrowser(scheduler);
      const ticks: number[] = [];
      frames({ scheduler, maxWait: 100 }).subscribe((time) => ticks.push(time));
      advanceTo(scheduler, 40);
      browser.running = false;
      advanceTo(scheduler, 400);
      expect(ticks).toEqual([16, 32, 132, 232, 332]);
    });

    it('while the document is hidden, ticks every maxWait', () => {
      const scheduler = new VirtualTimeScheduler();
      const browser = fakeBrowser(scheduler);
      const ticks: number[] = [];
      frames({ scheduler, maxWait: 50 }).subscribe((time) => ticks.push(time));
      advanceTo(scheduler, 20);
      browser.hide();
      advanceTo(scheduler, 200);
      expect(ticks).toEqual([16, 50, 100, 150, 200]);
    });

    it('hiding the page ticks at once when the timer is late (a throttled background timer)', () => {
      const scheduler = new VirtualTimeScheduler();
      const browser = fakeBrowser(scheduler);
      const ticks: number[] = [];
      frames({ scheduler, maxWait: 50 }).subscribe((time) => ticks.push(time));
      advanceTo(scheduler, 20);
      browser.running = false;
      // The clock moves on without running the timer due at 66, as a throttled tab's timers do.
      scheduler.frame = 90;
      browser.hide();
      advanceTo(scheduler, 91);
      expect(ticks).toEqual([16, 90]);
    });

    it('unsubscribing cancels the frame, the timer and the visibility listener', () => {
      const scheduler = new VirtualTimeScheduler();
      const browser = fakeBrowser(scheduler);
      const subscription = frames({ scheduler }).subscribe();
      advanceTo(scheduler, 20);
      expect(browser.listeners.size).toBe(1);
      subscription.unsubscribe();
      expect(browser.pending.size).toBe(0);
      expect(browser.listeners.size).toBe(0);
      expect(scheduler.actions.filter((action) => !action.closed)).toHaveLength(0);
    });

    it('with maxWait Infinity, only frames tick and no listener is added', () => {
      const scheduler = new VirtualTimeScheduler();
      const browser = fakeBrowser(scheduler);
      const ticks: number[] = [];
      frames({ scheduler, maxWait: Number.POSITIVE_INFINITY }).subscribe((time) =>
        ticks.push(time),
      );
      advanceTo(scheduler, 20);
      browser.running = false;
      advanceTo(scheduler, 1000);
      expect(ticks).toEqual([16]);
      expect(browser.listeners.size).toBe(0);
    });
  });
});

import { describe, expect, it } from 'vitest';
import { TriggerRelay, type TriggerTarget } from '../../src/internal/queueTriggers.js';

function target(calls: string[]): TriggerTarget {
  return {
    grant: (credits) => calls.push(`grant ${credits}`),
    tick: () => calls.push('tick'),
    fail: (error) => calls.push(`fail ${(error as Error).message}`),
  };
}

describe('TriggerRelay', () => {
  it('keeps grants and ticks until attached, hands them over at once, then forwards', () => {
    const relay = new TriggerRelay();
    const calls: string[] = [];
    relay.grant(2);
    relay.grant(3);
    relay.tick();
    relay.tick();
    relay.attach(target(calls));
    expect(calls).toEqual(['grant 5', 'tick', 'tick']);
    relay.grant(1);
    relay.tick();
    relay.fail(new Error('late'));
    expect(calls).toEqual(['grant 5', 'tick', 'tick', 'grant 1', 'tick', 'fail late']);
  });

  it('hands over the first failure alone (what came with it no longer matters)', () => {
    const relay = new TriggerRelay();
    const calls: string[] = [];
    relay.grant(4);
    relay.fail(new Error('first'));
    relay.fail(new Error('second'));
    relay.attach(target(calls));
    expect(calls).toEqual(['fail first']);
  });

  it('hands over nothing when nothing came', () => {
    const relay = new TriggerRelay();
    const calls: string[] = [];
    relay.attach(target(calls));
    expect(calls).toEqual([]);
  });
});

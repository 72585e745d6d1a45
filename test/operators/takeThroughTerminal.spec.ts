import { type MonoTypeOperatorFunction, Observable, Subject } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { classifyLetter } from '../../marbles/fixtures.js';
import {
  agentEventKey,
  agentEventScope,
  classifyAgentEvent,
  mergeAgentProgress,
} from '../../src/bus/agentEvents.js';
import type { EventFrame } from '../../src/bus/types.js';
import type { Classifier } from '../../src/core/types.js';
import { summarizeProgress } from '../../src/operators/summarizeProgress.js';
import { takeThroughTerminal } from '../../src/operators/takeThroughTerminal.js';

describe('takeThroughTerminal', () => {
  it.each([
    [undefined, /classify must be a function, got undefined/],
    ['terminal', /classify must be a function, got "terminal"/],
  ])('rejects a bad classify (%j) at creation with a TypeError naming it', (classify, message) => {
    expect(() => takeThroughTerminal(classify as unknown as Classifier<unknown>)).toThrow(
      TypeError,
    );
    expect(() => takeThroughTerminal(classify as unknown as Classifier<unknown>)).toThrow(message);
  });

  it('stops a synchronous infinite source at the terminal value', () => {
    let produced = 0;
    const endless = new Observable<string>((subscriber) => {
      for (let index = 0; !subscriber.closed && index < 10_000; index++) {
        produced++;
        subscriber.next(index === 4 ? 'T' : 'a');
      }
    });
    const received: string[] = [];
    let completed = false;
    endless.pipe(takeThroughTerminal<string>(classifyLetter)).subscribe({
      next: (value) => received.push(value),
      complete: () => {
        completed = true;
      },
    });
    expect(received).toEqual(['a', 'a', 'a', 'a', 'T']);
    expect(produced).toBe(5);
    expect(completed).toBe(true);
  });

  it('ignores a value pushed back into the source while the terminal is delivered', () => {
    const source = new Subject<string>();
    const received: string[] = [];
    source.pipe(takeThroughTerminal<string>(classifyLetter)).subscribe((value) => {
      received.push(value);
      if (value === 'T') source.next('b');
    });
    source.next('a');
    source.next('T');
    source.next('c');
    expect(received).toEqual(['a', 'T']);
    expect(source.observed).toBe(false);
  });

  it('takes one run of agent events through its run.finished', () => {
    const events = [
      { kind: 'run.started' },
      { kind: 'model.delta' },
      { kind: 'run.finished' },
      { kind: 'model.delta' },
    ];
    const received: string[] = [];
    new Observable<{ kind: string }>((subscriber) => {
      for (const event of events) subscriber.next(event);
      subscriber.complete();
    })
      .pipe(takeThroughTerminal(classifyAgentEvent))
      .subscribe((event) => received.push(event.kind));
    expect(received).toEqual(['run.started', 'model.delta', 'run.finished']);
  });

  it('is typed as a MonoTypeOperatorFunction of the value type', () => {
    // classifyAgentEvent is generic, so the operator keeps the stream's own value type.
    const frames$ = new Observable<EventFrame<{ text: string }>>();
    expectTypeOf(frames$.pipe(takeThroughTerminal(classifyAgentEvent))).toEqualTypeOf<
      Observable<EventFrame<{ text: string }>>
    >();
    expectTypeOf(
      frames$.pipe(
        summarizeProgress({
          classify: classifyAgentEvent,
          key: agentEventKey,
          scope: agentEventScope,
          merge: (a, b) => ({ ...a, payload: { text: a.payload!.text + b.payload!.text } }),
        }),
      ),
    ).toEqualTypeOf<Observable<EventFrame<{ text: string }>>>();
    expectTypeOf(
      frames$.pipe(
        summarizeProgress({
          classify: classifyAgentEvent,
          key: agentEventKey,
          scope: agentEventScope,
          merge: mergeAgentProgress,
        }),
        takeThroughTerminal(classifyAgentEvent),
      ),
    ).toEqualTypeOf<Observable<EventFrame<{ text: string }>>>();
    // A classifier typed more loosely than the stream keeps the stream's type.
    const byKind = (event: { kind: string }) => (event.kind === 'done' ? 'terminal' : 'normal');
    expectTypeOf(frames$.pipe(takeThroughTerminal(byKind))).toEqualTypeOf<
      Observable<EventFrame<{ text: string }>>
    >();
    expectTypeOf(
      frames$.pipe(takeThroughTerminal((_value: unknown) => 'normal' as const)),
    ).toEqualTypeOf<Observable<EventFrame<{ text: string }>>>();
    expectTypeOf(takeThroughTerminal(byKind)).toEqualTypeOf<
      MonoTypeOperatorFunction<{ kind: string }>
    >();
    expectTypeOf(takeThroughTerminal<string>(classifyLetter)).toEqualTypeOf<
      MonoTypeOperatorFunction<string>
    >();
  });
});

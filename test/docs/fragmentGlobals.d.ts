/**
 * The names the documentation's fragments (` ```ts fragment ` blocks) use without declaring
 * them, as the surrounding prose introduces them. Only fragments see these; a complete block
 * must declare or import everything it uses.
 */
import type { Redis } from 'ioredis';
import type { Observable } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import type { AgentEvent, Classifier, EventBus, EventFrame } from '../../src/index.js';

declare global {
  /** The payload of the agent events in the examples. */
  interface AgentPayload {
    text?: string;
    [field: string]: unknown;
  }
  /** A bus of agent events, and its frames. */
  const bus: EventBus;
  const frame: EventFrame<AgentPayload>;
  const runId: string;
  /** Streams of agent events, frames, deltas, lanes. */
  const events$: Observable<EventFrame<AgentPayload>>;
  const agentEvents$: Observable<EventFrame<AgentPayload>>;
  const frames$: Observable<EventFrame<AgentPayload>>;
  const deltas$: Observable<EventFrame<AgentPayload> & { text: string }>;
  const source$: Observable<AgentEvent<AgentPayload>>;
  const planner$: Observable<EventFrame<AgentPayload>>;
  const coder$: Observable<EventFrame<AgentPayload>>;
  const tester$: Observable<EventFrame<AgentPayload>>;
  const written$: Observable<void>;
  /** An event about to be published. */
  const call: AgentEvent<AgentPayload>;
  /** A store of frames. */
  interface Journal {
    // biome-ignore lint/suspicious/noExplicitAny: a journal of any bus's frames.
    frames$: Observable<EventFrame<any>>;
  }
  /** Provides the application's bus (an Angular service). */
  class AgentBus {
    readonly bus: EventBus<AgentPayload>;
  }
  function priority(value: unknown): number;
  const ready$: Observable<number>;
  const saveClicks$: Observable<unknown>;
  const rows$: Observable<{ id: number }>;
  /** Classifies agent events and frames. */
  const classify: Classifier<AgentEvent<AgentPayload>>;
  /** A cursor saved earlier, and an abort signal. */
  const cursor: number;
  const lastSeenSeq: number;
  const signal: AbortSignal;
  const redis: Redis;
  const testScheduler: TestScheduler;
  /** What the examples do with what they receive. */
  function render(...values: unknown[]): void;
  function paint(value: unknown): void;
  function showGap(gap: unknown): void;
  function save(value: unknown): Promise<void>;
  function done(): void;
  function loadCursor(): Promise<number>;
  function saveCursor(seq: number): Promise<void>;
  function writeToDisk(value: unknown): Promise<void>;
  function laneOf(value: unknown): string;
  function mergeDelta<T>(acc: T, next: T): T;
  const log: {
    warn(...values: unknown[]): void;
    info(...values: unknown[]): void;
    error(...values: unknown[]): void;
  };
  const db: {
    insert(...values: unknown[]): Promise<void>;
    write(...values: unknown[]): Promise<void>;
  };
  const api: { save(value: unknown): Promise<unknown> };
  const form: { value: unknown };
  const metrics: { count(name: string, value?: number): void };
  function dashboard(value: unknown): void;
}

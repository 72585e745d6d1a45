/**
 * Ready-made helpers for agent events: the classifier the bus uses by default, the key that
 * groups progress of one run, lane and kind, and the merge that folds progress without losing
 * text or counts. They plug into `summarizeProgress({ classify, key, merge })` and into the
 * `coalesce(merge, key)` overflow policy.
 *
 * Self-contained on purpose: the types here are structural, so any event with a `kind` works
 * (the bus's `AgentEvent` and `EventFrame` among them).
 *
 * @packageDocumentation
 */
import { combineNotices } from '../core/notices.js';
import type { EventClass, OverflowNotice } from '../core/types.js';

/** The visibility levels, least restrictive first. */
const VISIBILITY_RANK: Readonly<Record<string, number>> = { public: 0, internal: 1, private: 2 };

/**
 * What a merged value stands for: `count` input values, covering `firstSeq..lastSeq` when the
 * values carry a `seq` (bus frames do). Only merged values carry it, so its presence tells a
 * summary from a single event.
 */
export interface ProgressSummary {
  /** How many input values this one stands for (at least 2 on a merged value). */
  count: number;
  /** The `seq` of the first value folded in, when values carry one. */
  firstSeq?: number;
  /** The `seq` of the last value folded in, when values carry one. */
  lastSeq?: number;
}

/**
 * The structural shape the helpers need: the bus's `AgentEvent` and `EventFrame` fit it, and so
 * does any object with a `kind`.
 */
export interface AgentEventLike {
  /** What happened, e.g. `'model.delta'`, `'tool.call'`, `'run.finished'`. */
  kind: string;
  /** The run the event belongs to. */
  runId?: string | undefined;
  /** The agent that emitted it. */
  agentId?: string | undefined;
  /** Absent means `'main'`. */
  laneId?: string | undefined;
  /** Who may see it (`'public'`, `'internal'`, `'private'`); merging never widens it. */
  visibility?: string | undefined;
  /** The event's data; for `model.delta`, `{ text }` or a string. */
  payload?: unknown;
  /** The bus's global cursor, when the value is a frame. */
  seq?: number | undefined;
  /** Present on merged values only: see {@link ProgressSummary}. */
  summary?: ProgressSummary | undefined;
}

/** Kinds that end a run: never dropped, never merged. */
export const TERMINAL_KINDS = ['run.finished', 'run.error', 'run.cancelled'] as const;

/** High-rate kinds that are merged or dropped first. */
export const PROGRESS_KINDS = ['model.delta', 'usage', 'cost', 'stats'] as const;

/** One of {@link TERMINAL_KINDS}. */
export type TerminalKind = (typeof TERMINAL_KINDS)[number];

/** One of {@link PROGRESS_KINDS}. */
export type ProgressKind = (typeof PROGRESS_KINDS)[number];

/**
 * The catalogue of the agent kinds the library knows, as an event map (kind → payload type) for
 * `EventBus.typed`: the terminal kinds (`run.finished`, `run.error`, `run.cancelled`), whose
 * payload is free, and the progress kinds, whose payloads `mergeAgentProgress` knows how to
 * merge (`model.delta` text is concatenated, `usage` and `cost` numbers are added). Extend it with
 * your own kinds: `interface MyEvents extends AgentEventMap { 'tool.call': ToolCall }`.
 */
export interface AgentEventMap {
  /** A run ended normally. */
  'run.finished': unknown;
  /** A run ended with an error. */
  'run.error': unknown;
  /** A run was cancelled. */
  'run.cancelled': unknown;
  /** Model output: text, or an object with `text` (and whatever else), concatenated on merge. */
  'model.delta':
    | string
    | {
        /** The text of the delta. */
        text: string;
        [field: string]: unknown;
      };
  /** Token counts and the like: numbers, added up field by field on merge. */
  usage: number | Record<string, number>;
  /** Spend: a number, or numbers per field, added up on merge. */
  cost: number | Record<string, number>;
  /** Anything measured; the newest replaces the older on merge. */
  stats: unknown;
}

/** The lane of an event without `laneId`. */
export const DEFAULT_LANE = 'main';

const terminalKinds: ReadonlySet<string> = new Set(TERMINAL_KINDS);
const progressKinds: ReadonlySet<string> = new Set(PROGRESS_KINDS);

/**
 * The default classifier of agent events: `run.finished`, `run.error` and `run.cancelled` are
 * terminal; `model.delta`, `usage`, `cost` and `stats` are progress; every other kind is normal.
 *
 * Generic (as are {@link agentEventKey} and {@link agentEventScope}) so that an operator given it
 * takes its value type from the stream: `frames$.pipe(takeThroughTerminal(classifyAgentEvent))`
 * stays an `Observable<EventFrame<P>>`.
 *
 * @example
 * ```ts
 * events$.pipe(summarizeProgress({ classify: classifyAgentEvent, key: agentEventKey,
 *   merge: mergeAgentProgress, window: 50 }))
 * ```
 */
export function classifyAgentEvent<E extends Pick<AgentEventLike, 'kind'>>(event: E): EventClass {
  const kind = event.kind;
  if (terminalKinds.has(kind)) return 'terminal';
  if (progressKinds.has(kind)) return 'progress';
  return 'normal';
}

/**
 * The key that groups progress: run, lane (`'main'` when absent) and kind. Two events have equal
 * keys exactly when those three are equal: each part is length-prefixed, so no choice of ids can
 * make two different triples collide. A missing `runId` differs from an empty one.
 *
 * @example
 * ```ts
 * agentEventKey({ kind: 'model.delta', runId: 'r1' }) // '2:r1/4:main/model.delta'
 * ```
 */
export function agentEventKey<E extends Pick<AgentEventLike, 'kind' | 'runId' | 'laneId'>>(
  event: E,
): string {
  const run = event.runId === undefined ? '' : prefixed(String(event.runId));
  const lane = prefixed(event.laneId === undefined ? DEFAULT_LANE : String(event.laneId));
  return `${run}/${lane}/${event.kind}`;
}

/**
 * The scope of an agent event for `summarizeProgress({ scope })`: its run. A non-progress event
 * (a tool call, `run.finished`) then flushes every pending summary of its run first, whatever
 * the lane or kind, so no event of a run overtakes progress of that run that arrived before it.
 * Events without `runId` share one scope.
 */
export function agentEventScope<E extends Pick<AgentEventLike, 'runId'>>(event: E): unknown {
  return event.runId;
}

function prefixed(part: string): string {
  return `${part.length}:${part}`;
}

/**
 * What a value stands for: its own {@link ProgressSummary} when it is a merged value, else a
 * count of 1 covering its own `seq`.
 */
export function progressSummaryOf(event: AgentEventLike): ProgressSummary {
  if (event.summary !== undefined) return event.summary;
  return withSeqs({ count: 1 }, event.seq, event.seq);
}

/** A merged progress event: the event type, with the summary of the values it stands for. */
export type MergedProgress<E> = E & {
  /** How many values this one stands for, and the seqs it covers. */
  summary: ProgressSummary;
};

/**
 * Folds two progress events of one key (same run, lane and kind) into one:
 *
 * - `model.delta`: payload `{ text }` texts are concatenated (`acc` first); other payload fields
 *   take the latest value. String payloads are concatenated as well.
 * - `usage` and `cost`: numeric payload fields are added (a numeric payload is added as a
 *   whole); other fields take the latest value.
 * - any other kind: the latest payload is kept.
 *
 * The result is `next` with the merged payload and a `summary: { count, firstSeq, lastSeq }`
 * covering both inputs, so it keeps `next`'s `seq` (a cursor resumes after everything it covers).
 * Its visibility is the more restrictive of the two, so merging never widens who may see a
 * value. When both inputs carry an `overflow` notice (bus frames), the notices are combined.
 * Neither input is mutated.
 */
export function mergeAgentProgress<E extends AgentEventLike>(acc: E, next: E): MergedProgress<E> {
  const before = progressSummaryOf(acc);
  const after = progressSummaryOf(next);
  const summary = withSeqs(
    { count: before.count + after.count },
    before.firstSeq ?? after.firstSeq,
    after.lastSeq ?? before.lastSeq,
  );
  // Built field by field rather than with `{ ...next, payload, summary }`: adding a property
  // to a spread copy takes a slow path in V8 (about 30 times slower per merge, measured).
  const merged: Record<string, unknown> = { kind: next.kind };
  if (next.runId !== undefined) merged.runId = next.runId;
  if (next.agentId !== undefined) merged.agentId = next.agentId;
  if (next.laneId !== undefined) merged.laneId = next.laneId;
  if (acc.visibility !== undefined || next.visibility !== undefined) {
    merged.visibility = stricter(acc.visibility, next.visibility);
  }
  merged.payload = mergePayload(next.kind, acc.payload, next.payload);
  if (next.seq !== undefined) merged.seq = next.seq;
  for (const field in next) {
    if (!OWN_FIELDS.has(field)) merged[field] = (next as Record<string, unknown>)[field];
  }
  const accNotice = (acc as { overflow?: unknown }).overflow;
  const nextNotice = (next as { overflow?: unknown }).overflow;
  if (accNotice !== undefined) {
    merged.overflow =
      nextNotice === undefined || !isRecord(accNotice) || !isRecord(nextNotice)
        ? (nextNotice ?? accNotice)
        : combineNotices(
            accNotice as unknown as OverflowNotice<unknown>,
            nextNotice as unknown as OverflowNotice<unknown>,
          );
  } else if (nextNotice !== undefined) {
    merged.overflow = nextNotice;
  }
  merged.summary = summary;
  return merged as unknown as E & { summary: ProgressSummary };
}

/** The fields mergeAgentProgress sets itself; any other field of `next` is copied as is. */
const OWN_FIELDS: ReadonlySet<string> = new Set([
  'kind',
  'runId',
  'agentId',
  'laneId',
  'visibility',
  'payload',
  'seq',
  'overflow',
  'summary',
]);

function withSeqs(
  summary: ProgressSummary,
  firstSeq: number | undefined,
  lastSeq: number | undefined,
): ProgressSummary {
  if (firstSeq !== undefined) summary.firstSeq = firstSeq;
  if (lastSeq !== undefined) summary.lastSeq = lastSeq;
  return summary;
}

function mergePayload(kind: string, acc: unknown, next: unknown): unknown {
  if (kind === 'model.delta') return concatDelta(acc, next);
  if (kind === 'usage' || kind === 'cost') return addNumbers(acc, next);
  return next;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textOf(payload: unknown): string | undefined {
  if (typeof payload === 'string') return payload;
  return isRecord(payload) && typeof payload.text === 'string' ? payload.text : undefined;
}

function concatDelta(acc: unknown, next: unknown): unknown {
  const accText = textOf(acc);
  if (accText === undefined) return next;
  if (typeof next === 'string') {
    return typeof acc === 'string' ? acc + next : { ...(acc as object), text: accText + next };
  }
  const text = accText + (textOf(next) ?? '');
  if (typeof acc === 'string') return isRecord(next) ? { ...next, text } : text;
  return isRecord(next) ? { ...(acc as object), ...next, text } : { ...(acc as object), text };
}

function addNumbers(acc: unknown, next: unknown): unknown {
  if (typeof acc === 'number' && typeof next === 'number') return acc + next;
  if (!isRecord(acc) || !isRecord(next)) return next;
  const result: Record<string, unknown> = { ...acc, ...next };
  for (const field in next) {
    const a = acc[field];
    const b = next[field];
    if (typeof a === 'number' && typeof b === 'number') result[field] = a + b;
  }
  return result;
}

function stricter(a: string | undefined, b: string | undefined): string {
  const rankA = VISIBILITY_RANK[a ?? 'public'] ?? 0;
  const rankB = VISIBILITY_RANK[b ?? 'public'] ?? 0;
  return rankA >= rankB ? (a ?? 'public') : (b ?? 'public');
}

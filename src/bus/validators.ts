/**
 * Event validation: the checks every publish makes, and ready validators for the `validate`
 * option.
 *
 * @packageDocumentation
 */
import { describe } from '../core/types.js';
import { InvalidEventError } from './errors.js';
import { isVisibility } from './filter.js';
import type { AgentEvent } from './types.js';

function badId(field: 'runId' | 'agentId' | 'laneId', value: unknown): never {
  throw new InvalidEventError(
    field,
    `${field} must be a non-empty string when given, got ${describe(value)}`,
  );
}

/** Whether an optional id is absent or a non-empty string. */
function isOptionalId(id: unknown): boolean {
  return id === undefined || (typeof id === 'string' && id !== '');
}

/** Whether {@link checkEvent} would pass `event`, without building an error when not. */
export function isWellFormedEvent(event: unknown): boolean {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return false;
  const e = event as AgentEvent<unknown>;
  return (
    typeof e.kind === 'string' &&
    e.kind !== '' &&
    isOptionalId(e.runId) &&
    isOptionalId(e.agentId) &&
    isOptionalId(e.laneId) &&
    (e.visibility === undefined || isVisibility(e.visibility))
  );
}

/**
 * The checks every publish makes before anything is stamped. Throws {@link InvalidEventError}
 * naming the field.
 */
export function checkEvent(event: unknown): asserts event is AgentEvent<unknown> {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidEventError('event', `an event must be an object, got ${describe(event)}`);
  }
  const { kind, runId, agentId, laneId, visibility } = event as AgentEvent<unknown>;
  if (typeof kind !== 'string' || kind === '') {
    throw new InvalidEventError('kind', `kind must be a non-empty string, got ${describe(kind)}`);
  }
  // Checked one by one, without a keyed lookup: this runs on every publish.
  if (runId !== undefined && (typeof runId !== 'string' || runId === '')) badId('runId', runId);
  if (agentId !== undefined && (typeof agentId !== 'string' || agentId === '')) {
    badId('agentId', agentId);
  }
  if (laneId !== undefined && (typeof laneId !== 'string' || laneId === ''))
    badId('laneId', laneId);
  if (visibility !== undefined && !isVisibility(visibility)) {
    throw new InvalidEventError(
      'visibility',
      `visibility must be 'public', 'internal' or 'private', got ${describe(visibility)}`,
    );
  }
}

/**
 * Payload fields that carry a model's hidden reasoning, compared without case, `_` or `-`:
 * `reasoning`, `chainOfThought` / `chain_of_thought`, `cot`, `thinking`, `thoughts`,
 * `hiddenReasoning`, `rawReasoning`, `reasoningContent`.
 */
const REASONING_FIELDS: ReadonlySet<string> = new Set([
  'reasoning',
  'chainofthought',
  'cot',
  'thinking',
  'thoughts',
  'hiddenreasoning',
  'rawreasoning',
  'reasoningcontent',
]);

function normalizeFieldName(name: string): string {
  return name.replace(/[_-]/g, '').toLowerCase();
}

/**
 * A ready `validate` option: refuses an event whose payload carries hidden reasoning (a
 * `reasoning`, `chainOfThought`, `chain_of_thought`, `cot`, `thinking`, `thoughts`,
 * `hiddenReasoning`, `rawReasoning` or `reasoningContent` field, at the top of the payload or one
 * level down) unless the event is `'private'`. Publish a summary (e.g. a `reasoning.summary` kind
 * with a safe payload) for wider audiences instead.
 *
 * @throws InvalidEventError naming the field, e.g. `'payload.reasoning'`.
 *
 * @example
 * ```ts
 * const bus = new EventBus({ validate: rejectHiddenReasoning });
 * bus.publish({ kind: 'model.delta', payload: { text: 'hi', reasoning: '...' } }); // throws
 * bus.publish({ kind: 'model.delta', visibility: 'private', payload: { reasoning: '...' } }); // ok
 * ```
 */
export function rejectHiddenReasoning(event: AgentEvent<unknown>): void {
  if (event.visibility === 'private') return;
  const field = findReasoningField(event.payload, 'payload', 2);
  if (field !== undefined) {
    throw new InvalidEventError(
      field,
      `${field} carries hidden reasoning, which only a 'private' event may carry (visibility is ${describe(
        event.visibility ?? 'public',
      )}); publish a summary instead`,
    );
  }
}

function findReasoningField(value: unknown, path: string, depth: number): string | undefined {
  if (depth === 0 || value === null || typeof value !== 'object' || Array.isArray(value)) {
    return undefined;
  }
  for (const name of Object.keys(value)) {
    const inner = (value as Record<string, unknown>)[name];
    if (
      REASONING_FIELDS.has(normalizeFieldName(name)) &&
      inner !== undefined &&
      inner !== null &&
      inner !== ''
    ) {
      return `${path}.${name}`;
    }
  }
  for (const name of Object.keys(value)) {
    const found = findReasoningField(
      (value as Record<string, unknown>)[name],
      `${path}.${name}`,
      depth - 1,
    );
    if (found !== undefined) return found;
  }
  return undefined;
}

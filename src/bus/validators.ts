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
 * How deep {@link rejectHiddenReasoning} follows a payload: the payload is level 1, an object or
 * array inside it level 2, and so on. A payload with an object or array below this level is
 * refused, since what it holds there could not be checked.
 */
const MAX_PAYLOAD_DEPTH = 64;

/**
 * A ready `validate` option: refuses an event whose payload carries hidden reasoning (a
 * `reasoning`, `chainOfThought`, `chain_of_thought`, `cot`, `thinking`, `thoughts`,
 * `hiddenReasoning`, `rawReasoning` or `reasoningContent` field that is not `undefined`, `null` or
 * `''`) unless the event is `'private'`. Publish a summary (e.g. a `reasoning.summary` kind with a
 * safe payload) for wider audiences instead.
 *
 * It looks at every depth: the fields of every object and the items of every array in the payload
 * (typed arrays and buffers aside), each object once however many paths lead to it, so a cycle or a
 * shared object costs nothing more. A payload with an object or array nested more than 64 levels
 * deep (the payload itself is level 1) is refused, naming where: it could not be checked.
 *
 * @throws InvalidEventError naming the field, e.g. `'payload.reasoning'` or
 * `'payload.steps[2].thinking'`; for a payload nested too deep, the path of the first object or
 * array beyond the limit.
 *
 * @example
 * ```ts
 * const bus = new EventBus({ validate: rejectHiddenReasoning });
 * bus.publish({ kind: 'model.delta', payload: { text: 'hi', reasoning: '...' } }); // throws
 * bus.publish({ kind: 'model.delta', payload: [{ thinking: '...' }] }); // throws: 'payload[0].thinking'
 * bus.publish({ kind: 'model.delta', visibility: 'private', payload: { reasoning: '...' } }); // ok
 * ```
 */
export function rejectHiddenReasoning(event: AgentEvent<unknown>): void {
  if (event.visibility === 'private') return;
  const payload = event.payload;
  if (!isSearched(payload)) return;
  const found = new ReasoningSearch().search(payload);
  if (found === undefined) return;
  const field = found.path;
  throw new InvalidEventError(
    field,
    found.tooDeep
      ? `${field} is nested more than ${MAX_PAYLOAD_DEPTH} levels deep, so it cannot be checked for hidden reasoning (visibility is ${describe(
          event.visibility ?? 'public',
        )}); flatten the payload or publish it as 'private'`
      : `${field} carries hidden reasoning, which only a 'private' event may carry (visibility is ${describe(
          event.visibility ?? 'public',
        )}); publish a summary instead`,
  );
}

/** Whether the search looks inside `value`: objects and arrays, but not typed arrays and views. */
function isSearched(value: unknown): value is object {
  return value !== null && typeof value === 'object' && !ArrayBuffer.isView(value);
}

/** Whether `value` in field `name` is hidden reasoning (an empty one carries none). */
function carriesReasoning(name: string, value: unknown): boolean {
  return (
    value !== undefined &&
    value !== null &&
    value !== '' &&
    REASONING_FIELDS.has(normalizeFieldName(name))
  );
}

/** Where the search stopped: a reasoning field, or an object or array nested too deep. */
interface Finding {
  path: string;
  tooDeep: boolean;
}

/**
 * One depth-first search of a payload. Each container's own fields are checked before the walk
 * goes into them, so the shallowest field of a container is the one named.
 */
class ReasoningSearch {
  /**
   * Every container entered below the payload, so that a cycle or a shared object is walked once
   * (made on the first one: a flat payload costs no set).
   */
  private seen: Set<object> | undefined;
  private root: object | undefined;
  /** The keys from the payload to the container being walked (a path is built only when found). */
  private readonly keys: Array<string | number> = [];

  search(payload: object): Finding | undefined {
    this.root = payload;
    return this.walk(payload, 1);
  }

  private walk(container: object, level: number): Finding | undefined {
    if (level > MAX_PAYLOAD_DEPTH) return { path: this.path(), tooDeep: true };
    if (Array.isArray(container)) {
      for (let index = 0; index < container.length; index++) {
        const found = this.enter(index, container[index], level);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    const record = container as Record<string, unknown>;
    const names = Object.keys(record);
    for (const name of names) {
      if (carriesReasoning(name, record[name])) return { path: this.path(name), tooDeep: false };
    }
    for (const name of names) {
      const found = this.enter(name, record[name], level);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private enter(key: string | number, value: unknown, level: number): Finding | undefined {
    if (!isSearched(value) || value === this.root) return undefined;
    if (this.seen === undefined) this.seen = new Set();
    else if (this.seen.has(value)) return undefined;
    this.seen.add(value);
    this.keys.push(key);
    const found = this.walk(value, level + 1);
    this.keys.pop();
    return found;
  }

  /** `payload.a[0].b`, for the keys walked so far and an optional last field. */
  private path(field?: string): string {
    let path = 'payload';
    for (const key of this.keys) path += typeof key === 'number' ? `[${key}]` : `.${key}`;
    return field === undefined ? path : `${path}.${field}`;
  }
}

/**
 * Filters, checked once and compiled into the form the bus matches frames against.
 *
 * @packageDocumentation
 */
import { describe } from '../core/types.js';
import type { EventFilter, EventFrame, Visibility } from './types.js';

/** The rank of each visibility: a subscriber at rank r sees frames of rank <= r. */
export const VISIBILITY_LEVEL: Readonly<Record<Visibility, number>> = Object.freeze({
  public: 0,
  internal: 1,
  private: 2,
});

/** The rank of a frame's (or filter's) visibility; `undefined` is public. */
export function visibilityLevel(visibility: Visibility | undefined): number {
  return visibility === undefined ? 0 : VISIBILITY_LEVEL[visibility];
}

/** Whether a value is one of the three visibilities. */
export function isVisibility(value: unknown): value is Visibility {
  return value === 'public' || value === 'internal' || value === 'private';
}

/** A checked filter. */
export interface CompiledFilter {
  /**
   * The filter as given (for metrics and archives), `{}` when none was; with `kinds`, a copy
   * whose `kinds` is a frozen array, so that every later reader (an archive's replay) sees the
   * same kinds even when a one-shot iterable (a generator, `map.keys()`) was given.
   */
  readonly source: EventFilter;
  readonly runId: string | undefined;
  readonly agentId: string | undefined;
  readonly laneId: string | undefined;
  readonly kinds: ReadonlySet<string> | undefined;
  readonly level: number;
  readonly where: ((frame: EventFrame) => boolean) | undefined;
}

const FILTER_FIELDS = new Set(['runId', 'agentId', 'laneId', 'kinds', 'visibility', 'where']);

function checkId(filter: EventFilter, field: 'runId' | 'agentId' | 'laneId', owner: string) {
  const value = filter[field];
  if (value !== undefined && (typeof value !== 'string' || value === '')) {
    throw new TypeError(
      `${owner}: filter.${field} must be a non-empty string when given, got ${describe(value)}`,
    );
  }
  return value;
}

/**
 * Checks a filter and compiles it, reading `kinds` once. Throws a `TypeError` naming `owner` and
 * the field for a bad one (an unknown field too, so a typo such as `runID` does not silently widen
 * the filter).
 */
export function compileFilter(filter: EventFilter | undefined, owner: string): CompiledFilter {
  if (filter === undefined) filter = {};
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter)) {
    throw new TypeError(`${owner}: filter must be an object, got ${describe(filter)}`);
  }
  for (const field of Object.keys(filter)) {
    if (!FILTER_FIELDS.has(field)) {
      throw new TypeError(
        `${owner}: filter has an unknown field ${JSON.stringify(field)} (known: ${[...FILTER_FIELDS].join(', ')})`,
      );
    }
  }
  const runId = checkId(filter, 'runId', owner);
  const agentId = checkId(filter, 'agentId', owner);
  const laneId = checkId(filter, 'laneId', owner);
  let kinds: Set<string> | undefined;
  if (filter.kinds !== undefined) {
    const given = filter.kinds as unknown;
    if (
      typeof given === 'string' ||
      given === null ||
      typeof (given as Iterable<unknown>)[Symbol.iterator] !== 'function'
    ) {
      throw new TypeError(
        `${owner}: filter.kinds must be an iterable of strings (an array or a Set), got ${describe(given)}`,
      );
    }
    kinds = new Set();
    for (const kind of given as Iterable<unknown>) {
      if (typeof kind !== 'string' || kind === '') {
        throw new TypeError(
          `${owner}: filter.kinds must hold non-empty strings, got ${describe(kind)}`,
        );
      }
      kinds.add(kind);
    }
  }
  if (filter.visibility !== undefined && !isVisibility(filter.visibility)) {
    throw new TypeError(
      `${owner}: filter.visibility must be 'public', 'internal' or 'private', got ${describe(filter.visibility)}`,
    );
  }
  if (filter.where !== undefined && typeof filter.where !== 'function') {
    throw new TypeError(
      `${owner}: filter.where must be a function when given, got ${describe(filter.where)}`,
    );
  }
  // `kinds` may be read once only (a generator): whoever reads the filter next gets an array.
  const source = kinds === undefined ? filter : { ...filter, kinds: Object.freeze([...kinds]) };
  return {
    source,
    runId,
    agentId,
    laneId,
    kinds,
    level: visibilityLevel(filter.visibility),
    where: filter.where,
  };
}

/**
 * Whether a frame passes a compiled filter. `where` runs last and may throw: the caller decides
 * whose stream the throw ends.
 */
export function matchesFilter(filter: CompiledFilter, frame: EventFrame): boolean {
  if (filter.runId !== undefined && frame.runId !== filter.runId) return false;
  if (filter.agentId !== undefined && frame.agentId !== filter.agentId) return false;
  if (filter.laneId !== undefined && frame.laneId !== filter.laneId) return false;
  if (filter.level < 2 && visibilityLevel(frame.visibility) > filter.level) return false;
  if (filter.kinds !== undefined && !filter.kinds.has(frame.kind)) return false;
  return filter.where === undefined || Boolean(filter.where(frame));
}

/**
 * A predicate for a filter, for archives and tests: `filterPredicate(filter)(frame)`. Checks the
 * filter like `select` does.
 */
export function filterPredicate(filter?: EventFilter): (frame: EventFrame) => boolean {
  const compiled = compileFilter(filter, 'filterPredicate');
  return (frame) => matchesFilter(compiled, frame);
}

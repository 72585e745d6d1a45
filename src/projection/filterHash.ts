import type { EventFilter } from '../bus/types.js';

/** FNV-1a over the UTF-16 code units of `text`, from `seed`: 8 hex digits. */
function fnv1a(text: string, seed: number): string {
  let hash = seed >>> 0;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/**
 * The hash a projection writes into its snapshots, so that a snapshot folded over another filter
 * is not resumed from: 16 hex digits over `runId`, `agentId`, `laneId`, the set of `kinds` (in
 * any order), the visibility (absent means `'public'`) and whether there is a `where`. The hash
 * cannot see what `where` does: change the projection's `version` when you change it.
 *
 * @example
 * ```ts
 * import { projectionFilterHash } from 'rxjs-backpressure';
 *
 * projectionFilterHash({ kinds: ['a', 'b'] }) === projectionFilterHash({ kinds: ['b', 'a'] }); // true
 * ```
 */
export function projectionFilterHash(filter: EventFilter = {}): string {
  const kinds = filter.kinds === undefined ? null : [...new Set(filter.kinds)].sort();
  const text = JSON.stringify([
    filter.runId ?? null,
    filter.agentId ?? null,
    filter.laneId ?? null,
    kinds,
    filter.visibility ?? 'public',
    filter.where === undefined ? 0 : 1,
  ]);
  return fnv1a(text, 0x811c9dc5) + fnv1a(text, 0x050c5d1f);
}

import type { ProjectionSnapshot, SnapshotStore } from './types.js';

/**
 * Snapshots kept in this process, one per projection name: for tests, and for projections that
 * only need to survive a resubscription. `save` stores a `structuredClone` of the snapshot, so
 * that what the store holds never changes afterwards, and `load` returns a clone of it: the
 * state must be structured-cloneable (plain objects, arrays, maps, sets, dates...).
 *
 * @example
 * ```ts
 * import { EventBus, MemorySnapshotStore, projection } from 'rxjs-backpressure';
 *
 * const bus = new EventBus();
 * const store = new MemorySnapshotStore();
 * projection(bus, {
 *   name: 'count',
 *   initial: 0,
 *   reduce: (count) => count + 1,
 *   snapshots: { store, every: 100 },
 * }).subscribe(({ state }) => console.log(state));
 * ```
 */
export class MemorySnapshotStore implements SnapshotStore {
  private readonly snapshots = new Map<string, ProjectionSnapshot>();

  /** The number of snapshots held. */
  get size(): number {
    return this.snapshots.size;
  }

  /** A copy of the snapshot saved under `name`, or `undefined`. */
  load(name: string): ProjectionSnapshot | undefined {
    const snapshot = this.snapshots.get(name);
    return snapshot === undefined ? undefined : structuredClone(snapshot);
  }

  /**
   * Keeps a copy of `snapshot` under its name, replacing the one there.
   *
   * @throws DataCloneError (a `DOMException`) for a state `structuredClone` refuses (a function).
   */
  save(snapshot: ProjectionSnapshot): void {
    this.snapshots.set(snapshot.name, structuredClone(snapshot));
  }

  /** Forgets the snapshot saved under `name`; whether there was one. */
  delete(name: string): boolean {
    return this.snapshots.delete(name);
  }
}

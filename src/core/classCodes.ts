import { describe, type EventClass } from './types.js';

/** Class codes the queues store per node: small integers compare faster than strings. */
export const TERMINAL = 0;
export const PROGRESS = 1;
export const NORMAL = 2;
export type ClassCode = typeof TERMINAL | typeof PROGRESS | typeof NORMAL;

/** Maps a classifier's answer to its code, rejecting anything but the three classes. */
export function classCodeOf(cls: EventClass): ClassCode {
  switch (cls) {
    case 'terminal':
      return TERMINAL;
    case 'progress':
      return PROGRESS;
    case 'normal':
      return NORMAL;
    default:
      throw new TypeError(
        `classify must return 'terminal', 'progress' or 'normal', got ${describe(cls)}`,
      );
  }
}

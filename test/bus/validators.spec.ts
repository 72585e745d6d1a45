import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../src/bus/errors.js';
import { checkEvent, isWellFormedEvent } from '../../src/bus/validators.js';

/** Values a field may hold, good and bad: the shapes publish meets in practice and in error. */
const fieldValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.constant(''),
  fc.constantFrom('k', 'run-1', 'public', 'internal', 'private', 'secret'),
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant({}),
  fc.constant([]),
);

const eventLike = fc.oneof(
  fc.record(
    {
      kind: fieldValue,
      runId: fieldValue,
      agentId: fieldValue,
      laneId: fieldValue,
      visibility: fieldValue,
      payload: fc.anything(),
    },
    { requiredKeys: [] },
  ),
  fc.anything(),
);

function passesCheckEvent(event: unknown): boolean {
  try {
    checkEvent(event);
    return true;
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEventError);
    return false;
  }
}

describe('isWellFormedEvent', () => {
  it('agrees with checkEvent on every input (the fast path publish takes before it)', () => {
    fc.assert(
      fc.property(eventLike, (event) => {
        expect(isWellFormedEvent(event)).toBe(passesCheckEvent(event));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    [{ kind: 'k' }, true],
    [{ kind: 'k', runId: 'r', agentId: 'a', laneId: 'l', visibility: 'private' }, true],
    [{ kind: 'k', agentId: '' }, false],
    [{ kind: 'k', laneId: '' }, false],
    [{ kind: 'k', visibility: null }, false],
    [{ kind: 'k', visibility: 'Public' }, false],
    [Object.assign(Object.create(null), { kind: 'k' }), true],
    [['k'], false],
  ])('isWellFormedEvent(%o) is %s', (event, expected) => {
    expect(isWellFormedEvent(event)).toBe(expected);
    expect(passesCheckEvent(event)).toBe(expected);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidEventError } from '../../src/bus/errors.js';
import type { AgentEvent } from '../../src/bus/types.js';
import { checkEvent, isWellFormedEvent, rejectHiddenReasoning } from '../../src/bus/validators.js';

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

/** The field `rejectHiddenReasoning` refuses `payload` for, or `'ok'`. */
function refusal(payload: unknown, visibility?: AgentEvent['visibility']): string {
  const event: AgentEvent = { kind: 'k', payload };
  if (visibility !== undefined) event.visibility = visibility;
  try {
    rejectHiddenReasoning(event);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidEventError);
    return (error as InvalidEventError).field;
  }
}

/** `levels` containers nested in one another, the innermost holding `inner`. */
function nested(levels: number, inner: Record<string, unknown> = {}): unknown {
  let value: unknown = inner;
  for (let level = 1; level < levels; level++) value = level % 2 ? [value] : { next: value };
  return value;
}

const REASONING_NAMES = [
  'reasoning',
  'Reasoning',
  'chainOfThought',
  'chain_of_thought',
  'CoT',
  'thinking',
  'thoughts',
  'hidden-reasoning',
  'rawReasoning',
  'reasoning_content',
];
const isReasoningName = (name: string) =>
  [
    'reasoning',
    'chainofthought',
    'cot',
    'thinking',
    'thoughts',
    'hiddenreasoning',
    'rawreasoning',
    'reasoningcontent',
  ].includes(name.replace(/[_-]/g, '').toLowerCase());

/** Keys that carry no reasoning (and no `__proto__`, which an assignment would not add). */
const safeKey = fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__' && !isReasoningName(k));

/** Random JSON-like payloads of plain objects and arrays, without any reasoning field. */
const { tree } = fc.letrec<{ tree: unknown }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', maxDepth: 6 },
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
    fc.array(tie('tree'), { maxLength: 4 }),
    fc.dictionary(safeKey, tie('tree'), { maxKeys: 4 }),
  ),
}));

const carried = fc.oneof(
  fc.string({ minLength: 1 }),
  fc.integer(),
  fc.boolean(),
  fc.constant({}),
  fc.constant([]),
);

/**
 * Puts `name: value` into the container reached by following `choices` from `root` (each choice
 * picks one of the containers inside the current one), and returns the field's path.
 */
function plant(root: object, choices: number[], name: string, value: unknown): string {
  let container = root as Record<string, unknown> | unknown[];
  let path = 'payload';
  for (const choice of choices) {
    const keys = Object.keys(container).filter((key) => {
      const inner = (container as Record<string, unknown>)[key];
      return inner !== null && typeof inner === 'object';
    });
    if (keys.length === 0) break;
    const key = keys[choice % keys.length] as string;
    path += Array.isArray(container) ? `[${key}]` : `.${key}`;
    container = (container as Record<string, unknown>)[key] as Record<string, unknown> | unknown[];
  }
  if (Array.isArray(container)) {
    const index = choices.length % (container.length + 1);
    container.splice(index, 0, { [name]: value });
    return `${path}[${index}].${name}`;
  }
  container[name] = value;
  return `${path}.${name}`;
}

describe('rejectHiddenReasoning', () => {
  it('finds a reasoning field at any depth, inside arrays too', () => {
    expect(refusal({ text: 'hi', reasoning: 'secret' })).toBe('payload.reasoning');
    expect(refusal([{ reasoning: 'secret' }])).toBe('payload[0].reasoning');
    expect(refusal({ steps: [{ ok: 1 }, { detail: { chain_of_thought: 'x' } }] })).toBe(
      'payload.steps[1].detail.chain_of_thought',
    );
    expect(refusal(nested(40, { thinking: 'x' }))).toMatch(/\.thinking$/);
    expect(refusal([[[[{ a: [{ CoT: 0 }] }]]]])).toBe('payload[0][0][0][0].a[0].CoT');
  });

  it('lets through what carries none, empty reasoning fields, and private events', () => {
    expect(
      refusal({ steps: [{ reasoning: '' }, { thinking: null }, { thoughts: undefined }] }),
    ).toBe('ok');
    expect(refusal([{ reasoning: 'x' }], 'private')).toBe('ok');
    expect(refusal('reasoning')).toBe('ok');
    expect(refusal(new Uint8Array(8))).toBe('ok');
    expect(refusal(undefined)).toBe('ok');
  });

  it('is cycle-safe and visits an object shared by many paths once', () => {
    const cyclic: Record<string, unknown> = { text: 'hi' };
    cyclic.self = cyclic;
    cyclic.list = [cyclic, { back: cyclic }];
    expect(refusal(cyclic)).toBe('ok');
    (cyclic.list as unknown[]).push({ deep: { reasoning: 'x' } });
    expect(refusal(cyclic)).toBe('payload.list[2].deep.reasoning');
    // 2^50 paths through 50 shared levels: a walk without memory would never end.
    let shared: unknown = { leaf: true };
    for (let level = 0; level < 50; level++) shared = { left: shared, right: shared };
    expect(refusal({ a: shared })).toBe('ok');
  });

  it('refuses a payload nested deeper than 64 levels, naming where and why', () => {
    expect(refusal(nested(64))).toBe('ok');
    const field = refusal(nested(65));
    expect(field.startsWith('payload')).toBe(true);
    try {
      rejectHiddenReasoning({ kind: 'k', payload: nested(65) });
    } catch (error) {
      expect((error as Error).message).toContain('64');
      expect((error as Error).message).toContain(field);
    }
    expect(() => rejectHiddenReasoning({ kind: 'k', payload: nested(65) })).toThrow(
      InvalidEventError,
    );
    expect(refusal(nested(65), 'private')).toBe('ok');
  });

  it('always finds a reasoning field placed anywhere in a random payload', () => {
    fc.assert(
      fc.property(
        tree.filter((value) => value !== null && typeof value === 'object'),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom(...REASONING_NAMES),
        carried,
        (payload, choices, name, value) => {
          expect(refusal(payload)).toBe('ok');
          // A copy: fast-check may hand the same value to a later run while shrinking.
          const planted = structuredClone(payload) as object;
          const path = plant(planted, choices, name, value);
          expect(refusal(planted)).toBe(path);
          expect(refusal(planted, 'private')).toBe('ok');
        },
      ),
      { numRuns: 500 },
    );
  });
});

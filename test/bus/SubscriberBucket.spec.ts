import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SubscriberBucket } from '../../src/bus/SubscriberBucket.js';

/** Visits like the bus does: `first`, then `rest` in order. */
function members<S>(bucket: SubscriberBucket<S>): S[] {
  const visited: S[] = [];
  if (bucket.first !== undefined) visited.push(bucket.first);
  if (bucket.rest !== undefined) visited.push(...bucket.rest);
  return visited;
}

describe('SubscriberBucket', () => {
  it('holds a lone member in `first`, with no set', () => {
    const bucket = new SubscriberBucket<string>('r1');
    bucket.add('a');
    expect(bucket).toMatchObject({ key: 'r1', first: 'a', rest: undefined, size: 1 });
  });

  it('keeps the order members came in when the first one leaves', () => {
    const bucket = new SubscriberBucket<string>(undefined);
    for (const member of ['a', 'b', 'c']) bucket.add(member);
    expect(bucket.delete('a')).toBe(true);
    bucket.add('d');
    // `d` must not take the empty `first` slot: it would be visited before older members.
    expect(members(bucket)).toEqual(['b', 'c', 'd']);
    expect(bucket.size).toBe(3);
  });

  it('starts afresh once empty', () => {
    const bucket = new SubscriberBucket<string>('k');
    bucket.add('a');
    bucket.add('b');
    bucket.delete('a');
    bucket.delete('b');
    expect(bucket).toMatchObject({ first: undefined, rest: undefined, size: 0 });
    bucket.add('c');
    expect(bucket).toMatchObject({ first: 'c', size: 1 });
  });

  it('ignores a second add of a member and a delete of a stranger', () => {
    const bucket = new SubscriberBucket<string>('k');
    bucket.add('a');
    bucket.add('b');
    bucket.add('a');
    bucket.add('b');
    expect(bucket.delete('z')).toBe(false);
    expect(members(bucket)).toEqual(['a', 'b']);
    expect(bucket.size).toBe(2);
  });

  it('visits no deleted member and no member twice while members leave during a visit', () => {
    const bucket = new SubscriberBucket<number>('k');
    for (let member = 1; member <= 5; member++) bucket.add(member);
    const visited: number[] = [];
    const visit = (member: number) => {
      visited.push(member);
      if (member === 1) bucket.delete(3);
      if (member === 2) bucket.delete(1);
    };
    if (bucket.first !== undefined) visit(bucket.first);
    bucket.rest?.forEach(visit);
    expect(visited).toEqual([1, 2, 4, 5]);
  });

  it('matches an array of members under any adds and deletes', () => {
    const operation = fc.record({ add: fc.boolean(), member: fc.integer({ min: 0, max: 7 }) });
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), (operations) => {
        const bucket = new SubscriberBucket<number>('k');
        const reference: number[] = [];
        for (const { add, member } of operations) {
          const index = reference.indexOf(member);
          if (add) {
            bucket.add(member);
            if (index < 0) reference.push(member);
          } else {
            expect(bucket.delete(member)).toBe(index >= 0);
            if (index >= 0) reference.splice(index, 1);
          }
          expect(members(bucket)).toEqual(reference);
          expect(bucket.size).toBe(reference.length);
        }
      }),
    );
  });
});

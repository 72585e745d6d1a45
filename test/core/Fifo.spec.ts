import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/core/Fifo.js';

describe('Fifo', () => {
  it('takes values out in the order they went in, peeking at both ends', () => {
    const fifo = new Fifo<number>();
    expect(fifo.isEmpty).toBe(true);
    fifo.push(1);
    fifo.push(2);
    fifo.push(3);
    expect([fifo.size, fifo.peek(), fifo.newest(), fifo.at(1)]).toEqual([3, 1, 3, 2]);
    expect(fifo.shift()).toBe(1);
    expect([fifo.size, fifo.peek(), fifo.at(0)]).toEqual([2, 2, 2]);
    fifo.clear();
    expect(fifo.isEmpty).toBe(true);
  });

  it('behaves as an array used as a queue, across compactions (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer(), fc.constant('shift' as const)), { maxLength: 400 }),
        (steps) => {
          const fifo = new Fifo<number>();
          const model: number[] = [];
          for (const step of steps) {
            if (step === 'shift') {
              if (model.length === 0) continue;
              expect(fifo.shift()).toBe(model.shift());
            } else {
              fifo.push(step);
              model.push(step);
            }
            expect(fifo.size).toBe(model.length);
            if (model.length > 0) {
              expect(fifo.peek()).toBe(model[0]);
              expect(fifo.newest()).toBe(model.at(-1));
            }
          }
        },
      ),
    );
  });

  it('compacts the taken head of a long FIFO (shifting 100 of 150 keeps the last 50 in order)', () => {
    const fifo = new Fifo<number>();
    for (let index = 0; index < 150; index++) fifo.push(index);
    for (let index = 0; index < 100; index++) expect(fifo.shift()).toBe(index);
    expect(fifo.size).toBe(50);
    expect(Array.from({ length: 50 }, (_, index) => fifo.at(index))).toEqual(
      Array.from({ length: 50 }, (_, index) => index + 100),
    );
  });
});

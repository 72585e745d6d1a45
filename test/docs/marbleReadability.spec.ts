import { describe, expect, it } from 'vitest';
import { marbleSuites } from '../../marbles/index.js';
import { marbleDocFiles } from '../../scripts/docs/marbleDocs.js';

// Read at a glance: every drawn diagram, as `npm run docs` draws it.
const diagrams = [...marbleDocFiles(marbleSuites)].filter(([path]) => path.endsWith('.svg'));

/** The marbles of a diagram: each value's tooltip, its fill, and whether it is a lost one. */
function marbles(svg: string): Array<{ title: string; fill: string; lost: boolean }> {
  const found: Array<{ title: string; fill: string; lost: boolean }> = [];
  const marble = /<g><title>([^<]*)<\/title>\s*<circle [^>]*fill="([^"]+)"/g;
  for (const [, title = '', fill = ''] of svg.matchAll(marble)) {
    const lost = title.startsWith('dropped: ');
    found.push({ title: lost ? title.slice('dropped: '.length) : title, fill, lost });
  }
  return found;
}

describe('drawn marble diagrams are readable', () => {
  it('there are diagrams, with marbles, lost marbles and notices among them', () => {
    const all = diagrams.map(([, svg]) => svg as string);
    expect(all.length).toBeGreaterThan(50);
    expect(all.some((svg) => marbles(svg).some((m) => m.lost))).toBe(true);
    expect(all.some((svg) => svg.includes('fill="#f6bd38"'))).toBe(true);
  });

  it.each(diagrams)('%s: one colour per value, in every row', (_path, svg) => {
    const colours = new Map<string, Set<string>>();
    for (const { title, fill, lost } of marbles(svg as string)) {
      if (lost) continue;
      const set = colours.get(title) ?? new Set();
      set.add(fill);
      colours.set(title, set);
    }
    for (const [value, fills] of colours) {
      expect([...fills], `the value ${value} is drawn in several colours`).toHaveLength(1);
    }
  });

  it.each(diagrams)('%s: no label is struck through', (_path, svg) => {
    const text = svg as string;
    // A lost marble keeps its label clear: its mark is a badge, not a cross over the circle.
    expect(text).not.toMatch(/stroke="#d62828" stroke-width="2.5"\/>/);
    const lostCount = marbles(text).filter((m) => m.lost).length;
    expect(text.split('class="dropped-mark"').length - 1).toBe(lostCount);
    // A notice's words sit above its line (the diamond's top is 11 above the line).
    const notice =
      /<path d="M[\d.]+ ([\d.]+) l11 11[^>]*>.*?<\/path><text x="[\d.]+" y="([\d.]+)"/g;
    for (const [, top = '0', y = '0'] of text.matchAll(notice)) {
      expect(Number(y), 'notice text on its line').toBeLessThanOrEqual(Number(top) + 11 - 6);
    }
  });

  it('mergeLanes marks the values it drops on their lanes', () => {
    const mergeLanes = diagrams.filter(([path]) => path.includes('/mergeLanes/'));
    const lost = mergeLanes.flatMap(([, svg]) => marbles(svg as string).filter((m) => m.lost));
    expect(lost.length).toBeGreaterThan(0);
  });
});

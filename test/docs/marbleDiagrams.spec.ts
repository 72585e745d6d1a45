import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { marbleSuites } from '../../marbles/index.js';
import type { MarbleCase } from '../../marbles/types.js';
import { formatValue } from '../../scripts/docs/formatValue.js';
import { MARBLE_DOCS_DIR, marbleDocFiles, slugify } from '../../scripts/docs/marbleDocs.js';
import { renderMarbleCase } from '../../scripts/docs/marbleSvg.js';
import { readSubscriptions, readTimeline } from '../../scripts/docs/marbleTimeline.js';

const root = resolve(__dirname, '../..');
const FIX =
  'The diagrams in docs/marbles/ are out of date: run `npm run docs` and commit the result.';

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

describe('checked-in marble diagrams', () => {
  const expected = marbleDocFiles(marbleSuites);

  it.each([...expected.keys()])('%s matches what marbles/ draws now', (path) => {
    const file = join(root, path);
    expect(existsSync(file), `${path} is missing. ${FIX}`).toBe(true);
    expect(readFileSync(file, 'utf8') === expected.get(path), `${path} differs. ${FIX}`).toBe(true);
  });

  it('has no diagram or page for a case that no longer exists', () => {
    const stale = listFiles(join(root, MARBLE_DOCS_DIR))
      .map((path) => relative(root, path).split('\\').join('/'))
      .filter((path) => !expected.has(path));
    expect(stale, `Files with no marble case behind them. ${FIX}`).toEqual([]);
  });

  it('has a drawn diagram behind every diagram a docs page or the README embeds', () => {
    const pages = [
      'README.md',
      ...readdirSync(join(root, 'docs'))
        .filter((name) => name.endsWith('.md'))
        .map((name) => `docs/${name}`),
    ].filter((page) => existsSync(join(root, page)));
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(join(root, page), 'utf8');
      for (const match of text.matchAll(/\(((?:docs\/)?marbles\/[^)\s]+\.svg)\)/g)) {
        const link = match[1] as string;
        const target = link.startsWith('docs/') ? link : `docs/${link}`;
        if (!expected.has(target)) broken.push(`${page} -> ${match[1]}`);
      }
    }
    expect(broken, `Embedded diagrams that no case draws. ${FIX}`).toEqual([]);
  });

  it('draws every case of every registered suite', () => {
    const svgs = [...expected.keys()].filter((path) => path.endsWith('.svg'));
    const cases = marbleSuites.reduce((sum, suite) => sum + suite.cases.length, 0);
    expect(svgs).toHaveLength(cases);
    for (const suite of marbleSuites) {
      const page = expected.get(`${MARBLE_DOCS_DIR}/${suite.operator}.md`) ?? '';
      for (const marbleCase of suite.cases) expect(page).toContain(`## ${marbleCase.title}`);
    }
  });
});

describe('readTimeline', () => {
  it('places values, groups, complete and error on the frames TestScheduler uses', () => {
    const timeline = readTimeline('-a-(bc)-#', { a: 1, b: 2, c: 3 }, 'boom');
    expect(timeline.events.map((e) => [e.kind, e.frame, e.slot, e.value])).toEqual([
      ['next', 1, 0, 1],
      ['next', 3, 0, 2],
      ['next', 3, 1, 3],
      ['error', 8, 0, 'boom'],
    ]);
    expect(timeline.groups).toEqual([{ frame: 3, size: 2 }]);
    expect(timeline.endFrame).toBe(8);
  });

  it('reads hot marbles relative to ^, ignores spaces and honours time progression', () => {
    const timeline = readTimeline('  a-^-b 10ms c|');
    expect(timeline.startFrame).toBe(-2);
    expect(timeline.subscriptionPoint).toBe(0);
    expect(timeline.events.map((e) => [e.letter, e.frame])).toEqual([
      ['a', -2],
      ['b', 2],
      ['c', 13],
      ['|', 14],
    ]);
  });

  it('reads a letter missing from a values map as undefined, as cold() does', () => {
    expect(readTimeline('ab', { a: 'x' }).events.map((e) => e.value)).toEqual(['x', undefined]);
  });

  it('reads subscription marbles in run-mode frames', () => {
    expect(readSubscriptions(['^--!', '--^'])).toEqual([
      { subscribedFrame: 0, unsubscribedFrame: 3 },
      { subscribedFrame: 2, unsubscribedFrame: Number.POSITIVE_INFINITY },
    ]);
    expect(readSubscriptions(undefined)).toEqual([]);
  });
});

describe('renderMarbleCase', () => {
  const dropCase: MarbleCase<unknown> = {
    title: 'drops <b> & notices',
    options: { capacity: 1 },
    inputs: { source: { marble: '-a-b-|', subscriptions: '^----!' } },
    expected: { marble: '-a---|' },
    notices: {
      marble: '-----n',
      values: { n: { policy: 'drop-oldest', dropped: 1, merged: 0, first: 'b', last: 'b' } },
    },
    dropped: ['b'],
  };

  it('is deterministic and escapes text', () => {
    const svg = renderMarbleCase('op', dropCase);
    expect(renderMarbleCase('op', dropCase)).toBe(svg);
    expect(svg).toContain('drops &lt;b&gt; &amp; notices');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('crosses out dropped source values and marks notices with their counts', () => {
    const svg = renderMarbleCase('op', dropCase);
    expect(svg).toContain('<title>dropped: &quot;b&quot;</title>');
    expect(svg).not.toContain('<title>dropped: &quot;a&quot;</title>');
    expect(svg).toContain('>1 dropped</text>');
    expect(svg).toContain('n = notice(drop-oldest: 1 dropped &quot;b&quot;…&quot;b&quot;)');
  });

  it('draws errors, subscriptions, an early unsubscribe and explains long values', () => {
    const svg = renderMarbleCase('op', {
      title: 'errors',
      options: undefined,
      inputs: { source: { marble: '-a-b-#', values: { a: 'long value' }, subscriptions: '^-!' } },
      expected: { marble: '-a-', values: { a: 'long value' } },
      unsub: '---!',
    });
    expect(svg).toContain('<title>error: &quot;error&quot;</title>');
    expect(svg).toContain('subscribed at 0, unsubscribed at 2');
    expect(svg).toContain('unsubscribed at 3</title>');
    expect(svg).toContain('a = &quot;long value&quot;');
    expect(svg).toContain('not observed: after the unsubscription');
  });
});

describe('formatValue and slugify', () => {
  it('renders values deterministically', () => {
    expect(formatValue({ a: [1, 'x'], f: Math.max, e: new RangeError('bad') })).toBe(
      '{ a: [1, "x"], f: max, e: RangeError("bad") }',
    );
    expect(formatValue({ kind: 'coalesce', merge: function concat() {} })).toBe('coalesce(concat)');
    expect(formatValue({ a: { b: { c: { d: 1 } } } })).toBe('{ a: { b: { c: {…} } } }');
  });

  it('makes short unique-friendly slugs', () => {
    expect(slugify("'error' delivers, then errors!")).toBe('error-delivers-then-errors');
    expect(slugify('x'.repeat(100)).length).toBeLessThanOrEqual(72);
    expect(slugify(`${'a'.repeat(40)} ${'b'.repeat(40)}`)).toBe('a'.repeat(40));
  });
});

/**
 * Rendering a long answer in Chromium: 1 MB of text (paragraphs of six sentences) arriving in
 * chunks of 1,600 characters (one chunk a frame, 625 frames), shown three ways in a scrolling
 * `<pre>`. Each frame's work is the update plus the layout it causes (read back through
 * `offsetHeight`), timed in the page. "Whole text" is what a template binding of the text does:
 * append, then render the whole text each frame. "A text node per chunk" only appends the new
 * chunk to the DOM, but in one inline run the browser still lays out the whole text. "4 KB blocks"
 * renders one block-level element per block, closed at a line break once it holds 4 KB, and
 * updates only the last: the browser lays out only that block (the recipe of docs/agent-ui.md).
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../examples/chromium.mjs';
import type { BenchSuite } from './types.js';

const TOTAL = 1_000_000;
const CHUNK = 1_600;

/** Runs in the page: every strategy on a fresh `<pre>`, returning per-frame timings. */
function measureInPage(args: { total: number; chunk: number }) {
  const { total, chunk } = args;
  // Sentences, with a paragraph break every sixth one, as model output has.
  const sentence = 'The agent reads the issue, plans the change and runs the tests. ';
  const paragraph = `${sentence.repeat(6)}\n\n`;
  const text = paragraph.repeat(Math.ceil(total / paragraph.length)).slice(0, total);
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += chunk) chunks.push(text.slice(at, at + chunk));
  const box = () => {
    document.body.textContent = '';
    const pre = document.createElement('pre');
    pre.style.cssText =
      'white-space: pre-wrap; width: 760px; max-height: 400px; overflow-y: auto; font: 13px monospace';
    document.body.append(pre);
    return pre;
  };
  const strategies: Record<string, (pre: HTMLElement) => (piece: string) => void> = {
    'whole text, re-rendered each frame': (pre) => {
      let all = '';
      return (piece) => {
        all += piece;
        pre.textContent = all;
      };
    },
    'a text node per chunk (inline)': (pre) => (piece) => {
      pre.append(piece);
    },
    '4 KB blocks at line breaks, the last one updated': (pre) => {
      // The recipe of docs/agent-ui.md (appendChunk), on block-level elements.
      let last: HTMLElement | undefined;
      let lastText = '';
      const open = (content: string) => {
        last = document.createElement('div');
        lastText = content;
        last.textContent = content;
        pre.append(last);
      };
      return (piece) => {
        if (last === undefined) return open(piece);
        const cut = lastText.length >= 4096 ? piece.lastIndexOf('\n') + 1 : 0;
        lastText += cut === 0 ? piece : piece.slice(0, cut);
        last.textContent = lastText;
        if (cut > 0) open(piece.slice(cut));
      };
    },
  };
  const results: Array<{ name: string; totalMs: number; p50: number; p99: number; last: number }> =
    [];
  for (const [name, make] of Object.entries(strategies)) {
    const pre = box();
    const update = make(pre);
    const frames: number[] = [];
    for (const piece of chunks) {
      const start = performance.now();
      update(piece);
      void pre.offsetHeight;
      pre.scrollTop = pre.scrollHeight;
      frames.push(performance.now() - start);
    }
    if (pre.textContent !== text) throw new Error(`${name}: the text differs`);
    const sorted = [...frames].sort((a, b) => a - b);
    results.push({
      name,
      totalMs: frames.reduce((sum, ms) => sum + ms, 0),
      p50: sorted[Math.floor(sorted.length / 2)] ?? 0,
      p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
      last: frames.slice(-20).reduce((sum, ms) => sum + ms, 0) / 20,
    });
  }
  return results;
}

export const suite: BenchSuite = {
  name: 'textView',
  title:
    'rendering 1 MB of streamed text in Chromium: the whole text each frame vs only what is new',
  async run() {
    if (!existsSync(CHROMIUM)) {
      console.log(`skipped: ${CHROMIUM} not found (set CHROMIUM_PATH)`);
      return;
    }
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
    });
    try {
      const page = await browser.newPage();
      await page.setContent('<!doctype html><html><body></body></html>');
      // The bench is compiled with names kept (a helper the page does not have): define it.
      await page.evaluate('window.__name = (target) => target;');
      const frames = Math.ceil(TOTAL / CHUNK);
      const results = await page.evaluate(measureInPage, { total: TOTAL, chunk: CHUNK });
      console.log(
        `${(TOTAL / 1e6).toFixed(0)} MB in ${frames} chunks of ${CHUNK} characters; ms of main-thread work (update + layout):\n`,
      );
      const base = results[0]?.totalMs ?? 1;
      console.log(
        '| case | total ms | ÷ first | frame p50 ms | frame p99 ms | last 20 frames, mean ms |',
      );
      console.log('| --- | --- | --- | --- | --- | --- |');
      for (const row of results) {
        console.log(
          `| ${row.name} | ${row.totalMs.toFixed(0)} | ${(row.totalMs / base).toFixed(3)} | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} | ${row.last.toFixed(2)} |`,
        );
      }
    } finally {
      await browser.close();
    }
  },
};

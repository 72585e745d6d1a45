/**
 * Draws one marble case as a standalone SVG. Deterministic: the same case always gives the same
 * bytes, so test/docs/marbleDiagrams.spec.ts can compare the checked-in pictures with the cases.
 *
 * Drawn: every input timeline (source first), the operator with its options, the output, and the
 * overflow notices when the case has any. A value has one colour wherever it appears (the colour
 * follows the value, not its letter). Values lost by the operator (`MarbleCase.dropped`) are
 * greyed on their input line, with a red cross badge beside them that leaves their label
 * readable; notices are amber diamonds with their counts above the line; errors are red
 * crosses; completes are bars; a line without either goes on (arrow). Subscriptions (`^…!`) are
 * green bars under their input; an early unsubscribe (`unsub`) cuts the output with a red dash.
 * Letters in a group `( )` share one frame and are drawn side by side inside a dashed pill.
 */
import type { MarbleCase, MarbleStream } from '../../marbles/types.js';
import { formatValue, isNotice, noticeCounts } from './formatValue.js';
import {
  type MarbleEvent,
  type MarbleTimeline,
  readSubscriptions,
  readTimeline,
  type SubscriptionSpan,
} from './marbleTimeline.js';

const FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";
const CHAR_WIDTH = 7.3; // 12px monospace
const PAD = 16;
const FRAME = 30;
const RADIUS = 12;
const SLOT = 27;
const ROW = 58;
const BOX = 34;
const LEGEND_LINE = 17;
const LEGEND_WRAP = 110;
const PALETTE = ['#8ecae6', '#ffd166', '#f4a3c0', '#a7e3a1', '#c9b6f2', '#ffb870', '#7fd6cc'];

interface Row {
  label: string;
  role: 'input' | 'output' | 'notices';
  stream: MarbleStream;
  timeline: MarbleTimeline;
  subscriptions: SubscriptionSpan[];
}

/** A value's colour: the same value gets the same colour in every row of a diagram. */
function colourOf(value: unknown): string {
  const text = formatValue(value);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return PALETTE[hash % PALETTE.length] as string;
}

const num = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function textWidth(text: string, size = 12): number {
  return [...text].length * CHAR_WIDTH * (size / 12);
}

/** What a marble shows inside its circle: short values themselves, else the letter. */
function shownLabel(event: MarbleEvent): { label: string; explained: boolean } {
  const { value, letter } = event;
  if (value === letter) return { label: letter, explained: false };
  if ((typeof value === 'string' || typeof value === 'number') && String(value).length <= 3) {
    return { label: String(value), explained: false };
  }
  return { label: letter, explained: true };
}

function wrap(line: string): string[] {
  const out: string[] = [];
  let rest = line;
  while ([...rest].length > LEGEND_WRAP) {
    const chars = [...rest];
    let cut = chars.slice(0, LEGEND_WRAP).join('').lastIndexOf(' ');
    if (cut < LEGEND_WRAP / 2) cut = LEGEND_WRAP;
    out.push(chars.slice(0, cut).join(''));
    rest = `    ${chars.slice(cut).join('').trimStart()}`;
  }
  out.push(rest);
  return out;
}

/** The lines under a diagram saying what letters, errors and notices stand for. */
function legendLines(rows: Row[]): string[] {
  const byLetter = new Map<string, Map<string, string[]>>();
  const note = (letter: string, text: string, label: string): void => {
    const meanings = byLetter.get(letter) ?? new Map<string, string[]>();
    byLetter.set(letter, meanings);
    const labels = meanings.get(text) ?? [];
    if (!labels.includes(label)) labels.push(label);
    meanings.set(text, labels);
  };
  for (const row of rows) {
    for (const event of row.timeline.events) {
      if (event.kind === 'error') note('#', formatValue(event.value), row.label);
      else if (event.kind === 'next' && (row.role === 'notices' || shownLabel(event).explained)) {
        note(event.letter, formatValue(event.value), row.label);
      }
    }
  }
  const lines: string[] = [];
  for (const [letter, meanings] of byLetter) {
    const ambiguous = meanings.size > 1;
    for (const [text, labels] of meanings) {
      const where = ambiguous ? ` (${labels.join(', ')})` : '';
      lines.push(...wrap(`${letter}${where} = ${text}`));
    }
  }
  return lines;
}

/** Draws one case of `operator` as an SVG document. */
export function renderMarbleCase(operator: string, marbleCase: MarbleCase<unknown>): string {
  const rows: Row[] = [];
  for (const [name, stream] of Object.entries(marbleCase.inputs)) {
    rows.push({
      label: name,
      role: 'input',
      stream,
      timeline: readTimeline(stream.marble, stream.values, stream.error),
      subscriptions: readSubscriptions(stream.subscriptions),
    });
  }
  const output = marbleCase.expected;
  rows.push({
    label: 'output',
    role: 'output',
    stream: output,
    timeline: readTimeline(output.marble, output.values, output.error),
    subscriptions: readSubscriptions(marbleCase.unsub),
  });
  if (marbleCase.notices && marbleCase.notices.marble.trim() !== '') {
    const notices = marbleCase.notices;
    rows.push({
      label: 'notices',
      role: 'notices',
      stream: notices,
      timeline: readTimeline(notices.marble, notices.values, notices.error),
      subscriptions: [],
    });
  }

  let firstFrame = 0;
  let lastFrame = 1;
  for (const row of rows) {
    firstFrame = Math.min(firstFrame, row.timeline.startFrame);
    lastFrame = Math.max(lastFrame, row.timeline.lastFrame);
    for (const group of row.timeline.groups) {
      lastFrame = Math.max(lastFrame, group.frame + Math.ceil(((group.size - 1) * SLOT) / FRAME));
    }
    for (const span of row.subscriptions) {
      for (const frame of [span.subscribedFrame, span.unsubscribedFrame]) {
        if (Number.isFinite(frame)) lastFrame = Math.max(lastFrame, frame + 1);
      }
    }
  }

  const title = marbleCase.title;
  const operatorText = `${operator}(${marbleCase.options === undefined ? '' : formatValue(marbleCase.options)})`;
  const legend = legendLines(rows);
  const labelWidth = Math.max(64, ...rows.map((r) => textWidth(r.label))) + 14;
  const axisLeft = PAD + labelWidth;
  const axisWidth = (lastFrame - firstFrame + 1) * FRAME + 24;
  const width = Math.ceil(
    Math.max(
      axisLeft + axisWidth + PAD,
      PAD * 2 + textWidth(title, 13),
      PAD * 2 + textWidth(operatorText) + 24,
      PAD * 2 + Math.max(0, ...legend.map((l) => textWidth(l, 11))),
    ),
  );
  const xOf = (frame: number, slot = 0): number =>
    axisLeft + (frame - firstFrame) * FRAME + FRAME / 2 + slot * SLOT;
  const lineEnd = width - PAD - 4;

  const parts: string[] = [];
  let y = PAD + 14;
  parts.push(
    `<text x="${PAD}" y="${y}" font-size="13" font-weight="bold" fill="#222">${escapeXml(title)}</text>`,
  );
  y += 18;

  const dropped = new Set(marbleCase.dropped ?? []);
  const drawRow = (row: Row): void => {
    const lineY = y + ROW / 2 - 6;
    const { timeline } = row;
    parts.push(
      `<text x="${PAD}" y="${num(lineY + 4)}" font-size="12" fill="#555">${escapeXml(row.label)}</text>`,
    );
    const endEvent = timeline.events.find((e) => e.kind !== 'next');
    const unsub = row.role === 'output' ? row.subscriptions[0]?.unsubscribedFrame : undefined;
    const startX = xOf(timeline.startFrame) - FRAME / 2;
    let stopX = lineEnd;
    let arrow = true;
    if (endEvent) {
      stopX = xOf(endEvent.frame, endEvent.slot);
      arrow = false;
    }
    if (unsub !== undefined && Number.isFinite(unsub) && xOf(unsub) < stopX) {
      stopX = xOf(unsub);
      arrow = false;
    }
    parts.push(
      `<line x1="${num(startX)}" y1="${num(lineY)}" x2="${num(stopX)}" y2="${num(lineY)}" stroke="#333" stroke-width="1.5"/>`,
    );
    if (arrow) {
      parts.push(`<path d="M${num(stopX)} ${num(lineY)} l-8 -4 v8 z" fill="#333"/>`);
    }
    if (timeline.subscriptionPoint !== undefined) {
      const sx = xOf(timeline.subscriptionPoint);
      parts.push(
        `<path d="M${num(sx)} ${num(lineY + 15)} l-5 7 h10 z" fill="#2a9d5c"><title>subscription point (^)</title></path>`,
      );
    }
    for (const group of timeline.groups) {
      const gx = xOf(group.frame);
      const span = (group.size - 1) * SLOT;
      parts.push(
        `<rect x="${num(gx - RADIUS - 4)}" y="${num(lineY - RADIUS - 4)}" width="${num(span + 2 * RADIUS + 8)}" height="${2 * RADIUS + 8}" rx="${RADIUS + 4}" fill="none" stroke="#999" stroke-dasharray="3 3"/>`,
      );
    }
    // A cold input's values after the operator let go of it are never seen: fade them.
    const onlySpan =
      row.role === 'input' && row.subscriptions.length === 1 ? row.subscriptions[0] : undefined;
    const unobservedFrom = onlySpan ? onlySpan.unsubscribedFrame : Number.POSITIVE_INFINITY;
    for (const event of timeline.events) {
      const cx = xOf(event.frame, event.slot);
      const unobserved = event.frame > unobservedFrom;
      if (unobserved)
        parts.push('<g opacity="0.3"><title>not observed: after the unsubscription</title>');
      if (event.kind === 'complete') {
        parts.push(
          `<line x1="${num(cx)}" y1="${num(lineY - 13)}" x2="${num(cx)}" y2="${num(lineY + 13)}" stroke="#222" stroke-width="3"><title>complete</title></line>`,
        );
      } else if (event.kind === 'error') {
        parts.push(
          `<path d="M${num(cx - 9)} ${num(lineY - 9)} L${num(cx + 9)} ${num(lineY + 9)} M${num(cx + 9)} ${num(lineY - 9)} L${num(cx - 9)} ${num(lineY + 9)}" stroke="#d62828" stroke-width="3"><title>error: ${escapeXml(formatValue(event.value))}</title></path>`,
        );
      } else if (row.role === 'notices') {
        const counts = isNotice(event.value) ? noticeCounts(event.value) : event.letter;
        parts.push(
          `<path d="M${num(cx)} ${num(lineY - 11)} l11 11 l-11 11 l-11 -11 z" fill="#f6bd38" stroke="#9a6700" stroke-width="1.5"><title>${escapeXml(formatValue(event.value))}</title></path>`,
          // Above the line, so that the line never runs through the words.
          `<text x="${num(cx + 13)}" y="${num(lineY - 9)}" font-size="11" fill="#7a5200" stroke="#ffffff" stroke-width="3" paint-order="stroke">${escapeXml(counts)}</text>`,
        );
      } else {
        const { label } = shownLabel(event);
        // Any input: mergeLanes loses values from its lanes, not from one source.
        const lost = row.role === 'input' && dropped.has(event.letter);
        const fill = lost ? '#eeeeee' : colourOf(event.value);
        const size = [...label].length >= 3 ? 10 : 12;
        parts.push(
          `<g><title>${escapeXml(`${lost ? 'dropped: ' : ''}${formatValue(event.value)}`)}</title>`,
          `<circle cx="${num(cx)}" cy="${num(lineY)}" r="${RADIUS}" fill="${fill}" stroke="${lost ? '#999' : '#333'}" stroke-width="1.5"/>`,
          `<text x="${num(cx)}" y="${num(lineY + size / 3)}" font-size="${size}" text-anchor="middle" fill="${lost ? '#666' : '#111'}">${escapeXml(label)}</text>`,
        );
        if (lost) {
          // A badge at the circle's upper right: the label stays readable.
          const bx = cx + RADIUS - 1;
          const by = lineY - RADIUS + 1;
          parts.push(
            `<g class="dropped-mark"><circle cx="${num(bx)}" cy="${num(by)}" r="6" fill="#d62828"/>`,
            `<path d="M${num(bx - 3)} ${num(by - 3)} L${num(bx + 3)} ${num(by + 3)} M${num(bx + 3)} ${num(by - 3)} L${num(bx - 3)} ${num(by + 3)}" stroke="#ffffff" stroke-width="1.8"/></g>`,
          );
        }
        parts.push('</g>');
      }
      if (unobserved) parts.push('</g>');
    }
    if (row.role === 'input') {
      row.subscriptions.forEach((span, index) => {
        const barY = lineY + 20 + index * 6;
        const from = xOf(span.subscribedFrame);
        const finite = Number.isFinite(span.unsubscribedFrame);
        const to = finite ? xOf(span.unsubscribedFrame) : lineEnd;
        const what = finite
          ? `subscribed at ${span.subscribedFrame}, unsubscribed at ${span.unsubscribedFrame}`
          : `subscribed at ${span.subscribedFrame}, never unsubscribed`;
        parts.push(
          `<g stroke="#2a9d5c" stroke-width="2"><title>${what}</title>`,
          `<line x1="${num(from)}" y1="${num(barY)}" x2="${num(to)}" y2="${num(barY)}"/>`,
          `<line x1="${num(from)}" y1="${num(barY - 3)}" x2="${num(from)}" y2="${num(barY + 3)}"/>`,
          finite
            ? `<line x1="${num(to)}" y1="${num(barY - 4)}" x2="${num(to)}" y2="${num(barY + 4)}" stroke="#d62828"/>`
            : `<path d="M${num(to)} ${num(barY)} l-5 -3 v6 z" fill="#2a9d5c"/>`,
          '</g>',
        );
      });
    }
    if (unsub !== undefined && Number.isFinite(unsub)) {
      const ux = xOf(unsub);
      parts.push(
        `<line x1="${num(ux)}" y1="${num(lineY - 16)}" x2="${num(ux)}" y2="${num(lineY + 16)}" stroke="#d62828" stroke-width="2" stroke-dasharray="4 3"><title>unsubscribed at ${unsub}</title></line>`,
        `<text x="${num(ux + 4)}" y="${num(lineY - 8)}" font-size="10" fill="#d62828" stroke="#ffffff" stroke-width="3" paint-order="stroke">unsubscribe</text>`,
      );
    }
    y += ROW;
  };

  for (const row of rows.filter((r) => r.role === 'input')) drawRow(row);
  parts.push(
    `<rect x="${PAD}" y="${y}" width="${width - 2 * PAD}" height="${BOX}" rx="4" fill="#f2f5fa" stroke="#4a5d7e"/>`,
    `<text x="${width / 2}" y="${y + BOX / 2 + 4}" font-size="12" text-anchor="middle" fill="#1d2b44">${escapeXml(operatorText)}</text>`,
  );
  y += BOX + 8;
  for (const row of rows.filter((r) => r.role !== 'input')) drawRow(row);
  for (const line of legend) {
    y += LEGEND_LINE - 3;
    parts.push(
      `<text x="${PAD}" y="${y}" font-size="11" fill="#444" xml:space="preserve">${escapeXml(line)}</text>`,
    );
  }
  const height = y + PAD;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" role="img">`,
    `<title>${escapeXml(`${operator}: ${title}`)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

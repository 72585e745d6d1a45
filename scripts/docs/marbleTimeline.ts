/**
 * Reads marble strings into timelines the renderer can lay out: which letter sits at which frame,
 * which letters share a group, where a line ends. Frames follow TestScheduler's run mode exactly
 * (one frame per character, spaces are free, `10ms ` advances ten frames, a group takes the frame
 * of its `(`); {@link readTimeline} checks itself against `TestScheduler.parseMarbles`.
 */
import { TestScheduler } from 'rxjs/testing';

/** One notification on a timeline. */
export interface MarbleEvent {
  kind: 'next' | 'error' | 'complete';
  /** The time of the notification, relative to the subscription (`^` for hot marbles). */
  frame: number;
  /** The marble character (`|` and `#` for complete and error). */
  letter: string;
  /** The value (`next`) or the error (`error`). */
  value?: unknown;
  /** Index of the group this event belongs to, if any. */
  group?: number;
  /** Position inside its group, from 0. */
  slot: number;
}

/** Notifications written together in `( )`: they happen in the same frame. */
export interface MarbleGroup {
  frame: number;
  size: number;
}

export interface MarbleTimeline {
  events: MarbleEvent[];
  groups: MarbleGroup[];
  /** First frame drawn: negative for a hot marble with history before `^`. */
  startFrame: number;
  /** Frame of `^` in a hot marble (0), if it has one. */
  subscriptionPoint?: number;
  /** Frame of the complete or error that ends the line, if any. */
  endFrame?: number;
  /** Frame just after the last character. */
  lastFrame: number;
}

const TIME_PROGRESSION = /^(\d+(?:\.\d+)?)(ms|s|m) /;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/**
 * Reads one marble string. `values` and `error` are those given to `cold()`/`hot()`: a letter
 * without an entry stands for itself.
 */
export function readTimeline(
  marble: string,
  values?: Record<string, unknown>,
  error?: unknown,
): MarbleTimeline {
  const subscriptionIndex = marble.trimStart().indexOf('^');
  const startFrame = subscriptionIndex === -1 ? 0 : -subscriptionIndex;
  const events: MarbleEvent[] = [];
  const groups: MarbleGroup[] = [];
  let frame = startFrame;
  let group: MarbleGroup | undefined;
  let subscriptionPoint: number | undefined;
  let endFrame: number | undefined;
  const push = (event: Omit<MarbleEvent, 'frame' | 'slot'>): void => {
    const at = group ? group.frame : frame;
    const full: MarbleEvent = { ...event, frame: at, slot: group ? group.size : 0 };
    if (group) {
      full.group = groups.length - 1;
      group.size += 1;
    }
    events.push(full);
  };
  for (let i = 0; i < marble.length; i++) {
    const char = marble.charAt(i);
    if (char === ' ') continue;
    if (/\d/.test(char) && (i === 0 || marble.charAt(i - 1) === ' ')) {
      const match = TIME_PROGRESSION.exec(marble.slice(i));
      if (match) {
        frame += Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] ?? 1);
        i += match[0].length - 1;
        continue;
      }
    }
    switch (char) {
      case '-':
        break;
      case '(':
        group = { frame, size: 0 };
        groups.push(group);
        break;
      case ')':
        group = undefined;
        break;
      case '^':
        subscriptionPoint = frame;
        break;
      case '|':
        endFrame ??= group ? group.frame : frame;
        push({ kind: 'complete', letter: '|' });
        break;
      case '#':
        endFrame ??= group ? group.frame : frame;
        // As in TestScheduler (`errorValue || 'error'`): a falsy error value reads as 'error'.
        push({ kind: 'error', letter: '#', value: error || 'error' });
        break;
      default:
        push({
          kind: 'next',
          letter: char,
          // As in TestScheduler: with a values map, a letter missing from it stands for undefined.
          value: typeof values === 'object' ? values[char] : char,
        });
    }
    frame += 1;
  }
  const timeline: MarbleTimeline = { events, groups, startFrame, lastFrame: frame };
  if (subscriptionPoint !== undefined) timeline.subscriptionPoint = subscriptionPoint;
  if (endFrame !== undefined) timeline.endFrame = endFrame;
  checkAgainstTestScheduler(marble, timeline, values, error);
  return timeline;
}

/** Our reading must agree with the scheduler that runs the marble tests, or the picture lies. */
function checkAgainstTestScheduler(
  marble: string,
  timeline: MarbleTimeline,
  values: Record<string, unknown> | undefined,
  error: unknown,
): void {
  const messages = inRunModeFrames(() =>
    TestScheduler.parseMarbles(marble, values, error, false, true),
  );
  const theirs = messages.map((m) => `${m.frame}:${m.notification.kind}`).join(' ');
  const ours = timeline.events
    .map((e) => `${e.frame}:${e.kind === 'next' ? 'N' : e.kind === 'error' ? 'E' : 'C'}`)
    .join(' ');
  if (theirs !== ours) {
    throw new Error(
      `marble ${JSON.stringify(marble)}: the diagram reader sees [${ours}] but TestScheduler sees [${theirs}]`,
    );
  }
}

/** A subscription window (`^` to `!`); `unsubscribedFrame` is Infinity when it never ends. */
export interface SubscriptionSpan {
  subscribedFrame: number;
  unsubscribedFrame: number;
}

/** Reads subscription marbles (`^---!`) as TestScheduler does in run mode. */
export function readSubscriptions(marbles: string | string[] | undefined): SubscriptionSpan[] {
  if (marbles === undefined) return [];
  const list = Array.isArray(marbles) ? marbles : [marbles];
  return list.map((m) => {
    const { subscribedFrame, unsubscribedFrame } = inRunModeFrames(() =>
      TestScheduler.parseMarblesAsSubscriptions(m, true),
    );
    return { subscribedFrame, unsubscribedFrame };
  });
}

/** Outside `run()` a frame is 10 virtual ms; inside it (where the marble tests run) it is 1. */
function inRunModeFrames<R>(read: () => R): R {
  const saved = TestScheduler.frameTimeFactor;
  TestScheduler.frameTimeFactor = 1;
  try {
    return read();
  } finally {
    TestScheduler.frameTimeFactor = saved;
  }
}

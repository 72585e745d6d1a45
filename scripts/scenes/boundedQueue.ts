import { Subject } from 'rxjs';
import type { QueueStats } from '../../src/core/OverflowQueue.js';
import { coalesce, type EventClass, type OverflowPolicy } from '../../src/core/types.js';
import { boundedQueue } from '../../src/operators/boundedQueue.js';
import type { DemoScene } from './types.js';

interface AgentTick {
  kind: 'delta' | 'tool' | 'finished';
  index: number;
  text: string;
}

const VALUES = 100_000;
/** The consumer takes one value for every this many the producer sends. */
const SLOWDOWN = 10;
const CAPACITY = 64;

const classify = (tick: AgentTick): EventClass =>
  tick.kind === 'finished' ? 'terminal' : tick.kind === 'delta' ? 'progress' : 'normal';

const policies: Array<[string, OverflowPolicy<AgentTick>]> = [
  ['drop-oldest', 'drop-oldest'],
  ['drop-incoming', 'drop-incoming'],
  ['drop-progress', 'drop-progress'],
  ['error', 'error'],
  [
    'coalesce',
    coalesce(
      (acc, next) => ({ ...acc, text: acc.text + next.text }),
      (tick) => tick.kind,
    ),
  ],
];

function runPolicy(name: string, overflow: OverflowPolicy<AgentTick>) {
  const source = new Subject<AgentTick>();
  const demand = new Subject<number>();
  let produced = 0;
  let delivered = 0;
  let dropped = 0;
  let merged = 0;
  let notices = 0;
  let readStats: () => QueueStats = () => {
    throw new Error('not subscribed');
  };
  let deliveredText = 0;
  let terminalArrived = false;
  let ending = 'still open';
  source
    .pipe(
      boundedQueue({
        capacity: CAPACITY,
        overflow,
        classify,
        demand,
        inspect: (read) => {
          readStats = read;
        },
        onOverflow: (notice) => {
          notices++;
          dropped += notice.dropped;
          merged += notice.merged;
        },
      }),
    )
    .subscribe({
      next: (tick) => {
        delivered++;
        deliveredText += tick.text.length;
        if (tick.kind === 'finished') terminalArrived = true;
      },
      error: (error: Error) => {
        ending = `error: ${error.name}`;
      },
      complete: () => {
        ending = 'complete';
      },
    });
  for (let index = 0; index < VALUES; index++) {
    const kind = index % 50 === 49 ? 'tool' : 'delta';
    source.next({ kind, index, text: kind === 'delta' ? 'x' : '' });
    produced++;
    if (index % SLOWDOWN === 0) demand.next(1);
  }
  source.next({ kind: 'finished', index: VALUES, text: '' });
  produced++;
  source.complete();
  // The slow consumer keeps asking, one value at a time, until the stream ends.
  while (ending === 'still open') demand.next(1);
  const stats = readStats();
  return {
    policy: name,
    produced,
    delivered,
    // The queue's own count: under 'error' the value that did not fit is lost too (the error
    // carries it), and the notices stop there.
    dropped: Math.max(dropped, stats.dropped),
    merged,
    // Sent after the stream ended (under 'error', everything after the overflow).
    'never taken': produced - delivered - Math.max(dropped, stats.dropped) - merged,
    notices,
    'peak depth': stats.highWater,
    'delta chars kept': `${((deliveredText / (VALUES - VALUES / 50)) * 100).toFixed(1)}%`,
    'terminal arrived': terminalArrived ? 'yes' : 'no',
    ending,
  };
}

export const scene: DemoScene = {
  name: 'boundedQueue',
  title: `a producer floods boundedQueue (capacity ${CAPACITY}) with ${VALUES.toLocaleString('en-US')} values; the consumer takes 1 in ${SLOWDOWN}`,
  async run() {
    const rows = policies.map(([name, overflow]) => runPolicy(name, overflow));
    console.table(rows);
    console.log(
      [
        "Every policy but 'error' delivers the terminal value, and every gap is reported (notices).",
        'coalesce folds most deltas into the newest delta instead of dropping them; a tool event that',
        'finds the queue full still evicts the oldest (merged) delta, as drop-progress does.',
        "'error' ends the stream at the first overflow, after delivering what was queued.",
      ].join('\n'),
    );
  },
};

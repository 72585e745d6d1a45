import { Subject } from 'rxjs';
import type { EventClass } from '../../src/core/types.js';
import { drainWith } from '../../src/operators/drainWith.js';
import type { DemoScene } from './types.js';

interface Task {
  id: number;
  /** 3 critical, 2 urgent, 1 normal, 0 background. */
  priority: number;
  kind: 'work' | 'shutdown';
  arrivedAt: number;
}

const WORKERS = 4;
const CAPACITY = 24;
const TASKS = 60;
const NAMES = ['background', 'normal', 'urgent', 'critical'];

/** A fixed pseudo-random sequence, so every run gets the same tasks. */
function* pseudoRandom(seed: number): Generator<number> {
  let state = seed;
  for (;;) {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    yield state / 2_147_483_648;
  }
}

const classify = (task: Task): EventClass => (task.kind === 'shutdown' ? 'terminal' : 'normal');

export const scene: DemoScene = {
  name: 'workers',
  title: `${TASKS} prioritized tasks, ${WORKERS} workers (drainWith), a queue of ${CAPACITY}`,
  async run() {
    // Two sequences: task priorities do not depend on how the work interleaves.
    const priorities = pseudoRandom(7);
    const durations = pseudoRandom(11);
    const roll = (sequence: Generator<number>): number => sequence.next().value as number;
    const tasks = new Subject<Task>();
    const served: Task[] = [];
    const waits: number[][] = [[], [], [], []];
    const arrived = [0, 0, 0, 0];
    let gaps = 0;
    let droppedTotal = 0;
    const start = performance.now();
    const now = (): number => performance.now() - start;

    const done = new Promise<void>((resolve, reject) => {
      tasks
        .pipe(
          drainWith(
            async (task: Task) => {
              served.push(task);
              if (task.kind === 'work') waits[task.priority]?.push(now() - task.arrivedAt);
              // Each task takes 5 to 15 ms of "work".
              await new Promise((wake) => setTimeout(wake, 5 + Math.floor(roll(durations) * 10)));
              return task;
            },
            {
              concurrency: WORKERS,
              capacity: CAPACITY,
              overflow: 'drop-oldest',
              classify,
              priority: (task) => task.priority,
              onOverflow: (gap) => {
                gaps++;
                droppedTotal += gap.dropped;
              },
            },
          ),
        )
        .subscribe({ complete: resolve, error: reject });
    });

    // Two bursts faster than four workers can serve, then the shutdown task (terminal).
    for (let id = 1; id <= TASKS; id++) {
      const chance = roll(priorities);
      const priority = chance < 0.1 ? 3 : chance < 0.3 ? 2 : chance < 0.6 ? 1 : 0;
      arrived[priority] = (arrived[priority] ?? 0) + 1;
      tasks.next({ id, priority, kind: 'work', arrivedAt: now() });
      if (id === TASKS / 2) await new Promise((wake) => setTimeout(wake, 40));
    }
    tasks.next({ id: TASKS + 1, priority: 0, kind: 'shutdown', arrivedAt: now() });
    tasks.complete();
    await done;

    console.log('Order in which priorities were served (3 critical ... 0 background, S shutdown):');
    console.log(served.map((task) => (task.kind === 'shutdown' ? 'S' : task.priority)).join(' '));
    console.log(
      `\nThe first ${WORKERS} start at once; after that each free worker takes the highest waiting priority.`,
    );
    console.table(
      NAMES.map((name, priority) => {
        const list = waits[priority] ?? [];
        const average = list.reduce((sum, wait) => sum + wait, 0) / Math.max(1, list.length);
        return {
          priority: `${priority} ${name}`,
          arrived: arrived[priority],
          served: list.length,
          dropped: (arrived[priority] ?? 0) - list.length,
          'average wait ms': Number(average.toFixed(1)),
        };
      }),
    );
    console.log(
      `Queue of ${CAPACITY} with drop-oldest: ${droppedTotal} tasks dropped in ${gaps} reported gaps, lowest priority first; the shutdown task was ${served.some((task) => task.kind === 'shutdown') ? 'served (terminal values are never dropped)' : 'LOST'}.`,
    );
  },
};

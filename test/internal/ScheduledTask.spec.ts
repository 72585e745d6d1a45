import { asyncScheduler, queueScheduler, type SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ScheduledTask } from '../../src/internal/ScheduledTask.js';

/** A scheduler whose tasks run when the test says; the first `runAtOnce` tasks run at once. */
function manualScheduler(runAtOnce = 0) {
  const tasks: Array<{ run: () => void; delay: number; cancelled: boolean }> = [];
  let calls = 0;
  const scheduler: SchedulerLike = {
    now: () => 0,
    schedule: (work, delay = 0) => {
      calls++;
      const task = { run: () => (work as () => void)(), delay, cancelled: false };
      if (calls <= runAtOnce) task.run();
      else tasks.push(task);
      return {
        closed: false,
        unsubscribe: () => {
          task.cancelled = true;
        },
      } as never;
    },
  };
  return { scheduler, tasks };
}

describe('ScheduledTask', () => {
  it('schedules one run at a time, with the delay asked for', () => {
    const { scheduler, tasks } = manualScheduler();
    let runs = 0;
    const task = new ScheduledTask(scheduler, () => runs++);
    task.schedule(5);
    task.schedule(9);
    expect(tasks.map((t) => t.delay)).toEqual([5]);
    expect(task.isPending).toBe(true);
    tasks[0]?.run();
    expect(runs).toBe(1);
    expect(task.isPending).toBe(false);
    task.schedule();
    expect(tasks.map((t) => t.delay)).toEqual([5, 0]);
  });

  it('works with a scheduler that runs the task at once', () => {
    let runs = 0;
    const task = new ScheduledTask(queueScheduler, () => runs++);
    task.schedule();
    task.schedule();
    expect(runs).toBe(2);
    expect(task.isPending).toBe(false);
  });

  it('cancels the pending run, also one scheduled by a run that ran at once', () => {
    const { scheduler, tasks } = manualScheduler(1);
    let runs = 0;
    const task: ScheduledTask = new ScheduledTask(scheduler, () => {
      runs++;
      if (runs === 1) task.schedule();
    });
    task.schedule();
    expect(runs).toBe(1);
    expect(task.isPending).toBe(true);
    task.cancel();
    expect(task.isPending).toBe(false);
    expect(tasks.map((t) => t.cancelled)).toEqual([true]);
    task.cancel();
  });

  it('runs after its delay on virtual time', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ flush }) => {
      const ranAt: number[] = [];
      const task = new ScheduledTask(asyncScheduler, () => ranAt.push(asyncScheduler.now()));
      task.schedule(3);
      flush();
      expect(ranAt).toEqual([3]);
    });
  });
});

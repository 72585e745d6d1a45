import type { SchedulerLike } from 'rxjs';
import { DEFAULT_LANE } from './agentEvents.js';
import { createFrame } from './frame.js';
import type { AgentEvent, EventFrame } from './types.js';

/** A mutable count, so that a map lookup suffices to bump it. */
interface Counter {
  n: number;
}

/**
 * Stamps events into frames: the global `seq` (given: the log's head plus one), the `laneSeq`
 * (dense from 1 per `laneId`, across runs) and `ts` (the scheduler's clock). Stamping changes
 * nothing; {@link Sequencer.commit} makes a frame's laneSeq taken.
 */
export class Sequencer {
  /** The default lane, without a lookup. */
  private readonly mainLane: Counter = { n: 0 };
  private readonly otherLanes = new Map<string, Counter>();

  constructor(private readonly scheduler: SchedulerLike) {}

  /** The frame `event` becomes at `seq`. */
  stamp<P>(event: AgentEvent<P>, seq: number): EventFrame<P> {
    const laneId = event.laneId ?? DEFAULT_LANE;
    return createFrame(event, laneId, seq, this.lane(laneId).n + 1, this.scheduler.now());
  }

  /**
   * The frames `events` become at consecutive seqs from `firstSeq`, laneSeqs counted within the
   * batch too. Stamping changes nothing.
   */
  stampAll<P>(events: readonly AgentEvent<P>[], firstSeq: number): EventFrame<P>[] {
    const frames: EventFrame<P>[] = [];
    // How many frames of each lane the batch stamped so far (lanes are few: a list suffices).
    const lanes: string[] = [];
    const counts: number[] = [];
    const now = this.scheduler.now();
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as AgentEvent<P>;
      const laneId = event.laneId ?? DEFAULT_LANE;
      let at = lanes.indexOf(laneId);
      if (at < 0) at = lanes.push(laneId) - 1;
      counts[at] = (counts[at] ?? 0) + 1;
      const laneSeq = this.lane(laneId).n + (counts[at] as number);
      frames.push(createFrame(event, laneId, firstSeq + i, laneSeq, now));
    }
    return frames;
  }

  /** The frame's laneSeq is taken: the next frame of its lane gets the one after. */
  commit(frame: EventFrame<unknown>): void {
    this.lane(frame.laneId as string).n = frame.laneSeq;
  }

  private lane(laneId: string): Counter {
    if (laneId === DEFAULT_LANE) return this.mainLane;
    let lane = this.otherLanes.get(laneId);
    if (lane === undefined) {
      lane = { n: 0 };
      this.otherLanes.set(laneId, lane);
    }
    return lane;
  }
}

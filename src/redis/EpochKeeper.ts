import type { Redis } from 'ioredis';
import { EpochChangedError } from '../bus/errors.js';
import type { FrameHub } from '../bus/FrameHub.js';
import { type ResolvedOptions, randomId } from './config.js';
import type { EventSender } from './EventSender.js';
import { ProducerIdInUseError, type PublishRefusedError } from './errors.js';
import type { RedisStreamArchive } from './RedisStreamArchive.js';
import { durabilityWarnings, judge, StreamGuard } from './StreamGuard.js';
import { streamKeys } from './StreamPublisher.js';
import type { StreamTail } from './StreamTail.js';

/** Where a bus starts on a stream (see {@link openStream}). */
export interface OpenedStream {
  guard: StreamGuard;
  epoch: string;
  last: number;
  warnings: string[];
}

/**
 * What `RedisEventBus.create` checks before the bus exists: the server's durability settings
 * (`'strict'` refuses), the stream's epoch (created when missing; a new one when the stream is
 * shorter than its counter), where the stream ends, and the claim of the producer id.
 */
export async function openStream(
  archive: RedisStreamArchive<unknown>,
  options: ResolvedOptions,
): Promise<OpenedStream> {
  const warnings = await durabilityWarnings(archive.redis);
  if (warnings.length > 0 && options.durability === 'strict') {
    throw new Error(
      `RedisEventBus: durability 'strict' refuses this server: ${warnings.join('; ')}`,
    );
  }
  const keys = streamKeys(archive.stream, options.producerId);
  const guard = new StreamGuard(keys, randomId(), options.producerLeaseMs);
  let epoch = await archive.epoch(randomId());
  let last = await archive.lastSeq();
  const probe = await guard.probe(archive.redis, last);
  archive.noteHeld(probe.first, probe.last);
  if (probe.counter > probe.last) {
    // The stream is shorter than its counter: deleted or evicted since. A new epoch.
    ({ epoch, head: last } = await guard.renew(archive.redis, epoch, randomId()));
  }
  if (!(await guard.claim(archive.redis))) {
    throw new ProducerIdInUseError(archive.stream, options.producerId);
  }
  return { guard, epoch, last, warnings };
}

/** The parts of a bus an epoch change touches. */
export interface EpochHost {
  readonly stream: string;
  readonly archive: RedisStreamArchive<unknown>;
  hub(): FrameHub<unknown>;
  tail(): Pick<StreamTail<unknown>, 'resetTo'>;
  sender(): Pick<EventSender<unknown>, 'known' | 'resetTo'>;
}

/**
 * Moves a bus to a new epoch when its log went backwards or was replaced (found by the tail's
 * checks or refused by the publish script), or to the epoch another process moved the stream
 * to; keeps the bus's warnings.
 */
export class EpochKeeper {
  /** Epoch changes this bus made or followed. */
  changes = 0;
  /** The last 20 warnings. */
  readonly warnings: string[] = [];
  /** The change under way, if any: every detector waits for the same one. */
  private move: Promise<EpochChangedError> | undefined;

  constructor(
    private readonly bus: EpochHost,
    private readonly guard: StreamGuard,
    private readonly onWarning: ((message: string) => void) | undefined,
  ) {}

  warn(message: string): void {
    this.warnings.push(message);
    if (this.warnings.length > 20) this.warnings.shift();
    this.onWarning?.(message);
  }

  /** The tail's check of the log (see `StreamTail`): the seq to read on from after a change. */
  async verify(
    connection: Redis,
    position: number,
    fields: readonly string[] | undefined,
  ): Promise<number | undefined> {
    const epoch = this.bus.hub().epoch;
    const probe = await this.guard.probe(connection, position);
    this.bus.archive.noteHeld(probe.first, probe.last);
    const verdict = judge(probe, epoch, position, fields);
    if (verdict.kind === 'same') return undefined;
    await this.moveTo(verdict.kind === 'adopt' ? verdict : { reason: verdict.reason, seen: epoch });
    return this.bus.hub().log.head;
  }

  /** The publish script refused a call for its epoch: move, and tell the publish why. */
  epochLost(refusal: PublishRefusedError): Promise<EpochChangedError> {
    if (refusal.reason === 'epoch' && refusal.detail !== '') {
      return this.moveTo({ epoch: refusal.detail, head: undefined });
    }
    const reason =
      refusal.reason === 'epoch'
        ? 'its epoch key is missing'
        : refusal.reason === 'behind'
          ? `its counter (${refusal.detail}) is behind seq ${this.bus.sender().known} seen before (acknowledged entries were lost)`
          : `its counter (${refusal.detail}) is above 0 but the stream does not exist`;
    return this.moveTo({ reason, seen: refusal.reason === 'epoch' ? '' : this.bus.hub().epoch });
  }

  /**
   * Moves to the epoch in force: another process's (`epoch`), or a new one started here
   * (`reason`; unless another process started one first). Every subscriber errors with
   * `EpochChangedError`; the tail and the publisher go on from the new epoch's end.
   */
  private moveTo(
    to: { epoch: string; head: number | undefined } | { reason: string; seen: string },
  ): Promise<EpochChangedError> {
    this.move ??= (async () => {
      const { stream } = this.bus;
      const hub = this.bus.hub();
      const old = hub.epoch;
      const oldHead = hub.log.head;
      let next: { epoch: string; head: number };
      if ('reason' in to) {
        next = await this.guard.renew(this.bus.archive.redis, to.seen, randomId());
        if (next.epoch !== old) {
          this.warn(
            `the stream "${stream}" went backwards or was replaced (${to.reason}): epoch ${next.epoch} follows ${old}; its subscribers here got EpochChangedError`,
          );
        }
      } else {
        next = { epoch: to.epoch, head: to.head ?? (await this.bus.archive.lastSeq()) };
        this.warn(
          `the stream "${stream}" moved to epoch ${next.epoch} (from ${old}) in another process; its subscribers here got EpochChangedError`,
        );
      }
      if (next.epoch !== old) {
        this.changes++;
        hub.changeEpoch(next.epoch, next.head);
        this.bus.tail().resetTo(next.head);
        this.bus.sender().resetTo(next.head);
      }
      return new EpochChangedError(old, next.epoch, oldHead);
    })().finally(() => {
      this.move = undefined;
    });
    return this.move;
  }
}

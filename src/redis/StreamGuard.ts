import type { Redis } from 'ioredis';
import { describeValue } from '../core/checks.js';
import type { StreamKeys } from './StreamPublisher.js';
import {
  CLAIM_PRODUCER_SCRIPT,
  PROBE_SCRIPT,
  RELEASE_PRODUCER_SCRIPT,
  RENEW_EPOCH_SCRIPT,
} from './scripts.js';

/** A stream's state, read in one step (see `PROBE_SCRIPT`). */
export interface StreamProbe {
  /** The stored epoch, '' when the key is missing. */
  epoch: string;
  /** The seq counter. */
  counter: number;
  /** The seq of the stream's last generated id (0: no stream). */
  last: number;
  /** The seq of the stream's first entry (0: none). */
  first: number;
  /** The fields of the entry at the probed seq, `null` when there is none. */
  at: string[] | null;
}

/** What a probe says about a log this process read up to `position`. */
export type ProbeVerdict =
  | { kind: 'same' }
  /** Another process already moved the stream to this epoch. */
  | { kind: 'adopt'; epoch: string; head: number }
  /** The log went backwards or was replaced: a new epoch is due. */
  | { kind: 'renew'; reason: string };

/**
 * Judges a probe: `epoch` is the one this process is in, `position` the last seq it read, and
 * `fields` that entry's fields as it read them (when it has them).
 */
export function judge(
  probe: StreamProbe,
  epoch: string,
  position: number,
  fields: readonly string[] | undefined,
): ProbeVerdict {
  if (probe.epoch === '') return { kind: 'renew', reason: 'its epoch key is missing' };
  if (probe.epoch !== epoch) return { kind: 'adopt', epoch: probe.epoch, head: probe.last };
  if (probe.last < position) {
    return {
      kind: 'renew',
      reason: `it ends at seq ${probe.last}, behind seq ${position} read before (acknowledged entries were lost)`,
    };
  }
  if (probe.counter > probe.last) {
    return {
      kind: 'renew',
      reason: `its counter (${probe.counter}) is beyond its last entry (${probe.last}): the stream was deleted or replaced`,
    };
  }
  if (fields !== undefined && probe.at !== null && !sameFields(fields, probe.at)) {
    return { kind: 'renew', reason: `its entry at seq ${position} is not the one read before` };
  }
  return { kind: 'same' };
}

function sameFields(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The stream-wide checks of a bus: its epoch (probe, renew) and its producer id's claim. Each
 * runs as one script, on the connection the caller gives.
 */
export class StreamGuard {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly keys: StreamKeys,
    /** This bus's token for its producer id. */
    readonly token: string,
    private readonly leaseMs: number,
  ) {}

  async probe(connection: Redis, position: number): Promise<StreamProbe> {
    const reply = (await connection.eval(
      PROBE_SCRIPT,
      3,
      this.keys.stream,
      this.keys.seq,
      this.keys.epoch,
      String(position),
    )) as [string, string, number, number, string[] | null];
    return {
      epoch: String(reply[0]),
      counter: Number(reply[1]) || 0,
      last: Number(reply[2]) || 0,
      first: Number(reply[3]) || 0,
      at: Array.isArray(reply[4]) ? reply[4] : null,
    };
  }

  /**
   * Starts a new epoch unless the stored one is no longer `seen` ('' for a missing key): the
   * epoch in force then, and the seq the stream ends at.
   */
  async renew(
    connection: Redis,
    seen: string,
    proposed: string,
  ): Promise<{ epoch: string; head: number }> {
    const reply = (await connection.eval(
      RENEW_EPOCH_SCRIPT,
      3,
      this.keys.epoch,
      this.keys.seq,
      this.keys.stream,
      seen,
      proposed,
    )) as [string, number];
    return { epoch: String(reply[0]), head: Number(reply[1]) || 0 };
  }

  /** Claims (or renews) the producer id: `true` when this bus holds it. */
  async claim(connection: Redis): Promise<boolean> {
    const held = await connection.eval(
      CLAIM_PRODUCER_SCRIPT,
      1,
      this.keys.producer,
      this.token,
      String(this.leaseMs),
    );
    return held === '';
  }

  /** Renews the claim every third of the lease on `connection` while it is ready, until `stopClaim`. */
  keepClaim(connection: Redis): void {
    this.timer = setInterval(
      () => {
        if (connection.status === 'ready') this.claim(connection).catch(() => undefined);
      },
      Math.max(1, Math.floor(this.leaseMs / 3)),
    );
    (this.timer as { unref?: () => void }).unref?.();
  }

  stopClaim(): void {
    clearInterval(this.timer);
  }

  /** Gives the producer id back, if this bus holds it. */
  async release(connection: Redis): Promise<void> {
    await connection.eval(RELEASE_PRODUCER_SCRIPT, 1, this.keys.producer, this.token);
  }
}

/**
 * What the server's settings lose of acknowledged frames (CONFIG GET at start); empty when
 * nothing. When the server refuses CONFIG GET, one warning says so.
 */
export async function durabilityWarnings(connection: Redis): Promise<string[]> {
  const settings = new Map<string, string>();
  try {
    // One parameter per call: Redis 6.2 takes one pattern only.
    const names = ['appendonly', 'appendfsync', 'maxmemory', 'maxmemory-policy'];
    const replies = await Promise.all(names.map((name) => connection.call('CONFIG', 'GET', name)));
    for (const pairs of replies) {
      const list = Array.isArray(pairs) ? pairs : [];
      for (let i = 0; i + 1 < list.length; i += 2)
        settings.set(String(list[i]), String(list[i + 1]));
    }
  } catch (error) {
    return [
      `the server refuses CONFIG GET (${(error as Error)?.message}): the bus cannot tell whether acknowledged frames survive a crash; check appendonly yes, appendfsync always and maxmemory-policy noeviction with your provider`,
    ];
  }
  const warnings: string[] = [];
  if (settings.get('appendonly') !== 'yes') {
    warnings.push(
      `appendonly is ${describeValue(settings.get('appendonly'))} (Redis's default): a restart loses every frame written since the last snapshot; set appendonly yes`,
    );
  } else if (settings.get('appendfsync') === 'everysec') {
    warnings.push(
      'appendfsync is "everysec": a crash of the machine (or of its OS) loses up to about a second of acknowledged frames; appendfsync always loses none',
    );
  } else if (settings.get('appendfsync') === 'no') {
    warnings.push(
      'appendfsync is "no": a crash of the machine loses what the OS had not written yet (often 30 s of acknowledged frames); appendfsync always loses none',
    );
  }
  const maxmemory = Number(settings.get('maxmemory') ?? '0');
  const policy = settings.get('maxmemory-policy') ?? 'noeviction';
  if (maxmemory > 0 && policy !== 'noeviction') {
    warnings.push(
      `maxmemory-policy is "${policy}" with maxmemory ${maxmemory}: Redis may evict the stream or its counters when memory runs short; set maxmemory-policy noeviction`,
    );
  }
  return warnings;
}

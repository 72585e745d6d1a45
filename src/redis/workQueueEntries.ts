/**
 * The work queue's entries in Redis: the keys, a job as stream fields, a reply of XREADGROUP or
 * XAUTOCLAIM as jobs, and the checks `add` makes before anything is written.
 */
import { rangeError, typeError } from '../core/checks.js';

/** The stream of priority level `level`. */
export function levelKey(name: string, level: number): string {
  return `${name}:p${level}`;
}

/** The dead-letter stream. */
export function deadKey(name: string): string {
  return `${name}:dead`;
}

/** The key that holds a job id taken for `idTtlMs`. */
export function idKey(name: string, id: string): string {
  return `${name}:id:${id}`;
}

/**
 * A key naming one job of one queue, the same on every delivery of it: hand it to whatever the
 * handler changes (an `Idempotency-Key` header, a unique column, `SET … NX`) so that a job run
 * twice (delivery is at least once) has its effect once.
 */
export function idempotencyKey(queue: string, jobId: string): string {
  return `${queue}:${jobId}`;
}

/**
 * Appends a job unless its id is taken: takes the id for `ARGV[1]` ms, then XADD.
 * KEYS: the level's stream, the id key. ARGV: ttl, id, json. Replies the entry id, or false.
 */
export const addOnceScript = `
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  return redis.call('XADD', KEYS[1], '*', 'id', ARGV[2], 'j', ARGV[3])
end
return false
`;

/** One job a worker read: where it lies in Redis, and what it is. */
export class WorkItem<J> {
  /** Its slot in the worker is held (from delivery to its acknowledgement or dead letter). */
  held = false;
  /** How many times Redis delivered it to a worker of the group (known for jobs taken over). */
  deliveries = 1;

  constructor(
    /** The entry's id in its level's stream. */
    readonly entryId: string,
    readonly level: number,
    readonly key: string,
    /** The job's id. */
    readonly id: string,
    /** The job's JSON, as added. */
    readonly json: string,
    /** The decoded job, or the reason it could not be decoded. */
    readonly job: J | undefined,
    readonly decodeError: Error | undefined,
    /** Taken over from another worker, or put back by one that closed. */
    readonly redelivered: boolean,
  ) {}

  /** How errors (a handler timeout) name it. */
  toJSON(): { job: string; priority: number } {
    return { job: this.id, priority: this.level };
  }
}

type Fields = string[];
/** `[entryId, fields]`, as XREADGROUP and XAUTOCLAIM reply; fields are null for a deleted entry. */
export type RawEntry = [string, Fields | null];

/** A stream entry as a job. An entry that is not a job's becomes a job that cannot run. */
export function itemOf<J>(
  entry: RawEntry,
  level: number,
  key: string,
  redelivered: boolean,
): WorkItem<J> | undefined {
  const [entryId, fields] = entry;
  if (fields === null) return undefined;
  let id = entryId;
  let json = '';
  let requeued = false;
  for (let k = 0; k + 1 < fields.length; k += 2) {
    const field = fields[k];
    const value = fields[k + 1] as string;
    if (field === 'id') id = value;
    else if (field === 'j') json = value;
    else if (field === 'r') requeued = true;
  }
  let job: J | undefined;
  let decodeError: Error | undefined;
  try {
    job = JSON.parse(json) as J;
  } catch (error) {
    decodeError = new TypeError(
      `RedisWorkQueue: entry ${entryId} of ${key} is not a job (its "j" field is not JSON)`,
      { cause: error },
    );
  }
  return new WorkItem<J>(entryId, level, key, id, json, job, decodeError, redelivered || requeued);
}

const encoder = new TextEncoder();

/**
 * The job as JSON, checked: serializable, within the payload limit, at a priority the queue has.
 * Every refusal names the job.
 */
export function encodeJob(
  job: unknown,
  id: string,
  priority: number,
  levels: number,
  maxPayloadBytes: number,
  /** The job's place in a batch of `addAll`. */
  index?: number,
): string {
  const owner =
    index === undefined
      ? `RedisWorkQueue.add (job ${JSON.stringify(id)})`
      : `RedisWorkQueue.addAll (job ${JSON.stringify(id)}, entry ${index})`;
  if (!Number.isInteger(priority) || priority < 0 || priority >= levels) {
    throw rangeError(owner, 'priority', `an integer from 0 to ${levels - 1}`, priority);
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(job);
  } catch (error) {
    throw new TypeError(`${owner}: the job cannot be serialized to JSON (${String(error)})`, {
      cause: error,
    });
  }
  if (json === undefined) throw typeError(owner, 'job', 'a JSON-serializable value', job);
  const bytes = encoder.encode(json).length;
  if (bytes > maxPayloadBytes) {
    throw new RangeError(
      `${owner}: the job is ${bytes} bytes of JSON, over maxPayloadBytes (${maxPayloadBytes})`,
    );
  }
  return json;
}

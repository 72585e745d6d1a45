import {
  asyncScheduler,
  type Observable,
  type SchedulerLike,
  Subject,
  type Subscription,
  timer,
} from 'rxjs';
import {
  checkFunction,
  checkNonNegative,
  checkOptions,
  checkScheduler,
  typeError,
} from '../core/checks.js';
import { formatCursor, parseCursor } from '../core/cursor.js';
import type { Classifier, OverflowNotice, OverflowPolicy } from '../core/types.js';
import { gapMessage } from './socketParts.js';

/** What the stream needs of a frame: its seq, and the gap the bus reported before it. */
export interface SequencedFrame {
  /** The frame's place in the log: the cursor. */
  readonly seq: number;
  /** The gap the subscriber had just before this frame, if any. */
  readonly overflow?: OverflowNotice<unknown> | undefined;
}

/** The queue a client's subscription gets: a bus subscriber queue whose demand the stream drives. */
export interface ClientQueue<F> {
  /** As a bus subscriber queue's `capacity`. */
  capacity: number;
  /** As a bus subscriber queue's `overflow`. */
  overflow: OverflowPolicy<F> | 'backpressure';
  /** As a bus subscriber queue's `classify`. */
  classify?: Classifier<F> | undefined;
  /** As a bus subscriber queue's `terminalReserve`. */
  terminalReserve?: number | undefined;
  /** As a bus subscriber queue's `onOverflow`. */
  onOverflow?: ((notice: OverflowNotice<F>) => void) | undefined;
}

/**
 * The part of an event bus the stream uses (`EventBus` and the Redis bus both have it): `select`
 * with a cursor, an epoch and a queue whose `demand` the stream drives; the head; the history.
 */
export interface SequencedLog<F extends SequencedFrame, Filter> {
  /** The log's epoch (`bus.epoch`). */
  readonly epoch: string;
  /** The seq of the newest frame (`bus.lastSeq`). */
  readonly lastSeq: number;
  /** As `EventBus.select`. */
  select(
    filter: Filter,
    options: {
      after?: number;
      epoch?: string;
      queue: ClientQueue<F> & { demand: Observable<number> };
    },
  ): Observable<F>;
}

/** The options of {@link serverSentEvents}. */
export interface ServerSentEventsConfig<F> {
  /** The request: its `Last-Event-ID` header is the cursor to resume from. Default: none. */
  request?:
    | {
        /** The request's headers (a `Headers` object, or anything with `get`). */
        headers: {
          /** A header's value, `null` when absent. */
          get(name: string): string | null;
        };
      }
    | undefined;
  /**
   * The cursor to resume from, `epoch:seq` (as the `id:` of each event), when it does not come
   * from `request` (a query parameter, say). Default: `request`'s `Last-Event-ID`, else none:
   * live events only.
   */
  lastEventId?: string | null | undefined;
  /**
   * The client's queue on the bus. Frames are read from the log at the client's pace (the
   * stream's demand), so a reconnecting client loses nothing the log holds; the policy applies to
   * live frames while the client is slow. Default: `{ capacity: 1024, overflow: 'drop-oldest' }`.
   */
  queue?: ClientQueue<F> | undefined;
  /** Turns a frame into the event's `data`. Default: the frame as JSON, without `overflow`. */
  serialize?: ((frame: F) => string) | undefined;
  /** Milliseconds between heartbeat comments (0: none). Default: 15,000. */
  heartbeat?: number | undefined;
  /** The `retry:` (ms) sent first, the client's reconnection delay. Default: none sent. */
  retry?: number | undefined;
  /** Extra response headers. Default: none. */
  headers?: Record<string, string> | undefined;
  /** Runs the heartbeat. Default: `asyncScheduler`. */
  scheduler?: SchedulerLike | undefined;
}

/**
 * A bus's frames as a Server-Sent Events `Response` (`text/event-stream`), for any server that
 * speaks web `Request`/`Response` (and Node's `http` through the `rxjs-backpressure/node` entry).
 *
 * Each frame is an event whose `id:` is its cursor, `epoch:seq`. A client that reconnects sends
 * it back as `Last-Event-ID` and resumes after that seq with no gap and no duplicate, the frames
 * read from the log at the client's pace: the response body's demand is the subscriber queue's
 * `demand`. A cursor of another epoch, or beyond the head (the server restarted with a new log),
 * gets `event: reset` with `{"epoch": <the new epoch>}`, then the oldest frame held onwards. A
 * cursor older than what the log holds gets `event: gap` with the notice (`fromSeq`, `toSeq`,
 * `dropped`) before the next frame, as does every gap the client's queue policy makes. A comment
 * line is sent every `heartbeat` ms while the client keeps up, so that proxies keep the
 * connection. The body closes when the bus closes, and errors (the client then reconnects) when
 * the subscription errors. Cancelling the body (the client went away) unsubscribes.
 *
 * ```text
 * Last-Event-ID: 3f2a:41
 * id: 3f2a:42          event: gap             id: 3f2a:60
 * data: {...}          data: {"overflow":…}   data: {...}
 * ```
 *
 * @example
 * ```ts
 * export default {
 *   fetch: (request: Request) =>
 *     serverSentEvents(bus, { runId: 'r1' }, { request, queue: { capacity: 256, overflow: 'drop-progress' } }),
 * };
 * ```
 *
 * @throws RangeError or TypeError at once for a bad bus or bad options.
 */
export function serverSentEvents<F extends SequencedFrame, Filter>(
  bus: SequencedLog<F, Filter>,
  filter: Filter,
  options: ServerSentEventsConfig<F> = {},
): Response {
  if (bus === null || typeof bus !== 'object' || typeof bus.select !== 'function') {
    throw typeError(OWNER, 'bus', 'an event bus', bus);
  }
  checkOptions(options, OWNER);
  const { serialize = frameData, heartbeat = 15_000, retry } = options;
  const { scheduler = asyncScheduler, headers = {}, request } = options;
  const queue: ClientQueue<F> = options.queue ?? (DEFAULT_QUEUE as ClientQueue<F>);
  // The queue's fields are checked by the bus's select, at once (the stream starts here).
  checkOptions(queue, `${OWNER}: queue`);
  checkFunction(serialize, OWNER, 'serialize');
  checkNonNegative(heartbeat, OWNER, 'heartbeat', ' (ms)');
  if (retry !== undefined) checkNonNegative(retry, OWNER, 'retry', ' (ms)');
  checkScheduler(scheduler, OWNER);
  const lastEventId =
    options.lastEventId !== undefined
      ? options.lastEventId
      : (request?.headers.get('last-event-id') ?? null);
  const start = startOf(bus, lastEventId);
  const encoder = new TextEncoder();
  const demand = new Subject<number>();
  let subscription: Subscription | undefined;
  let granted = 0;
  let sent = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const send = (text: string): void => controller.enqueue(encoder.encode(text));
        if (retry !== undefined) send(`retry: ${retry}\n\n`);
        if (start.reset) send(`event: reset\ndata: ${JSON.stringify({ epoch: bus.epoch })}\n\n`);
        const frames$ = bus.select(filter, {
          ...(start.after === undefined ? {} : { after: start.after, epoch: bus.epoch }),
          queue: { ...queue, demand },
        });
        subscription = frames$.subscribe({
          next(frame) {
            sent++;
            const notice = frame.overflow;
            // After a reset the client starts afresh: what the log no longer holds is no gap.
            if (notice !== undefined && !(start.reset && sent === 1 && notice.fromSeq === 1)) {
              send(`event: gap\ndata: ${gapMessage(notice)}\n\n`);
            }
            send(eventOf(formatCursor(bus.epoch, frame.seq), serialize(frame)));
          },
          error: (error: unknown) => controller.error(error),
          complete: () => controller.close(),
        });
        if (heartbeat > 0) {
          subscription.add(
            timer(heartbeat, heartbeat, scheduler).subscribe(() => {
              if ((controller.desiredSize ?? 0) > 0) send(': heartbeat\n\n');
            }),
          );
        }
      },
      pull(controller) {
        // The stream's room, less what was asked for and has not come yet: at least one frame.
        const want = Math.max(1, controller.desiredSize ?? 0) - (granted - sent);
        if (want <= 0) return;
        granted += want;
        demand.next(want);
      },
      cancel() {
        subscription?.unsubscribe();
      },
    },
    { highWaterMark: 8 },
  );
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...headers,
    },
  });
}

const OWNER = 'serverSentEvents';
const DEFAULT_QUEUE: ClientQueue<unknown> = { capacity: 1024, overflow: 'drop-oldest' };

/** Where a client starts: live, after its cursor, or afresh after a reset. */
function startOf(
  bus: { readonly epoch: string; readonly lastSeq: number },
  lastEventId: string | null,
): { after: number | undefined; reset: boolean } {
  if (lastEventId === null || lastEventId === '') return { after: undefined, reset: false };
  const cursor = parseCursor(lastEventId);
  if (cursor === undefined || cursor.epoch !== bus.epoch || cursor.seq > bus.lastSeq) {
    return { after: 0, reset: true };
  }
  return { after: cursor.seq, reset: false };
}

/** One event: its id, and its data split into `data:` lines. */
function eventOf(id: string, data: string): string {
  return `id: ${id}\ndata: ${data.includes('\n') ? data.split(/\r?\n/).join('\ndata: ') : data}\n\n`;
}

/** The frame as JSON, without the per-client `overflow` (sent as a gap event instead). */
function frameData(frame: SequencedFrame): string {
  if (frame.overflow === undefined) return JSON.stringify(frame);
  const { overflow: _gap, ...rest } = frame;
  return JSON.stringify(rest);
}

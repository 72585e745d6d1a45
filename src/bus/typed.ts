import type { Observable } from 'rxjs';
import type { AgentEvent, BusMetrics, EventFilter, EventFrame, SelectOptions } from './types.js';

/** The kinds of an event map: its string keys. */
export type KindOf<M> = keyof M & string;

/** `payload` as a kind's payload type asks: optional when it admits `undefined`. */
export type PayloadOf<T> = undefined extends T
  ? {
      /** The kind's payload. */
      payload?: T;
    }
  : {
      /** The kind's payload. */
      payload: T;
    };

/**
 * An event of a typed bus: its `kind` one of the map's kinds (`K`), its `payload` that kind's
 * payload type.
 */
export type TypedEvent<M, K extends KindOf<M> = KindOf<M>> = {
  [X in K]: Omit<AgentEvent<M[X]>, 'kind' | 'payload'> & {
    /** One of the map's kinds. */
    kind: X;
  } & PayloadOf<M[X]>;
}[K];

/** A frame of a typed bus: narrowed by its `kind` to that kind's payload type. */
export type TypedFrame<M, K extends KindOf<M> = KindOf<M>> = {
  [X in K]: Omit<EventFrame<M[X]>, 'kind' | 'payload'> & {
    /** One of the map's kinds. */
    readonly kind: X;
  } & Readonly<PayloadOf<M[X]>>;
}[K];

/** A filter of a typed bus: `kinds` among the map's kinds narrows the frames selected. */
export interface TypedFilter<K extends string> extends Omit<EventFilter, 'kinds'> {
  /** As `EventFilter.kinds`, among the map's kinds: the frames selected are narrowed to them. */
  kinds?: Iterable<K>;
}

/**
 * An `EventBus` seen through an event map (kind → payload type): `publish` checks each payload
 * against its kind, and `select({ kinds })` narrows the frames it gives. The same object as an
 * `EventBus`, typed more closely; made by {@link EventBus.typed}.
 *
 * @example
 * ```ts
 * interface MyEvents extends AgentEventMap {
 *   'tool.call': { name: string; args: unknown };
 * }
 * const bus = EventBus.typed<MyEvents>();
 * bus.publish({ kind: 'tool.call', runId: 'r1', payload: { name: 'search', args: {} } });
 * bus.select({ kinds: ['tool.call'] }).subscribe((frame) => frame.payload.name);
 * ```
 */
export interface TypedEventBus<M extends object> {
  /** As `EventBus.events$`. */
  readonly events$: Observable<TypedFrame<M>>;
  /** As `EventBus.epoch`. */
  readonly epoch: string;
  /** As `EventBus.isClosed`. */
  readonly isClosed: boolean;
  /** As `EventBus.lastSeq`. */
  readonly lastSeq: number;
  /** As `EventBus.publish`, the payload checked against the kind. */
  publish<K extends KindOf<M>>(event: TypedEvent<M, K>): TypedFrame<M, K>;
  /** As `EventBus.send`. */
  send<K extends KindOf<M>>(event: TypedEvent<M, K>): Promise<TypedFrame<M, K>>;
  /** As `EventBus.publishAll`. */
  publishAll(events: readonly TypedEvent<M>[]): TypedFrame<M>[];
  /** As `EventBus.sendAll`. */
  sendAll(events: readonly TypedEvent<M>[]): Promise<TypedFrame<M>[]>;
  /** As `EventBus.select`; `kinds` narrows the frames. */
  select<const K extends KindOf<M> = KindOf<M>>(
    filter?: TypedFilter<K>,
    options?: SelectOptions<M[KindOf<M>]>,
  ): Observable<TypedFrame<M, K>>;
  /** As `EventBus.replay`; `kinds` narrows the frames. */
  replay<const K extends KindOf<M> = KindOf<M>>(
    filter?: TypedFilter<K>,
    after?: number,
  ): Observable<TypedFrame<M, K>>;
  /** As `EventBus.iterate`; `kinds` narrows the frames. */
  iterate<const K extends KindOf<M> = KindOf<M>>(
    filter?: TypedFilter<K>,
    options?: SelectOptions<M[KindOf<M>]>,
  ): AsyncIterableIterator<TypedFrame<M, K>>;
  /** As `EventBus.metrics`. */
  metrics(): BusMetrics;
  /** As `EventBus.metrics$`. */
  metrics$(period: number): Observable<BusMetrics>;
  /** As `EventBus.close`. */
  close(): void;
}

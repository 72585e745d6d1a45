/**
 * `rxjs-backpressure/redis`: the event bus over Redis Streams, for agents and consumers spread
 * over processes or machines. A separate entry point, so the core never loads a Redis client;
 * `ioredis` is an optional peer dependency that only this entry point needs (and only as a type:
 * you pass your own client).
 *
 * @packageDocumentation
 */
export {
  decodeEntry,
  encodeEventBody,
  entryIdOfSeq,
  FRAME_ENCODING_VERSION,
  FrameDecodeError,
  type RawStreamEntry,
  seqOfEntryId,
} from './codec.js';
export { ProducerIdInUseError, RedisUnavailableError } from './errors.js';
export {
  createRedisBus,
  type RedisBusMetrics,
  RedisEventBus,
  type RedisEventBusConfig,
  type RedisSendOptions,
} from './RedisEventBus.js';
export { RedisSnapshotStore, type RedisSnapshotStoreConfig } from './RedisSnapshotStore.js';
export { RedisStreamArchive, type RedisStreamArchiveConfig } from './RedisStreamArchive.js';
export { RedisWorkQueue } from './RedisWorkQueue.js';
export { publishScript } from './scripts.js';
export { idempotencyKey } from './workQueueEntries.js';
export type {
  AddedJob,
  AddJobOptions,
  DeadLetter,
  RedisWorkQueueConfig,
  WorkContext,
  WorkDeadLettered,
  WorkDone,
  WorkerConfig,
  WorkHandler,
  WorkOutcome,
  WorkRetryConfig,
} from './workQueueTypes.js';
export { DeliveryLimitError } from './workQueueWrites.js';

// The public surface: re-exports only.

// src/interop (pull consumers)
export { type ToAsyncIterableConfig, toAsyncIterable } from './interop/toAsyncIterable.js';

// src/queue
export {
  OverflowQueue,
  type OverflowQueueOptions,
  type PushOutcome,
  type QueueStats,
} from './queue/OverflowQueue.js';
export {
  type Classifier,
  type CoalescePolicy,
  coalesce,
  type EventClass,
  type OverflowNotice,
  type OverflowPolicy,
  type OverflowPolicyName,
  type QueueConfig,
  QueueOverflowError,
} from './queue/types.js';

// src/operators
export { type BoundedQueueConfig, boundedQueue } from './operators/boundedQueue.js';

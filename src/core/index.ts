export {
  OverflowQueue,
  type OverflowQueueOptions,
  type PushOutcome,
  policyNameOf,
  type QueueStats,
  validateQueueConfig,
} from './OverflowQueue.js';
export {
  MAX_PRIORITY,
  PriorityOverflowQueue,
  type PriorityOverflowQueueOptions,
} from './PriorityOverflowQueue.js';
export {
  type Classifier,
  type CoalescePolicy,
  coalesce,
  describe,
  type EventClass,
  type OverflowNotice,
  type OverflowPolicy,
  type OverflowPolicyName,
  type QueueConfig,
  QueueOverflowError,
} from './types.js';

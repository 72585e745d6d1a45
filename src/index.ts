// The public surface: re-exports only.

// src/bus (EventBus)
export { DEFAULT_HISTORY, EventBus } from './bus/EventBus.js';
export { BackpressureError, BusClosedError, InvalidEventError } from './bus/errors.js';
export { filterPredicate } from './bus/filter.js';
export { MemoryArchive, type MemoryArchiveConfig } from './bus/MemoryArchive.js';
export type {
  AgentEvent,
  BusMetrics,
  EventArchive,
  EventBusConfig,
  EventFilter,
  EventFrame,
  SelectOptions,
  SubscriberMetrics,
  SubscriberQueue,
  Visibility,
} from './bus/types.js';
export { rejectHiddenReasoning } from './bus/validators.js';

// progress summarization and terminal handling (agent-event helpers, summarizeProgress,
// takeThroughTerminal)
export {
  type AgentEventLike,
  agentEventKey,
  agentEventScope,
  classifyAgentEvent,
  DEFAULT_LANE,
  mergeAgentProgress,
  PROGRESS_KINDS,
  type ProgressKind,
  type ProgressSummary,
  progressSummaryOf,
  TERMINAL_KINDS,
  type TerminalKind,
} from './bus/agentEvents.js';
export {
  type SummarizeProgressConfig,
  summarizeProgress,
} from './operators/summarizeProgress.js';
export { takeThroughTerminal } from './operators/takeThroughTerminal.js';

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
  MAX_PRIORITY,
  PriorityOverflowQueue,
  type PriorityOverflowQueueOptions,
} from './queue/PriorityOverflowQueue.js';
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
export { type DrainWithConfig, drainWith } from './operators/drainWith.js';

// parallel lanes (mergeLanes, sequenceLanes, mergeSortedLanes)
export {
  type Laned,
  type LaneQueueConfig,
  type MergeLanesConfig,
  mergeLanes,
} from './operators/mergeLanes.js';
export { sequenceLanes } from './operators/sequenceLanes.js';
export { mergeSortedLanes } from './queue/laneOrder.js';

// The public surface: re-exports only, sorted by module path (src/bus,
// src/core, src/interop, src/operators, src/projection). The Redis bus has its own entry point, rxjs-backpressure/redis.

export {
  type AgentEventLike,
  type AgentEventMap,
  agentEventKey,
  agentEventScope,
  classifyAgentEvent,
  DEFAULT_LANE,
  type MergedProgress,
  mergeAgentProgress,
  PROGRESS_KINDS,
  type ProgressKind,
  type ProgressSummary,
  progressSummaryOf,
  TERMINAL_KINDS,
  type TerminalKind,
} from './bus/agentEvents.js';
export { BusSubscriptions } from './bus/BusSubscriptions.js';
export { DEFAULT_HISTORY, EventBus, MAX_HISTORY } from './bus/EventBus.js';
export { EventCheck } from './bus/EventCheck.js';
export {
  BackpressureError,
  BusClosedError,
  EpochChangedError,
  InvalidEventError,
} from './bus/errors.js';
export { FrameHub } from './bus/FrameHub.js';
export { filterPredicate } from './bus/filter.js';
export type { MaxLag } from './bus/LagGuard.js';
export { LatencyMetrics, latencyMetrics } from './bus/LatencyMetrics.js';
export { MemoryArchive, type MemoryArchiveConfig } from './bus/MemoryArchive.js';
export type {
  KindOf,
  PayloadOf,
  TypedEvent,
  TypedEventBus,
  TypedFilter,
  TypedFrame,
} from './bus/typed.js';
export type {
  AgentEvent,
  BusMetrics,
  BusMetricsConfig,
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
export {
  checkBoolean,
  checkFunction,
  checkPositiveInteger,
  checkPositiveNumber,
  checkScheduler,
  describeValue,
  rangeError,
  typeError,
} from './core/checks.js';
export { type Cursor, formatCursor, parseCursor } from './core/cursor.js';
export { HandlerTimeoutError } from './core/HandlerTimeoutError.js';
export type { LatencyStats } from './core/LatencyWindow.js';
export { mergeSortedLanes } from './core/laneOrder.js';
export {
  OverflowQueue,
  type OverflowQueueOptions,
  type PushOutcome,
  type QueueStats,
} from './core/OverflowQueue.js';
export {
  MAX_PRIORITY,
  PriorityOverflowQueue,
  type PriorityOverflowQueueOptions,
} from './core/PriorityOverflowQueue.js';
export { SlowConsumerError } from './core/SlowConsumerError.js';
export type { TextUnit } from './core/textUnits.js';
export {
  type Classifier,
  type CoalesceFallback,
  type CoalesceOptions,
  type CoalescePolicy,
  coalesce,
  type DropReason,
  type EventClass,
  type OverflowNotice,
  type OverflowPolicy,
  type OverflowPolicyName,
  type QueueConfig,
  QueueOverflowError,
} from './core/types.js';
export { DrainEngine } from './internal/DrainEngine.js';
export { ScheduledTask } from './internal/ScheduledTask.js';
export {
  type FromReadableStreamConfig,
  fromReadableStream,
} from './interop/fromReadableStream.js';
export {
  type ClientQueue,
  type SequencedFrame,
  type SequencedLog,
  type ServerSentEventsConfig,
  serverSentEvents,
} from './interop/serverSentEvents.js';
export { type ToAsyncIterableConfig, toAsyncIterable } from './interop/toAsyncIterable.js';
export { type ToReadableStreamConfig, toReadableStream } from './interop/toReadableStream.js';
export {
  type DemandDrivenSource,
  type ToWebSocketConfig,
  toWebSocket,
  type WebSocketData,
  type WebSocketLike,
  type WebSocketMaxLag,
} from './interop/toWebSocket.js';
export { type ToWritableStreamConfig, toWritableStream } from './interop/toWritableStream.js';
export { type AutoscaleConfig, autoscale } from './operators/autoscale.js';
export { type BatchConfig, batch } from './operators/batch.js';
export { type BoundedQueueConfig, boundedQueue } from './operators/boundedQueue.js';
export { type DrainGauges, StatsReporter } from './operators/drainStats.js';
export {
  type DrainHandler,
  type DrainRetryConfig,
  type DrainStats,
  type DrainWithConfig,
  drainWith,
} from './operators/drainWith.js';
export { type FramesConfig, frames } from './operators/frames.js';
export { type FailurePlan, HandlerPool } from './operators/HandlerPool.js';
export {
  type Laned,
  type LaneQueueConfig,
  type MergeLanesConfig,
  mergeLanes,
} from './operators/mergeLanes.js';
export {
  DEFAULT_MAX_LAG,
  type PaceTextConfig,
  paceText,
} from './operators/paceText.js';
export { sequenceLanes } from './operators/sequenceLanes.js';
export {
  type SummarizeProgressConfig,
  summarizeProgress,
} from './operators/summarizeProgress.js';
export { takeThroughTerminal } from './operators/takeThroughTerminal.js';
export {
  ProjectionGapError,
  ProjectionReduceError,
  StaleSnapshotError,
} from './projection/errors.js';
export { projectionFilterHash } from './projection/filterHash.js';
export { MemorySnapshotStore } from './projection/MemorySnapshotStore.js';
export { DEFAULT_SNAPSHOT_EVERY, projection } from './projection/projection.js';
export type {
  ProjectableBus,
  ProjectionConfig,
  ProjectionEmit,
  ProjectionRebuild,
  ProjectionSnapshot,
  ProjectionState,
  SnapshotConfig,
  SnapshotStore,
  StaleReason,
} from './projection/types.js';

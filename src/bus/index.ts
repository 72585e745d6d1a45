export { DEFAULT_HISTORY, EventBus } from './EventBus.js';
export {
  BackpressureError,
  BusClosedError,
  EpochChangedError,
  InvalidEventError,
} from './errors.js';
export { filterPredicate } from './filter.js';
export { MemoryArchive, type MemoryArchiveConfig } from './MemoryArchive.js';
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
} from './types.js';
export { rejectHiddenReasoning } from './validators.js';

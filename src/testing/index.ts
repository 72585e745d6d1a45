// The test kit entry point, rxjs-backpressure/testing: helpers for testing pipelines that drop,
// merge and wait, under RxJS's TestScheduler. It depends on rxjs/testing; what it uses of the
// library comes from the root entry. Browser-safe, and free of any test framework.

export {
  type AccountedOptions,
  expectAccounted,
  expectDenseSeq,
  expectLaneOrder,
} from './accounting.js';
export { DemandDeadlockError, type DemandMarble, demandFrom } from './demandFrom.js';
export { type AsymmetricMatcher, ExpectationError } from './equality.js';
export {
  assertMarbles,
  createTestScheduler,
  drawMarble,
  type MarbleMessage,
  parseMarble,
} from './marbleText.js';
export {
  isNotice,
  type NoticeFields,
  type NoticeMatcher,
  notice,
  withNotices,
} from './notices.js';
export { type RunVirtualOptions, runVirtual, type VirtualHelpers } from './runVirtual.js';
export { IterableStepper } from './stepIterable.js';
export { createTestBus, framesMarble, publishMarble } from './testBus.js';

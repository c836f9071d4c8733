/** The pipeline: watcher ─▶ validate ─▶ tee per syncer ─▶ project ─▶ dedupe ─▶ (cache). */
export type { SyncCallbacks, SyncStatus, KVUpdate } from './sync-callbacks.js';
export { createValidationStage, type ValidationStage, type ValidationStageOptions, type ValidationStats, type InvalidReason } from './validation-stage.js';
export { PROJECTIONS, projectionTable, syncerKinds, type Projection, type ProjectionOptions, type ProjectionTable } from '../protocol/views/index.js';
export { createProjectionStage, projectUpdate } from './projection-stage.js';
export { createDedupeStage, type DedupeStage, type DedupeStats } from './dedupe-stage.js';
export { teeCallbacks } from './tee.js';
export { updateKey } from '../common/update-key.js';
export { jsonEqual } from '../common/json-equal.js';
export { createLogLimiter, type LogLimiter, type LogLimiterOptions } from './log-limiter.js';
export { silentLogger, type Logger, type LogFn } from './logger.js';

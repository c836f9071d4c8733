/**
 * `@cattail/loadtest`: the k6 runner's parts, for the CI smoke test and other tools. The k6
 * scripts themselves are in loadtest/k6/ (plain JavaScript run by k6, not compiled).
 */
export { ControlServer, type Control } from './control-server.js';
export { wallMinusMonoMs } from './clock.js';
export { LoadtestError, UsageError, K6MissingError, RunTimeoutError } from './errors.js';
export { findK6, K6_DIR, REPO_ROOT } from './k6-binary.js';
export { K6Process, type K6Exit } from './k6-process.js';
export { parseRunOptions, SCENARIOS, USAGE, type RunOptions, type Scenario } from './options.js';
export { buildResult, compactResult, resultTable, type LoadtestResult, type ThresholdResult } from './report.js';
export { renderChart, lineChart } from './chart.js';
export { runScenario, type ScenarioRun, type K6Summary } from './scenarios.js';
export { SlowConsumer, type SlowConsumerOptions, type SlowConsumerStats } from './slow-consumer.js';
export { SystemUnderTest, type SystemInfo } from './system.js';
export { Timeline, binIndex, binUpperMs, binQuantile, BIN_COUNT, type TickReport, type TimelinePoint } from './timeline.js';

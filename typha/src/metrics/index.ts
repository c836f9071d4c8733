/** Metrics of the Typha server: the interface the server calls and its Prometheus implementation. */
export { noopServerMetrics, type DropReason, type RejectReason, type ServerMetrics } from './server-metrics.js';
export { PromServerMetrics, type PromServerMetricsOptions, type SyncerSources } from './prom-server-metrics.js';

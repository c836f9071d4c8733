/**
 * `@cattail/typha/common`: the small kit Typha's server and the agents (Felix, confd) share,
 * imported from here and never copied: the injected Clock (time and timers), the Logger
 * boundary, the health and metrics HTTP endpoints (`serveComponentEndpoints` from a component's
 * Health and PrometheusMetrics parameters), and JSON equality of projected values.
 * (`@cattail/typha/client` is the sync client alone; `@cattail/typha/testing` has the FakeClock.)
 */
export { realClock, realWallClock, type Clock, type TimerHandle, type WallClock } from './clock.js';
export { silentLogger, type Logger, type LogFn } from './logger.js';
export { serveRoutes, text, json, type Route, type Reply, type HttpEndpoint } from './http-endpoints.js';
export {
  agentHealthRoutes,
  serveComponentEndpoints,
  PROMETHEUS_TEXT,
  type ComponentEndpoints,
  type EndpointPorts,
  type EndpointParams,
} from './component-endpoints.js';
export { jsonEqual } from './json-equal.js';

/**
 * A component's health and metrics servers from its `Health*` and `PrometheusMetrics*`
 * parameters (Calico's names, the same in Typha's, Felix's and confd's configuration): health
 * on one port, `/metrics` on another, each only when enabled. If the second cannot listen, the
 * first is closed again, so a failed start leaves no port open.
 */
import { json, serveRoutes, text, type HttpEndpoint, type Route } from './http-endpoints.js';

export interface EndpointParams {
  readonly HealthEnabled: boolean;
  readonly HealthHost: string;
  readonly HealthPort: number;
  readonly PrometheusMetricsEnabled: boolean;
  readonly PrometheusMetricsHost: string;
  readonly PrometheusMetricsPort: number;
}

/** The bound ports (useful with port 0) of the servers that were enabled. */
export interface EndpointPorts {
  healthPort?: number;
  metricsPort?: number;
}

export interface ComponentEndpoints {
  readonly ports: Readonly<EndpointPorts>;
  close(): Promise<void>;
}

/** The content type of Prometheus' text exposition format. */
export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** An agent's health routes: always live, ready when `ready()`, and its JSON status. */
export function agentHealthRoutes(ready: () => boolean, status: () => unknown): Record<string, Route> {
  return {
    '/liveness': () => text(200, 'live'),
    '/readiness': () => (ready() ? text(200, 'ready') : text(503, 'not ready')),
    '/status': () => json(200, status()),
  };
}

export async function serveComponentEndpoints(
  c: EndpointParams,
  routes: { health: Readonly<Record<string, Route>>; metrics: Route },
): Promise<ComponentEndpoints> {
  const open: HttpEndpoint[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  };
  try {
    const health = c.HealthEnabled ? await serveRoutes(c.HealthHost, c.HealthPort, routes.health) : undefined;
    if (health) open.push(health);
    const metrics = c.PrometheusMetricsEnabled
      ? await serveRoutes(c.PrometheusMetricsHost, c.PrometheusMetricsPort, { '/metrics': routes.metrics })
      : undefined;
    if (metrics) open.push(metrics);
    const ports: EndpointPorts = {};
    if (health) ports.healthPort = health.port;
    if (metrics) ports.metricsPort = metrics.port;
    return { ports, close };
  } catch (err) {
    await close();
    throw err;
  }
}

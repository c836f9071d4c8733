/**
 * The small HTTP servers beside the sync port, as Calico's Typha has them: health
 * (`/liveness`, `/readiness`, plus our JSON `/status`) on TYPHA_HEALTHPORT and Prometheus
 * `/metrics` on TYPHA_PROMETHEUSMETRICSPORT. Each handler is a function of the daemon's state;
 * nothing here knows about etcd or sockets beyond HTTP.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route = () => Promise<{ status: number; type: string; body: string }> | { status: number; type: string; body: string };

export interface HttpEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

function respond(res: http.ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

export async function serveRoutes(host: string, port: number, routes: Readonly<Record<string, Route>>): Promise<HttpEndpoint> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes[path];
    if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) {
      respond(res, 404, 'text/plain', `not found: ${path} (try ${Object.keys(routes).join(', ')})\n`);
      return;
    }
    Promise.resolve()
      .then(route)
      .then(
        (r) => respond(res, r.status, r.type, r.body),
        (err: unknown) => respond(res, 500, 'text/plain', `${err instanceof Error ? err.message : String(err)}\n`),
      );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host || undefined, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function text(status: number, body: string) {
  return { status, type: 'text/plain; charset=utf-8', body: body.endsWith('\n') ? body : `${body}\n` };
}

export function json(status: number, value: unknown) {
  return { status, type: 'application/json', body: `${JSON.stringify(value, null, 2)}\n` };
}

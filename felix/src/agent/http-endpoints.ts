/**
 * The small HTTP servers beside the agent, as Felix has them: health (`/liveness`,
 * `/readiness`, and a JSON `/status`) on FELIX_HEALTHPORT, Prometheus `/metrics` on
 * FELIX_PROMETHEUSMETRICSPORT. Each route is a function of the agent's state; nothing here
 * knows about the dataplane or Typha. (Same shape as confd's.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  type: string;
  body: string;
}

export type Route = () => Reply;

export interface HttpEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

function handle(routes: Readonly<Record<string, Route>>, req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0];
  const route = routes[path];
  let r: Reply;
  if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) {
    r = text(404, `not found: ${path} (try ${Object.keys(routes).join(', ')})`);
  } else {
    try {
      r = route();
    } catch (err) {
      r = text(500, err instanceof Error ? err.message : String(err));
    }
  }
  res.writeHead(r.status, { 'content-type': r.type, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : r.body);
}

export async function serveRoutes(host: string, port: number, routes: Readonly<Record<string, Route>>): Promise<HttpEndpoint> {
  const server = http.createServer((req, res) => handle(routes, req, res));
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

export function text(status: number, body: string): Reply {
  return { status, type: 'text/plain; charset=utf-8', body: body.endsWith('\n') ? body : `${body}\n` };
}

export function json(status: number, value: unknown): Reply {
  return { status, type: 'application/json', body: `${JSON.stringify(value, null, 2)}\n` };
}

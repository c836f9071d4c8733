/**
 * The small HTTP servers beside every component, as Calico has them: health (`/liveness`,
 * `/readiness`, and a JSON `/status`) and Prometheus `/metrics` on their own ports. Typha,
 * Felix and confd all use this one; each route is a function of the component's state, so
 * nothing here knows about etcd, BIRD or the dataplane. Exported from `@cattail/typha/common`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  type: string;
  body: string;
}

/** A route may answer at once or asynchronously (Prometheus' registry renders async). */
export type Route = () => Reply | Promise<Reply>;

export interface HttpEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

async function answer(routes: Readonly<Record<string, Route>>, req: http.IncomingMessage): Promise<Reply> {
  const path = (req.url ?? '/').split('?')[0];
  const route = routes[path];
  if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) {
    return text(404, `not found: ${path} (try ${Object.keys(routes).join(', ')})`);
  }
  try {
    return await route();
  } catch (err) {
    return text(500, err instanceof Error ? err.message : String(err));
  }
}

function handle(routes: Readonly<Record<string, Route>>, req: http.IncomingMessage, res: http.ServerResponse): void {
  void answer(routes, req).then((r) => {
    res.writeHead(r.status, { 'content-type': r.type, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : r.body);
  });
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

#!/usr/bin/env node
/**
 * The alternative issue 17 asks to measure before choosing: a per-node IPAM daemon. A prototype
 * for `bench:cni --plugin daemon`, not a product: one long-lived process per node holding warm
 * datastore connections, and a thin client as the CNI binary (cni-daemon-client.ts), which
 * forwards the CNI environment and stdin over a unix socket and prints the answer.
 *
 *   runtime ─exec─▶ client (node, ~nothing loaded) ─unix socket─▶ daemon: runPlugin(env, stdin)
 *                                                                  with the datastore kept open
 *
 * The daemon runs the real plugin (`runPlugin` of @cattail/cni: the same IPAM, wiring through
 * `ip`/`nsenter` processes, endpoint writes), only without a process start, module loading and
 * a datastore connection per call. One request per connection: a JSON line
 * `{"env": {...}, "stdin": "..."}` in, a JSON line `{"stdout": "...", "exitCode": 0}` out.
 *
 *   node bench/dist/src/cni-daemon.js --socket PATH     prints "ready" when listening
 */
import { rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import type { Datastore } from '@cattail/datastore';
import { defaultDeps, runPlugin, type PluginDeps } from '@cattail/cni';

type NetConf = Parameters<PluginDeps['openDatastore']>[0];

/** One open datastore per distinct datastore configuration, kept for the daemon's life. */
function warmDeps(): { deps: PluginDeps; closeAll(): Promise<void> } {
  const base = defaultDeps();
  const open = new Map<string, Promise<Datastore>>();
  const keyOf = (c: NetConf) => JSON.stringify([c.datastoreType, c.etcd, c.kubeconfig]);
  return {
    deps: {
      ...base,
      async openDatastore(conf) {
        const key = keyOf(conf);
        let ds = open.get(key);
        if (!ds) {
          ds = Promise.resolve(base.openDatastore(conf));
          open.set(key, ds);
        }
        // runPlugin closes what it opened after each call: here that must not close the shared one.
        return new Proxy(await ds, {
          get(target, prop, receiver) {
            if (prop === 'close') return async () => undefined;
            const value: unknown = Reflect.get(target, prop, receiver);
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
      },
    },
    async closeAll() {
      for (const ds of open.values()) await (await ds).close().catch(() => undefined);
    },
  };
}

function serve(socket: Socket, deps: PluginDeps): void {
  let buf = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buf += chunk;
    const nl = buf.indexOf('\n');
    if (nl < 0) return;
    socket.removeAllListeners('data');
    let req: { env: Record<string, string>; stdin: string };
    try {
      req = JSON.parse(buf.slice(0, nl)) as typeof req;
    } catch (err) {
      socket.end(`${JSON.stringify({ stdout: '', exitCode: 1, error: `bad request: ${(err as Error).message}` })}\n`);
      return;
    }
    runPlugin({ env: req.env, stdin: req.stdin }, deps).then(
      (out) => socket.end(`${JSON.stringify(out)}\n`),
      (err: unknown) => socket.end(`${JSON.stringify({ stdout: '', exitCode: 1, error: String(err) })}\n`),
    );
  });
  socket.on('error', () => socket.destroy());
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { socket: { type: 'string' } } });
  const path = values.socket;
  if (!path) throw new Error('usage: cni-daemon.js --socket PATH');
  rmSync(path, { force: true });
  const warm = warmDeps();
  const deps = warm.deps;
  // Half-open: the client ends its side after the request and still reads the answer.
  const server = createServer({ allowHalfOpen: true }, (socket) => serve(socket, deps));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  process.stdout.write('ready\n');
  const stop = () => {
    server.close();
    void warm.closeAll().finally(() => {
      rmSync(path, { force: true });
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop).resume(); // the bench keeps stdin open while it needs the daemon
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});

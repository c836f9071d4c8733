/**
 * Loopback ports of the root network namespace, reachable at the same `127.0.0.1:<port>` inside
 * a network namespace that a test or the lab made. The CNI plugin runs inside a node's namespace
 * (that is its "host"), yet etcd listens on the root namespace's loopback; this joins the two
 * without giving either namespace an address on the other's network.
 *
 * ```
 *   root namespace                                        namespace NS
 *   127.0.0.1:P ◀── outer relay ◀── <dir>/P.sock ◀── inner relay ◀── 127.0.0.1:P ◀── client
 *                  (this process)    (a file: both       (`ip netns exec NS node
 *                                     namespaces see it)   loopback-relay-main.js --inner`)
 * ```
 *
 * A unix socket is a file, so it is reachable from every network namespace; Node cannot enter a
 * namespace itself, so the inner half is a child started with `ip netns exec`. Both halves are
 * `loopback-relay-main.js`: {@link exposeLoopbackPorts} starts the outer one as a child process
 * (the lab starts the same script detached, so it outlives `cattail lab up`). Rejected: giving the
 * namespace a veth into the root namespace, which would put an address on the host's own network.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Where the relay script is, to start it detached (`node <path> --netns NS --ports P,…`). */
export const LOOPBACK_RELAY_MAIN = fileURLToPath(new URL('./loopback-relay-main.js', import.meta.url));

export type RelayAddress = { host: string; port: number } | { path: string };

/**
 * Joins two sockets both ways. An error on either destroys both; one side closing cleanly ends
 * the other after what it still buffers is flushed (destroying it could drop the last reply).
 */
export function joinSockets(a: Socket, b: Socket): void {
  const destroyBoth = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', destroyBoth).on('close', (hadError) => (hadError ? b.destroy() : b.end()));
  b.on('error', destroyBoth).on('close', (hadError) => (hadError ? a.destroy() : a.end()));
  a.pipe(b);
  b.pipe(a);
}

/**
 * Accepts on `listen` and pipes every connection to `target`. Half-open both ways: a client that
 * sends its request and ends its side (FIN) still gets the reply.
 */
export async function listenRelay(listen: RelayAddress, target: RelayAddress): Promise<Server> {
  const server = createServer({ allowHalfOpen: true }, (client) => joinSockets(client, createConnection({ ...target, allowHalfOpen: true })));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in listen) server.listen(listen.path, done);
    else server.listen(listen.port, listen.host, done);
  });
  return server;
}

export interface LoopbackExposure {
  /** The outer relay's PID (it ends the inner one when it goes). */
  readonly pid: number;
  readonly netns: string;
  readonly ports: readonly number[];
  /** Ends both relays; idempotent. */
  close(): Promise<void>;
}

/**
 * Makes each root-namespace `127.0.0.1:<port>` reachable at `127.0.0.1:<port>` inside `netns`
 * (whose loopback must be up). Resolves once both halves listen; the relay ends with `close()`
 * or when this process exits.
 */
export async function exposeLoopbackPorts(netns: string, ports: readonly number[], opts: { timeoutMs?: number } = {}): Promise<LoopbackExposure> {
  const child = spawn(process.execPath, [LOOPBACK_RELAY_MAIN, '--netns', netns, '--ports', ports.join(','), '--exit-with-stdin'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  await awaitReady(child, `loopback relay into ${netns}`, opts.timeoutMs ?? 15_000);
  let closed: Promise<void> | undefined;
  return {
    pid: child.pid!,
    netns,
    ports: [...ports],
    close() {
      closed ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      return closed;
    },
  };
}

/**
 * Waits for a relay child's `ready` line on stdout. Fails with what it printed on stderr when it
 * exits first or takes longer than `timeoutMs`.
 */
export function awaitReady(child: ChildProcess, what: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    const finish = (e?: Error): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onOut);
      child.off('exit', onExit);
      if (e) {
        child.kill('SIGKILL');
        reject(e);
      } else resolve();
    };
    const onOut = (d: Buffer): void => {
      out += d.toString();
      if (/^ready\b/m.test(out)) finish();
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`${what} exited (${signal ?? code}) before it was ready: ${err.trim() || 'no output'}`));
    const timer = setTimeout(() => finish(new Error(`${what} not ready after ${timeoutMs} ms: ${err.trim() || 'no output'}`)), timeoutMs);
    child.stdout!.on('data', onOut);
    child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
    child.once('exit', onExit);
  });
}

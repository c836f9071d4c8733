/**
 * The per-node CNI daemon (`cattail cni-daemon`): the plugin's work without a process start,
 * module loading and a datastore connection per call. The runtime executes the shim
 * (tools/cni-shim, installed as `cattail-cni`), which forwards the call over a unix socket;
 * this serves it with the real `runPlugin` (the same IPAM, wiring through `ip`/`nsenter`,
 * endpoint writes) on warm datastore connections (warm-datastores.ts).
 *
 *   kubelet ─▶ containerd ─exec─▶ cattail-cni (Go shim) ─unix socket─▶ CniDaemon ─▶ runPlugin
 *                                   │ connect failed                        │ CNI_NETNS not
 *                                   ▼                                       │ visible here
 *                                cattail-cni-direct ◀── {"fallback"} ───────┘
 *                                (the whole plugin, one process per call)
 *
 * Invariants:
 *   - A pod's call is done by exactly one of daemon and direct plugin: the daemon answers
 *     `fallback` only before touching anything, and the shim falls back only when it could not
 *     connect or was told to; once a request is sent, ADD and DEL are never run twice.
 *   - The daemon answers fallback when the call's network namespace is not a network namespace
 *     from its own mount namespace (its /var/run/netns mount is missing, or lacks propagation):
 *     the direct plugin, running in the host's, can still do the work.
 *   - One request per connection, bounded (daemon-protocol.ts); a bad request is answered with
 *     a CNI error and costs nobody else anything.
 *   - SIGTERM (stop()): the socket is removed first (new calls fall back), calls being served
 *     finish (up to DrainTimeoutSecs), then the datastores close.
 *
 * Logs: JSON lines on stderr, the daemon's own and each call's (tagged with its container id by
 * runPlugin), at each netconf's log_level.
 *
 * With ManageKubeconfig set (the chart, on the Kubernetes datastore) it also keeps the CNI
 * kubeconfig's token fresh for the direct plugin (cni-token.ts), and reopens the connections
 * that read the old one.
 */
import { mkdir, lstat, rm, statfs } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { agentHealthRoutes, PROMETHEUS_TEXT, serveComponentEndpoints, type ComponentEndpoints, type EndpointPorts } from '@cattail/typha/common';
import type { CniDaemonConfig } from './daemon-config.js';
import { DaemonMetrics, type RequestResult } from './daemon-metrics.js';
import { decodeAnswer, decodeRequest, encodeAnswer, MAX_REQUEST_BYTES, oversizedRequest, type DaemonAnswer } from './daemon-protocol.js';
import { CniError, DaemonSocketError, InternalError, errorMessage } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { defaultDeps, runPlugin, type PluginDeps } from './plugin.js';
import { errorResult, LATEST_VERSION } from './result.js';
import { WarmDatastores } from './warm-datastores.js';
import { CniTokenRefresher, DEFAULT_TOKEN_VALIDITY_SECS, type CniTokenStatus } from './cni-token.js';

/** statfs(2) f_type of a network namespace file (a bind mount of /proc/<pid>/ns/net, or that link). */
const NSFS_MAGIC = 0x6e736673;
/** An oversized request is read to its end (so the client sees the answer) but only this far. */
const DISCARD_LIMIT = 16 * MAX_REQUEST_BYTES;
/** A client that has not finished its request by then is cut off (the shim sends it at once). */
const REQUEST_READ_TIMEOUT_MS = 30_000;

export type DaemonConfig = Pick<
  CniDaemonConfig,
  'Socket' | 'DrainTimeoutSecs' | 'HealthEnabled' | 'HealthHost' | 'HealthPort' | 'PrometheusMetricsEnabled' | 'PrometheusMetricsHost' | 'PrometheusMetricsPort'
> &
  Partial<Pick<CniDaemonConfig, 'ManageKubeconfig' | 'KubeconfigTokenValiditySecs'>>;

export interface CniDaemonOptions {
  logger?: Logger;
  /** The plugin's dependencies; openDatastore and releaseDatastore are replaced by the warm pool's. */
  deps?: PluginDeps;
  /** Why the daemon cannot work in `netns` from here, or undefined when it can. */
  netnsProblem?: (netns: string) => Promise<string | undefined>;
  /**
   * Keeps the CNI kubeconfig's token fresh (cni-token.ts): made from ManageKubeconfig by
   * default; tests pass their own (or null for none).
   */
  tokenRefresher?: CniTokenRefresher | null;
}

export interface CniDaemonStatus {
  socket: string;
  serving: boolean;
  inFlight: number;
  datastoreConnections: number;
  requests: Record<string, number>;
  /** The managed CNI kubeconfig's token, when ManageKubeconfig is set. */
  kubeconfigToken?: CniTokenStatus;
}

/** Why a path is not a network namespace this process can enter, or undefined. */
export async function netnsProblem(netns: string): Promise<string | undefined> {
  try {
    const st = await statfs(netns);
    return st.type === NSFS_MAGIC ? undefined : `${netns} is not a network namespace in the CNI daemon's mount namespace (its mount did not propagate)`;
  } catch (err) {
    return `the CNI daemon cannot see ${netns}: ${errorMessage(err)}`;
  }
}

export class CniDaemon {
  readonly #config: DaemonConfig;
  readonly #log: Logger;
  readonly #warm: WarmDatastores;
  readonly #deps: PluginDeps;
  readonly #netnsProblem: (netns: string) => Promise<string | undefined>;
  readonly #metrics = new DaemonMetrics();
  /** Open shim connections, each settled when it closes: what stop() waits for. */
  readonly #connections = new Set<Promise<void>>();
  #server: Server | undefined;
  #endpoints: ComponentEndpoints | undefined;
  #stopping = false;
  readonly #tokens: CniTokenRefresher | undefined;

  constructor(config: DaemonConfig, opts: CniDaemonOptions = {}) {
    this.#config = config;
    this.#log = opts.logger ?? createLogger('info', { component: 'cni-daemon' });
    const base = opts.deps ?? defaultDeps();
    this.#warm = new WarmDatastores((conf) => base.openDatastore(conf));
    this.#deps = {
      ...base,
      openDatastore: (conf) => this.#warm.open(conf),
      releaseDatastore: (ds, failure) => this.#warm.release(ds, failure),
    };
    this.#netnsProblem = opts.netnsProblem ?? netnsProblem;
    this.#tokens = opts.tokenRefresher === undefined ? this.#defaultTokenRefresher() : (opts.tokenRefresher ?? undefined);
  }

  #defaultTokenRefresher(): CniTokenRefresher | undefined {
    const path = this.#config.ManageKubeconfig ?? '';
    if (path === '') return undefined;
    return new CniTokenRefresher({
      kubeconfigPath: path,
      validitySecs: this.#config.KubeconfigTokenValiditySecs ?? DEFAULT_TOKEN_VALIDITY_SECS,
      logger: this.#log,
      // Connections opened from the old token would keep it until it expires: reopen them.
      onRefreshed: () => void this.#warm.retireKubeconfig(path),
    });
  }

  /** Listens on the socket (replacing a stale one) and starts the health/metrics servers if enabled. */
  async start(): Promise<{ socket: string } & EndpointPorts> {
    const path = this.#config.Socket;
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await claimSocketPath(path);
    const server = createServer({ allowHalfOpen: true }, (socket) => this.#accept(socket));
    // 0600 from the first moment: the umask applies to the socket bind(2) creates.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, () => resolve()));
    } finally {
      process.umask(umask);
    }
    this.#server = server;
    this.#endpoints = await serveComponentEndpoints(this.#config, {
      health: agentHealthRoutes(
        () => !this.#stopping,
        () => this.status(),
      ),
      metrics: () => ({ status: 200, type: PROMETHEUS_TEXT, body: this.#metrics.render(this.#warm.size) }),
    }).catch(async (err: unknown) => {
      await this.#closeServer();
      throw err;
    });
    // The first token is written before the daemon reports ready; a failure is retried, not fatal
    // (install-cni's token is still in the file).
    await this.#tokens?.start();
    return { socket: path, ...this.#endpoints.ports };
  }

  status(): CniDaemonStatus {
    return {
      socket: this.#config.Socket,
      serving: this.#server !== undefined && !this.#stopping,
      inFlight: this.#metrics.inFlight,
      datastoreConnections: this.#warm.size,
      requests: this.#metrics.requests(),
      ...(this.#tokens ? { kubeconfigToken: this.#tokens.status() } : {}),
    };
  }

  /** Stop accepting (the socket goes, so new calls fall back), let calls finish (bounded), close the datastores. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    await this.#tokens?.stop();
    await this.#closeServer();
    const pending = this.#connections.size;
    if (pending > 0) {
      this.#log.info({ connections: pending, drainTimeoutSecs: this.#config.DrainTimeoutSecs }, 'waiting for the calls being served');
      const finished = await settledWithin([...this.#connections], this.#config.DrainTimeoutSecs * 1000);
      if (!finished) this.#log.warn({ connections: this.#connections.size }, 'calls still running at the drain timeout: their callers see the daemon go away');
    }
    await this.#warm.closeAll();
    await this.#endpoints?.close();
  }

  async #closeServer(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    // Stops accepting; libuv also unlinks the path. Its callback would wait for the open
    // connections, which stop() drains with a bound instead.
    server.close();
    await rm(this.#config.Socket, { force: true });
  }

  #accept(socket: Socket): void {
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    this.#connections.add(closed);
    void closed.then(() => this.#connections.delete(closed));
    socket.setTimeout(REQUEST_READ_TIMEOUT_MS, () => {
      this.#log.warn({ timeoutMs: REQUEST_READ_TIMEOUT_MS }, 'a CNI shim connection sent no complete request in time');
      socket.destroy();
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let rejected = false;
    socket.on('error', (err) => {
      this.#log.debug({ err }, 'a CNI shim connection failed');
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (rejected) {
        if (size > DISCARD_LIMIT) socket.destroy();
        return;
      }
      if (size <= MAX_REQUEST_BYTES) {
        chunks.push(chunk);
        return;
      }
      // Answer now; read (and drop) the rest so the client is not stuck writing.
      rejected = true;
      chunks.length = 0;
      this.#reject(socket, oversizedRequest(size));
    });
    socket.on('end', () => {
      socket.setTimeout(0); // the request is whole: the call takes as long as it takes
      if (rejected) socket.end();
      else void this.#serve(socket, Buffer.concat(chunks));
    });
  }

  #reject(socket: Socket, err: CniError): void {
    this.#log.warn({ err, code: err.code }, 'refused a request');
    this.#metrics.record('unknown', 'rejected', 0);
    socket.write(encodeAnswer({ stdout: `${JSON.stringify(errorResult(LATEST_VERSION, err))}\n`, exitCode: 1 }));
  }

  async #serve(socket: Socket, bytes: Buffer): Promise<void> {
    const started = performance.now();
    let req;
    try {
      req = decodeRequest(bytes);
    } catch (err) {
      this.#reject(socket, err instanceof CniError ? err : new InternalError(errorMessage(err), { cause: err }));
      socket.end();
      return;
    }
    const command = (req.env.CNI_COMMAND ?? '').trim().toUpperCase();
    const netns = (req.env.CNI_NETNS ?? '').trim();
    if (netns.startsWith('/')) {
      const problem = await this.#netnsProblem(netns);
      if (problem !== undefined) {
        this.#log.info({ cmd: command, containerId: req.env.CNI_CONTAINERID, netns, reason: problem }, 'sending the call to the direct plugin');
        this.#answer(socket, { fallback: problem }, command, 'fallback', started);
        return;
      }
    }
    this.#metrics.inFlight++;
    const call = runPlugin({ env: req.env, stdin: req.stdin }, this.#deps).catch((err: unknown) => {
      // runPlugin answers every error itself; this is a bug, still answered as a CNI error.
      const cniErr = new InternalError(`the CNI daemon: ${errorMessage(err)}`, { cause: err });
      this.#log.error({ err }, cniErr.message);
      return { stdout: `${JSON.stringify(errorResult(LATEST_VERSION, cniErr))}\n`, exitCode: 1 };
    });
    try {
      const out = await call;
      this.#answer(socket, out, command, out.exitCode === 0 ? 'ok' : 'error', started);
    } finally {
      this.#metrics.inFlight--;
    }
  }

  #answer(socket: Socket, answer: DaemonAnswer, command: string, result: RequestResult, started: number): void {
    this.#metrics.record(command, result, (performance.now() - started) / 1000);
    if (socket.writable) socket.end(encodeAnswer(answer));
    else this.#log.warn({ cmd: command, result }, 'the CNI shim went away before its answer');
  }
}

/**
 * Makes `path` free for a new socket: nothing there, or a socket nobody answers on (a daemon
 * that died without removing it). A live daemon's socket, or anything but a socket, is kept and
 * reported.
 */
export async function claimSocketPath(path: string): Promise<void> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return;
  if (!st.isSocket()) throw new DaemonSocketError(`${path} exists and is not a socket: remove it, or give the daemon another --socket`);
  if (await socketAnswers(path)) throw new DaemonSocketError(`another CNI daemon is serving on ${path}: stop it first, or give this one another --socket`);
  await rm(path, { force: true });
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** True when every promise settled within `ms`; never rejects. */
async function settledWithin(promises: readonly Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One call through a daemon socket, for TypeScript callers (tests, the benchmark's Node client):
 * what the shim does, without its fallback.
 */
export function callDaemon(socketPath: string, request: string | Buffer): Promise<DaemonAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        resolve(decodeAnswer(answer));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    socket.end(request);
  });
}

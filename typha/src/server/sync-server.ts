/**
 * The Typha sync server: a TCP listener, an HTTP(S) server whose `/sync` upgrades become
 * Connections, one FanOut per syncer wired as the DeltaBatcher's publish callback, one timer
 * for every connection's pings and limits, and the graceful operations (shed, drain).
 *
 *   TCP ─▶ accept gate (per-source and pending-handshake limits; see accept-gate.ts)
 *       ─▶ TLS handshake (handshakeTimeoutMs) ─▶ HTTP upgrade request (upgradeTimeoutMs)
 *       ─▶ upgrade gate (path, TLS identity, subprotocol → codec; see upgrade.ts)
 *       ─▶ ws.handleUpgrade ─▶ Connection (over maxConnections: Goodbye(ServerOverloaded);
 *                                          no hello in handshakeTimeoutMs: closed)
 *   DeltaBatcher.publish ─▶ FanOut(syncer) ─▶ live Connections (same Buffer to all)
 *   tick every tickMs ─▶ Connection.tick(now): pings (encoded once per codec per tick), ping
 *                        timeouts, lag limits, missed drains; upgrade requests overdue (408)
 *
 * Why our own net.Server in front of http(s).Server (`emit('connection', socket)`, the
 * documented hand-over): the accept gate decides before TLS or HTTP allocate anything for a
 * connection, and the listener's 'close' still waits for every socket it accepted. The
 * http.Server, never listening itself, runs none of its own connection tracking
 * (headersTimeout, closeAllConnections): the gate keeps the upgrade deadline and the list of
 * sockets instead.
 * Why WebSocketServer with `noServer`: the gate refuses with a precise HTTP status and body
 * before ws allocates anything, and the listener is ours to close first on drain.
 * `perMessageDeflate` is off: the same encoded bytes go to every client (compressing per
 * client is what Calico's Typha pays for), and it keeps ws's sender from queueing, which the
 * direct write path relies on (see frame-writer.ts).
 *
 * Lifecycle: new ─start()─▶ listening ─drain()─▶ draining ─stop()─▶ stopped. `stop()` is the
 * hard stop (Goodbye(Shutdown), then the sockets are cut); `drain()` is the SIGTERM path.
 */
import { lookup } from 'node:dns/promises';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import type { PublishFn } from '../cache/delta-batcher.js';
import { noopServerMetrics, type ServerMetrics } from '../metrics/server-metrics.js';
import type { Codec } from '../protocol/codec.js';
import type { CodecName } from '../protocol/codecs.js';
import { CloseCode, SUBPROTOCOL_JSON, SUBPROTOCOL_MSGPACK, type SyncerType } from '../protocol/messages.js';
import { SYNC_PATH } from '../protocol/transport.js';
import { AcceptGate, admissionOf, sourceAddress, type AcceptRefusal, type GateSocket } from './accept-gate.js';
import type { TimerHandle } from '../common/clock.js';
import { Connection, type ConnectionOwner } from './connection.js';
import { bindTcp, type BoundSocket } from './bound-socket.js';
import { DrainSchedule } from './drain-schedule.js';
import { ServerListenError, ServerOptionError, ServerStateError } from './errors.js';
import { FanOut } from './fan-out.js';
import { FanoutPool, RemoteTcp, remoteWriter, type FanoutPoolOwner, type RemoteSocket } from './fanout-pool.js';
import type { CodecName as WireCodecName } from '../protocol/codecs.js';
import { CODECS } from '../protocol/codecs.js';
import { directWriter, supportsDirectWrites, wsSendWriter } from './frame-writer.js';
import type { Logger } from '../common/logger.js';
import { checkLimit, resolveServerOptions, type GoodbyeHint, type ResolvedServerOptions, type SyncServerOptions } from './options.js';
import type { RefusalCounts, ServerStatus, SyncerSummary } from './status.js';
import { refuseAccepted, refuseUpgrade, syncHttpServer, upgradeVerdict } from './upgrade.js';

export interface DrainOptions {
  /** Spread the closes over this long (Calico: TYPHA_SHUTDOWNTIMEOUTSECS). */
  durationMs: number;
  /** Where clients should go, and the base of their staggered reconnect delay. */
  hint?: GoodbyeHint;
}

const kServer = Symbol('typha.server');
const kCodec = Symbol('typha.server.codec');
const kUpgrade = Symbol('typha.server.upgrade');
const kAccept = Symbol('typha.server.accept');
const kTick = Symbol('typha.server.tick');
const kReject = Symbol('typha.server.reject');
const kConnect = Symbol('typha.server.connect');
const kClientError = Symbol('typha.server.clientError');
const kFirstBytes = Symbol('typha.server.firstBytes');
type TaggedServer = { [kServer]: SyncServer };
type RejectReason = Parameters<ServerMetrics['connectionRejected']>[0];
type TaggedRequest = http.IncomingMessage & { [kServer]: SyncServer; [kCodec]: Codec };

export class SyncServer {
  readonly #o: ResolvedServerOptions;
  readonly #log: Logger;
  readonly #metrics: ServerMetrics;
  readonly #codecs: readonly Codec[];
  readonly #hubs = new Map<SyncerType, FanOut<Connection>>();
  readonly #conns = new Set<Connection>();
  readonly #owner: ConnectionOwner;
  readonly #wss: WebSocketServer;
  readonly #gate: AcceptGate;
  readonly #refused: RefusalCounts = {};
  /** Sockets refused at accept, reading until their peer closes (bounded by closeGraceMs). */
  readonly #lingering = new Set<Socket>();
  readonly #tickMs: number;
  #listener: net.Server | undefined;
  /** With fan-out workers: the socket they listen on (this process does not). */
  #listenHandle: BoundSocket | undefined;
  #http: http.Server | undefined;
  #state: ServerStatus['state'] = 'new';
  #port: number | undefined;
  #maxConnections: number;
  #nextId = 0;
  #tickTimer: TimerHandle | undefined;
  #pingAt = Number.NaN;
  readonly #pings = new Map<CodecName, Buffer>();
  #drainSchedule: DrainSchedule | undefined;
  #drained: Promise<void> | undefined;
  #resolveDrained: (() => void) | undefined;
  #stopped: Promise<void> | undefined;
  #listenerClosed: Promise<void> | undefined;
  /** The fan-out workers (fanoutWorkers > 1), else undefined: sockets stay in this process. */
  #pool: FanoutPool | undefined;

  constructor(options: SyncServerOptions) {
    const o = resolveServerOptions(options);
    this.#o = o;
    this.#log = o.logger.child({ component: 'sync-server' });
    this.#metrics = o.metrics ?? noopServerMetrics;
    this.#codecs = Object.values(o.codecs).filter((c): c is Codec => c !== undefined);
    this.#maxConnections = o.maxConnections;
    this.#tickMs = Math.max(1, Math.min(1000, Math.floor(Math.min(o.pingIntervalMs, o.pongTimeoutMs, o.maxLagMs, o.upgradeTimeoutMs) / 4)));
    for (const syncer of Object.keys(o.caches) as SyncerType[]) {
      if (o.caches[syncer] !== undefined)
        this.#hubs.set(
          syncer,
          new FanOut<Connection>(syncer, this.#codecs, o.clock, this.#metrics, { chunk: o.fanoutChunk, sweepMinClients: o.fanoutSweepMinClients }),
        );
    }
    const metrics = this.#metrics;
    const replayMaxBytes = 4 * o.highWaterMarkBytes;
    this.#owner = {
      options: o,
      metrics,
      replayMaxBytes,
      fanOut: (syncer) => this.#hubs.get(syncer),
      pingFrame: (codec, now) => this.#pingFrame(codec, now),
      overloadHint: () => o.overloadHint?.(),
      behindHint: (revision) => o.behindHint?.(revision),
      connectionClosed: (conn) => this.#connectionClosed(conn),
    };
    this.#gate = new AcceptGate(o, metrics);
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      maxPayload: o.maxFrameBytes,
      clientTracking: false,
      handleProtocols: wssHandleProtocols,
    });
  }

  /** The bound port once started. */
  get port(): number | undefined {
    return this.#port;
  }

  /** Ms between the ticks that send pings and check deadlines (derived from the limits). */
  get tickMs(): number {
    return this.#tickMs;
  }

  /** The DeltaBatcher `publish` callback for `syncer`: the same function on every call. */
  publisher(syncer: SyncerType): PublishFn {
    const hub = this.#hubs.get(syncer);
    if (hub === undefined) throw new ServerOptionError(`syncer "${syncer}" has no cache on this server`);
    return hub.publish;
  }

  /** Opens the listener; resolves with the bound port. */
  async start(): Promise<number> {
    if (this.#state !== 'new') throw new ServerStateError(`start(): the server is ${this.#state}`);
    const o = this.#o;
    const tls = o.tls;
    const server = syncHttpServer(tls, o.handshakeTimeoutMs);
    if (o.fanoutWorkers > 1) {
      const pool = new FanoutPool(
        {
          count: o.fanoutWorkers,
          growAt: o.fanoutWorkersGrowAt,
          clock: o.clock,
          logger: this.#log,
          init: {
            codecs: this.#codecs.map((c) => c.name),
            ...(tls !== undefined ? { tls: { ...tls } } : {}),
            maxFrameBytes: o.maxFrameBytes,
            handshakeTimeoutMs: o.handshakeTimeoutMs,
            highWaterMarkBytes: o.highWaterMarkBytes,
            closeGraceMs: o.closeGraceMs,
          },
        },
        this.#poolOwner(),
      );
      this.#pool = pool;
      await pool.start();
    }
    (server as unknown as TaggedServer)[kServer] = this;
    server.on('upgrade', serverOnUpgrade);
    server.on('request', serverOnRequest);
    server.on('clientError', serverOnClientError);
    server.on('tlsClientError', serverOnTlsClientError);
    this.#http = server;
    if (this.#pool !== undefined) return this.#listenInWorkers(this.#pool);
    // noDelay as http.Server sets it on the sockets it accepts itself: frames go out at once.
    const listener = net.createServer({ noDelay: true });
    (listener as unknown as TaggedServer)[kServer] = this;
    listener.on('connection', listenerOnConnection);
    this.#listener = listener;
    try {
      // A connect storm of thousands of agents overflows Node's default backlog (511): SYNs are
      // dropped and retried seconds later. The kernel caps this at net.core.somaxconn.
      listener.listen(o.port, o.host, o.listenBacklog);
      await once(listener, 'listening');
    } catch (err) {
      this.#state = 'stopped';
      throw new ServerListenError(`cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`, { cause: err });
    }
    listener.on('error', serverOnError);
    this.#port = (listener.address() as AddressInfo).port;
    this.#listening();
    return this.#port;
  }

  /** Listening (in this process or in the fan-out workers): the tick starts, the log says so. */
  #listening(): void {
    const o = this.#o;
    const tls = o.tls;
    this.#state = 'listening';
    this.#tickTimer = o.clock.setTimeout(serverOnTick, this.#tickMs, this);
    const {
      caches,
      datastoreId,
      clock,
      wallClock,
      logger,
      metrics,
      codecs,
      frameWriter,
      overloadHint,
      behindHint,
      confirmRevision,
      tls: _t,
      host,
      port,
      serverId,
      ...limits
    } = o;
    this.#log.info(
      {
        host,
        port: this.#port,
        configuredPort: port,
        serverId,
        syncers: [...this.#hubs.keys()],
        codecs: this.#codecs.map((c) => c.name),
        tls: tls ? { clientCertRequired: tls.ca !== undefined, clientCN: tls.clientCN, clientURISAN: tls.clientURISAN } : false,
        writePath: frameWriter?.name ?? directWriter.name,
        tickMs: this.#tickMs,
        ...limits,
      },
      'typha sync server listening',
    );
  }

  /**
   * With fan-out workers: the listening socket is bound here without listening, and every
   * worker listens and accepts on it (fanout-pool.ts); this process never accepts.
   */
  async #listenInWorkers(pool: FanoutPool): Promise<number> {
    const o = this.#o;
    let bound: BoundSocket;
    try {
      const address = net.isIP(o.host) !== 0 ? o.host : (await lookup(o.host)).address;
      bound = bindTcp(address, o.port);
      this.#listenHandle = bound;
      await pool.listen(bound.handle, o.listenBacklog);
    } catch (err) {
      this.#state = 'stopped';
      this.#listenHandle?.handle.close();
      this.#listenHandle = undefined;
      await pool.stop();
      throw new ServerListenError(`cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`, { cause: err });
    }
    this.#port = bound.port;
    this.#listening();
    return this.#port;
  }

  /**
   * Hard stop: every client gets Goodbye(Shutdown) and its socket is cut; resolves once the
   * listener is closed. Use drain() first for a graceful hand-off.
   */
  stop(): Promise<void> {
    if (this.#stopped !== undefined) return this.#stopped;
    const wasListening = this.#state !== 'new';
    this.#state = 'stopped';
    this.#o.clock.clearTimeout(this.#tickTimer);
    this.#tickTimer = undefined;
    this.#drainSchedule?.cancel();
    for (const conn of this.#conns) {
      conn.goodbye(CloseCode.Shutdown, 'typha is stopping; reconnect to another replica', undefined, 'shutdown');
      conn.terminate();
    }
    const listener = this.#listener;
    this.#pool?.setAccepting(false);
    this.#stopAcceptingInWorkers();
    this.#stopped = (async () => {
      if (this.#pool !== undefined) this.#gate.destroyAll();
      if (listener !== undefined && wasListening) {
        const closed = this.#closeListener(listener);
        this.#gate.destroyAll();
        for (const socket of this.#lingering) socket.destroy();
        await closed;
      }
      await this.#pool?.stop();
      this.#wss.close();
      this.#resolveDrained?.();
      this.#log.info({}, 'typha sync server stopped');
    })();
    return this.#stopped;
  }

  /**
   * Graceful shutdown (SIGTERM): stop accepting, then close every client with
   * Goodbye(Shutdown, hint) spread evenly over `durationMs`; resolves when all are gone.
   */
  drain(opts: DrainOptions): Promise<void> {
    if (!Number.isSafeInteger(opts.durationMs) || opts.durationMs < 0) {
      throw new ServerOptionError(`drain durationMs: ${String(opts.durationMs)} is not a non-negative integer`);
    }
    if (this.#drained !== undefined) return this.#drained;
    if (this.#state !== 'listening') return Promise.resolve();
    this.#state = 'draining';
    this.#pool?.setAccepting(false);
    if (this.#listener !== undefined) void this.#closeListener(this.#listener);
    this.#stopAcceptingInWorkers();
    this.#drained = new Promise<void>((resolve) => (this.#resolveDrained = resolve));
    const targets = [...this.#conns].filter((c) => c.active);
    this.#log.info({ connections: targets.length, durationMs: opts.durationMs, hint: opts.hint }, 'draining: handing clients off');
    this.#drainSchedule = new DrainSchedule(targets, {
      durationMs: opts.durationMs,
      hint: opts.hint,
      code: CloseCode.Shutdown,
      reason: 'typha is shutting down; reconnect to another replica',
      drop: 'shutdown',
      clock: this.#o.clock,
    });
    this.#drainSchedule.start();
    if (this.#conns.size === 0) this.#resolveDrained?.();
    return this.#drained;
  }

  /**
   * Rebalancing: closes up to `n` clients with Goodbye(Rebalance, hint); returns how many.
   * Clients already past their initial sync go first (a client mid-snapshot would waste it),
   * most recently connected first among them.
   */
  shed(n: number, hint?: GoodbyeHint): number {
    if (!Number.isSafeInteger(n) || n < 0) throw new ServerOptionError(`shed: ${String(n)} is not a non-negative integer`);
    if (this.#state !== 'listening' || n === 0) return 0;
    const synced = (c: Connection): number => (c.state === 'live' || c.state === 'lagging' ? 0 : c.state === 'handshake' ? 2 : 1);
    const candidates = [...this.#conns].filter((c) => c.active).sort((a, b) => synced(a) - synced(b) || b.connectedAt - a.connectedAt || b.id - a.id);
    const chosen = candidates.slice(0, n);
    for (const c of chosen) c.goodbye(CloseCode.Rebalance, 'rebalancing load across typha replicas', hint, 'rebalance');
    if (chosen.length > 0) this.#log.info({ shed: chosen.length, asked: n, hint }, 'shed clients for rebalancing');
    return chosen.length;
  }

  /** The pids of the fan-out worker processes (none with fanoutWorkers = 1). */
  fanoutWorkerPids(): number[] {
    return this.#pool?.pids() ?? [];
  }

  /** Changes the connection limit (new connections only; shed() moves existing ones). */
  setMaxConnections(n: number): void {
    this.#maxConnections = checkLimit('maxConnections', n);
  }

  /** Counts per syncer and one line per client, for the status endpoint. */
  connections(): ServerStatus {
    const now = this.#o.clock.now();
    const syncers: Partial<Record<SyncerType, SyncerSummary>> = {};
    for (const [syncer, hub] of this.#hubs) {
      const cache = this.#o.caches[syncer];
      syncers[syncer] = {
        connections: 0,
        syncing: 0,
        live: 0,
        lagging: 0,
        cacheRevision: cache?.revision ?? 0,
        publishedRevision: hub.publishedRevision,
        ready: cache?.ready ?? false,
      };
    }
    let handshaking = 0;
    const clients = [];
    for (const c of this.#conns) {
      const s = c.summary(now);
      clients.push(s);
      if (s.state === 'handshake') handshaking++;
      const sum = s.syncer === null ? undefined : syncers[s.syncer];
      if (sum === undefined || !c.active) continue;
      sum.connections++;
      if (s.state === 'live') sum.live++;
      else if (s.state === 'lagging') sum.lagging++;
      else if (s.state === 'syncing' || s.state === 'waiting') sum.syncing++;
    }
    const gate = this.#gate;
    return {
      serverId: this.#o.serverId,
      state: this.#state,
      port: this.#port,
      maxConnections: this.#maxConnections,
      total: this.#conns.size,
      handshaking,
      tcp: { open: gate.open, pendingHandshakes: gate.pending, sources: gate.sources },
      refused: { ...this.#refused },
      syncers,
      clients,
      ...(this.#pool !== undefined ? { fanoutWorkers: this.#pool.status() } : {}),
    };
  }

  // ── internals, called by the module-level handlers ────────────────────────────────────────

  [kUpgrade](req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    admissionOf(socket)?.upgradeRequested();
    socket.on('error', socketOnErrorBeforeUpgrade);
    const tls = this.#o.tls;
    const verdict = upgradeVerdict(req, this.#state === 'listening', tls?.ca !== undefined ? tls : undefined, this.#codecs);
    if (!('codec' in verdict)) {
      if (verdict.identity === true) this.#log.warn({ remote: req.socket.remoteAddress, reason: verdict.body }, 'refused a client certificate');
      this[kReject](socket, verdict.status, verdict.body, verdict.reason, verdict.headers);
      return;
    }
    const codec = verdict.codec;
    const tagged = req as TaggedRequest;
    tagged[kServer] = this;
    tagged[kCodec] = codec;
    socket.removeListener('error', socketOnErrorBeforeUpgrade);
    try {
      this.#wss.handleUpgrade(req, socket, head, wssOnUpgraded);
    } catch (err) {
      this.#log.warn({ err }, 'WebSocket upgrade failed');
      socket.destroy();
    }
  }

  [kReject](socket: Duplex, status: number, body: string, reason: RejectReason, headers?: Record<string, string>): void {
    this.#countRefusal(reason);
    this.#log.debug({ status, reason: body }, 'refused an upgrade');
    refuseUpgrade(socket, status, body, headers);
  }

  /** A TCP connection arrived: admitted and handed to the http(s) server, or refused here. */
  [kConnect](socket: Socket): void {
    const source = sourceAddress(socket);
    if (source === undefined) {
      socket.destroy(); // already gone
      return;
    }
    const admitted = this.#gate.admit(socket, source, this.#o.clock.now());
    if (typeof admitted === 'string') {
      this.#refuseAtAccept(socket, source, admitted);
      return;
    }
    if (this.#o.tls === undefined) {
      (this.#http as http.Server).emit('connection', socket);
      return;
    }
    // TLS state only once the client speaks: a socket that never sends costs no OpenSSL
    // context, and none of the ~38 KB OpenSSL allocates when such a socket is reset (measured
    // on a bare tls.Server: 2000 silent sockets reset by their peers grew the C heap by 76 MB,
    // freed but fragmented, so glibc kept it). The bytes read here are handed back with
    // unshift(); the TLS layer reads what its socket has buffered when it wraps it.
    socket.on('error', socketOnErrorBeforeUpgrade);
    socket.once('data', socketOnFirstBytes);
  }

  /** A TLS client's first bytes arrived: now the TLS server takes the socket. */
  [kFirstBytes](socket: Socket, chunk: Buffer): void {
    socket.pause();
    socket.unshift(chunk);
    socket.removeListener('error', socketOnErrorBeforeUpgrade);
    if (socket.destroyed) return;
    (this.#http as http.Server).emit('connection', socket);
  }

  /** The HTTP stage failed: the request did not parse, or the peer went away. */
  [kClientError](err: NodeJS.ErrnoException, socket: Duplex): void {
    const code = err.code ?? '';
    // HPE_INVALID_EOF_STATE: the peer closed in the middle of its request (slowloris leaving).
    if (code.startsWith('HPE_') && code !== 'HPE_INVALID_EOF_STATE' && socket.writable) {
      this[kReject](
        socket,
        code === 'HPE_HEADER_OVERFLOW' ? 431 : 400,
        `not a valid HTTP request (${code}): connect with a WebSocket to ${SYNC_PATH}`,
        'bad-request',
      );
    } else {
      socket.destroy(); // ECONNRESET and the like: the peer is gone
    }
  }

  [kAccept](ws: WebSocket, req: TaggedRequest): void {
    const o = this.#o;
    const id = ++this.#nextId;
    const remote = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`;
    this.#metrics.connectionAccepted();
    const writer = o.frameWriter ?? (supportsDirectWrites(ws) ? directWriter : wsSendWriter);
    const conn = new Connection(this.#owner, ws, {
      id,
      remote,
      codec: req[kCodec],
      writer,
      logger: this.#log.child({ conn: id, remote }),
      connectedAtWall: o.wallClock(),
      admission: admissionOf(req.socket),
    });
    this.#admitConnection(conn);
  }

  /** Counts a new connection in, or says Goodbye at once (draining, over the limit). */
  #admitConnection(conn: Connection): void {
    const o = this.#o;
    this.#conns.add(conn);
    if (this.#state !== 'listening') {
      conn.goodbye(CloseCode.Shutdown, 'typha is shutting down; reconnect to another replica', undefined, 'shutdown');
    } else if (this.#conns.size > this.#maxConnections) {
      const reason = `typha is at its connection limit (${this.#maxConnections}); connect to another replica`;
      conn.goodbye(CloseCode.ServerOverloaded, reason, o.overloadHint?.(), 'overloaded');
    }
  }

  [kTick](): void {
    this.#tickTimer = undefined;
    if (this.#state !== 'listening' && this.#state !== 'draining') return;
    const now = this.#o.clock.now();
    if (this.#state === 'listening') this.#pool?.tick();
    for (const a of this.#gate.takeExpired(now)) this.#upgradeExpired(a.socket);
    for (const conn of this.#conns) {
      try {
        conn.tick(now);
      } catch (err) {
        this.#log.error({ err, conn: conn.id }, 'connection tick failed');
      }
    }
    this.#tickTimer = this.#o.clock.setTimeout(serverOnTick, this.#tickMs, this);
  }

  /**
   * Stops accepting; resolves once the listener and every socket it accepted are closed. HTTP
   * connections without a request in flight (silent ones included) are closed at once.
   */
  #closeListener(listener: net.Server): Promise<void> {
    if (this.#listenerClosed === undefined) {
      this.#listenerClosed = once(listener, 'close').then(() => undefined);
      listener.close();
      this.#gate.destroyUpgrading();
    }
    return this.#listenerClosed;
  }

  /** With fan-out workers: they close their listeners and so does this process its handle. */
  #stopAcceptingInWorkers(): void {
    const bound = this.#listenHandle;
    if (bound === undefined) return;
    this.#listenHandle = undefined;
    this.#pool?.unlisten();
    bound.handle.close();
    this.#gate.destroyUpgrading();
  }

  /** No complete upgrade request within upgradeTimeoutMs of accept (a silent socket, slowloris). */
  #upgradeExpired(gated: GateSocket): void {
    const body = `no complete WebSocket upgrade request within ${this.#o.upgradeTimeoutMs} ms of connecting (TYPHA_SERVERUPGRADETIMEOUTSECS)`;
    if (gated instanceof RemoteTcp) {
      // The worker refuses it unless its request arrived meanwhile, and reports the refusal.
      gated.remote.expireUpgrade(body);
      return;
    }
    this.#countRefusal('upgrade-timeout');
    const socket = gated as Socket;
    this.#log.debug({ remote: socket.remoteAddress, upgradeTimeoutMs: this.#o.upgradeTimeoutMs }, 'upgrade request overdue; closing');
    // Under TLS the bytes on this socket are TLS records: no plain-text answer there.
    if (this.#o.tls !== undefined) socket.destroy();
    else refuseUpgrade(socket, 408, body);
  }

  #refuseAtAccept(socket: Socket | RemoteSocket, source: string, why: AcceptRefusal): void {
    this.#countRefusal(why);
    const o = this.#o;
    const [status, body] =
      why === 'per-source'
        ? [
            429,
            `too many connections from ${source} (limit ${o.maxConnectionsPerSource}, TYPHA_MAXCONNECTIONSPERSOURCE); close some or connect to another replica`,
          ]
        : [
            503,
            `too many connections in their handshake (limit ${o.maxPendingHandshakes}, TYPHA_MAXPENDINGHANDSHAKES); retry shortly or connect to another replica`,
          ];
    this.#log.debug({ remote: source, status, reason: why }, 'refused a connection at accept');
    // Under TLS an HTTP answer would cost the handshake the limit is there to spare.
    const answer = o.tls === undefined;
    if (!(socket instanceof net.Socket)) {
      socket.refuse(answer ? status : 0, body); // the worker answers and lingers as below
      return;
    }
    if (!answer) {
      socket.destroy();
      return;
    }
    this.#lingering.add(socket);
    socket.once('close', socketOnLingerClose);
    refuseAccepted(socket, status, body, { 'Retry-After': '1' }, o.closeGraceMs, o.clock);
  }

  #poolOwner(): FanoutPoolOwner {
    return {
      accepted: (s, source) => {
        const admitted = this.#gate.admit(s.tcp, source, this.#o.clock.now());
        if (typeof admitted === 'string') this.#refuseAtAccept(s, source, admitted);
        else s.admit();
      },
      upgradeRequested: (s) => admissionOf(s.tcp)?.upgradeRequested(),
      refused: (_s, reason) => this.#countRefusal(reason),
      opened: (s, codec, remote) => this.#acceptRemote(s, codec, remote),
      workerLog: (level, msg, fields) => this.#log[level](fields, msg),
    };
  }

  /** A fan-out worker upgraded a connection: its Connection lives here, its socket there. */
  #acceptRemote(s: RemoteSocket, codecName: WireCodecName, remote: string): void {
    const o = this.#o;
    const id = ++this.#nextId;
    this.#metrics.connectionAccepted();
    const conn = new Connection(this.#owner, s as unknown as WebSocket, {
      id,
      remote,
      codec: this.#codecs.find((c) => c.name === codecName) ?? CODECS[codecName],
      writer: remoteWriter,
      logger: this.#log.child({ conn: id, remote, worker: s.link.index }),
      connectedAtWall: o.wallClock(),
      admission: admissionOf(s.tcp),
      worker: s,
    });
    s.connection = conn;
    this.#admitConnection(conn);
  }

  lingerEnded(socket: Socket): void {
    this.#lingering.delete(socket);
  }

  #countRefusal(reason: RejectReason): void {
    this.#metrics.connectionRejected(reason);
    this.#refused[reason] = (this.#refused[reason] ?? 0) + 1;
  }

  #pingFrame(codec: Codec, now: number): Buffer {
    if (now !== this.#pingAt) {
      this.#pingAt = now;
      this.#pings.clear();
    }
    let frame = this.#pings.get(codec.name);
    if (frame === undefined) {
      frame = codec.encode({ type: 'ping', ts: now });
      this.#pings.set(codec.name, frame);
    }
    return frame;
  }

  #connectionClosed(conn: Connection): void {
    this.#conns.delete(conn);
    if (this.#conns.size === 0 && this.#state === 'draining') this.#resolveDrained?.();
  }

  /** A plain HTTP request on the sync port: 426 with a body that says how to connect. */
  notUpgrade(res: http.ServerResponse): void {
    this.#countRefusal('not-upgrade');
    res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', Upgrade: 'websocket', Connection: 'close' });
    res.end(NOT_UPGRADE_BODY);
  }

  /** For module-level handlers: errors that are not about one connection. */
  logListenerError(err: Error): void {
    this.#log.error({ err }, 'sync server listener error');
  }

  tlsClientRefused(err: Error, socket: TLSSocket): void {
    this.#countRefusal('tls');
    this.#log.debug({ err, remote: socket.remoteAddress }, 'TLS handshake with a client failed');
  }
}

const NOT_UPGRADE_BODY = `this is the Typha sync endpoint: connect with a WebSocket to ${SYNC_PATH} offering subprotocol ${SUBPROTOCOL_MSGPACK} or ${SUBPROTOCOL_JSON}\n`;

function serverOf(s: object): SyncServer {
  return (s as TaggedServer)[kServer];
}

function listenerOnConnection(this: net.Server, socket: Socket): void {
  serverOf(this)[kConnect](socket);
}

function socketOnLingerClose(this: Socket): void {
  serverOf((this as Socket & { server: net.Server }).server).lingerEnded(this);
}

function socketOnFirstBytes(this: Socket, chunk: Buffer): void {
  serverOf((this as Socket & { server: net.Server }).server)[kFirstBytes](this, chunk);
}

function serverOnClientError(this: http.Server, err: Error, socket: Duplex): void {
  serverOf(this)[kClientError](err, socket);
}

function serverOnUpgrade(this: http.Server, req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
  serverOf(this)[kUpgrade](req, socket, head);
}

function serverOnRequest(this: http.Server, req: http.IncomingMessage, res: http.ServerResponse): void {
  admissionOf(req.socket)?.upgradeRequested();
  serverOf(this).notUpgrade(res);
}

function serverOnTlsClientError(this: https.Server, err: Error, socket: TLSSocket): void {
  serverOf(this).tlsClientRefused(err, socket);
}

function serverOnError(this: net.Server, err: Error): void {
  serverOf(this).logListenerError(err);
}

function serverOnTick(server: SyncServer): void {
  server[kTick]();
}

function wssOnUpgraded(ws: WebSocket, req: http.IncomingMessage): void {
  const tagged = req as TaggedRequest;
  tagged[kServer][kAccept](ws, tagged);
}

function wssHandleProtocols(_offered: Set<string>, req: http.IncomingMessage): string | false {
  return (req as TaggedRequest)[kCodec]?.subprotocol ?? false;
}

function socketOnErrorBeforeUpgrade(): void {
  // The peer went away before the upgrade finished; the socket is destroyed by Node.
}

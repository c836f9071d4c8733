/**
 * The sync server's configuration, validated once at construction and frozen: every numeric key
 * with its default and range beside it (the daemon maps `TYPHA_*` env vars onto these names,
 * Calico's where one exists).
 *
 * Memory per client is bounded by `highWaterMarkBytes` plus one frame (the fan-out skips a
 * client whose socket buffer is over the mark) plus one catch-up: references to encoded frames
 * the cache already holds, or the coalesced updates since the client's revision (references to
 * cached updates, bounded by the state size) encoded one page at a time. And the bound is on
 * bytes queued, not bytes owned: a socket's queue holds references to the shared Buffers (live
 * frames, snapshot pages, replayed frames), so thousands of clients behind on the same frames
 * hold one copy of them; only coalesced catch-up pages are per client.
 */
import type { SyncCache } from '../cache/sync-cache.js';
import type { Codec } from '../protocol/codec.js';
import { CODECS, type CodecName } from '../protocol/codecs.js';
import { SYNCER_TYPES, type SyncerType } from '../protocol/messages.js';
import { DEFAULT_PORT, MAX_CLIENT_FRAME_BYTES } from '../protocol/transport.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { realClock, realWallClock, type Clock, type WallClock } from '../common/clock.js';
import { ServerOptionError } from './errors.js';
import type { FrameWriter } from './frame-writer.js';
import { silentLogger, type Logger } from '../common/logger.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const SECOND = 1000;
const MINUTE = 60 * SECOND;

interface Limit {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

export const SERVER_LIMITS = Object.freeze({
  /** Pending TCP connections the kernel may queue (capped by net.core.somaxconn). */
  listenBacklog: { default: 4096, min: 1, max: 65535 },
  /** TYPHA_MAXCONNECTIONSUPPERLIMIT: past it, a new client gets Goodbye(ServerOverloaded). */
  maxConnections: { default: 10_000, min: 0, max: 1_000_000 },
  /**
   * TCP connections from one source address at once, pending and established (0: no limit);
   * past it the new one is refused at accept (HTTP 429; TLS: closed). Large because many
   * agents may reach Typha through one NAT: at Calico's density (a replica per ~200 nodes,
   * felix + confd per node) a whole cluster behind one address is ~400 per replica, so 1000
   * leaves 2.5× for rebalancing and restarts, while one misbehaving host holds at most a tenth
   * of the default maxConnections.
   */
  maxConnectionsPerSource: { default: 1000, min: 0, max: 1_000_000 },
  /**
   * Connections accepted but not yet past the protocol hello (TLS handshake, HTTP upgrade, or
   * WebSocket open without a hello), in total (0: no limit); past it a new connection is
   * refused at accept (HTTP 503; TLS: closed) before TLS or HTTP allocate anything for it.
   * Under TLS each one that completes its handshake leaves ~60 KB of native memory that glibc
   * keeps after it is freed (measured: ~580 attackers' handshakes left 36 MB, see
   * docs/BENCHMARKS.md), so the default bounds what an attack spread over many addresses
   * leaves to ~120 MB; lower it where memory is tight. A legitimate storm passes through in
   * milliseconds per handshake (the fan-out bench keeps ≤ 1500 upgrades in flight), and a
   * refused agent backs off and retries.
   */
  maxPendingHandshakes: { default: 2000, min: 0, max: 1_000_000 },
  /**
   * From accept to the complete HTTP upgrade request, the TLS handshake included (slowloris:
   * headers trickling in; a socket that never sends). Then HTTP 408 (TLS: closed). Checked on
   * the server's tick; Node's own `headersTimeout` (60 s, checked every 30 s) never runs here,
   * since the http.Server is handed its sockets (see sync-server.ts).
   */
  upgradeTimeoutMs: { default: 10 * SECOND, min: 1, max: 10 * MINUTE },
  /** From the WebSocket upgrade to the client's hello (Calico: 10 s); also the TLS handshake's bound. */
  handshakeTimeoutMs: { default: 10 * SECOND, min: 1, max: 10 * MINUTE },
  /** How often the server pings each client (Calico: 10 s). */
  pingIntervalMs: { default: 10 * SECOND, min: 1, max: 10 * MINUTE },
  /** Nothing (pong or any frame) from a client for this long closes it (Calico: 6 × ping). */
  pongTimeoutMs: { default: 60 * SECOND, min: 2, max: 60 * MINUTE },
  /** ws `maxPayload` for inbound frames: a client only sends a hello and pings. */
  maxFrameBytes: { default: MAX_CLIENT_FRAME_BYTES, min: 1 * KiB, max: 16 * MiB },
  /**
   * Per-client socket buffer above which live frames are skipped and the client is lagging.
   * At least 16 KiB (a net.Socket's own mark) so that a blocked socket always emits 'drain'.
   */
  highWaterMarkBytes: { default: 512 * KiB, min: 16 * KiB, max: 1024 * MiB },
  /** A client lagging this long is closed with TooSlow (Calico MaxFallBehind: 300 s); see `newClientGraceMs`. */
  maxLagMs: { default: 5 * MINUTE, min: 1, max: 24 * 60 * MINUTE },
  /**
   * Calico's NewClientFallBehindGracePeriod (300 s): a new client is not closed for lag while it
   * downloads its initial sync, nor for this long after its InSync, so a large snapshot to a slow
   * link cannot lead to connect, download, cut, reconnect. Its lag counts from the start of its
   * sync. 0: no grace after the InSync.
   */
  newClientGraceMs: { default: 5 * MINUTE, min: 0, max: 24 * 60 * MINUTE },
  /** A lagging client this many datastore revisions behind is closed with TooSlow (0: no limit). */
  maxLagRevisions: { default: 0, min: 0, max: Number.MAX_SAFE_INTEGER },
  /** How long a client waits for a cache that is not in sync yet before Goodbye(ServerOverloaded). */
  readyTimeoutMs: { default: 30 * SECOND, min: 0, max: 60 * MINUTE },
  /** How long a client ahead of this replica waits for it to catch up (then: Goodbye(ReplicaBehind)). */
  resumeWaitMs: { default: 5 * SECOND, min: 0, max: 10 * MINUTE },
  /** After our close frame, how long the client has to answer before the socket is cut. */
  closeGraceMs: { default: 2 * SECOND, min: 0, max: MINUTE },
  /**
   * Processes that hold the clients' sockets and write to them (TYPHA_FANOUTWORKERS; see
   * fanout-pool.ts). 1: none, the main process writes itself (the in-process path).
   */
  fanoutWorkers: { default: 1, min: 1, max: 256 },
  /**
   * With fanoutWorkers > 1: 0 starts them all at once; N > 0 starts one, and another (up to
   * fanoutWorkers) each time the workers hold N sockets each on average, so a replica pays a
   * process per N clients it actually serves, not per CPU it could use (TYPHA_FANOUTWORKERS=0,
   * the automatic number, sets 1,000; see fanout-pool.ts).
   */
  fanoutWorkersGrowAt: { default: 0, min: 0, max: 1_000_000 },
  /**
   * Live clients the fan-out's sweep writes to per event-loop turn before it yields
   * (TYPHA_SERVERFANOUTCHUNK; see fan-out.ts). Smaller: the watch, batching and pings wait less
   * behind the writes; larger: fewer turns per sweep.
   */
  fanoutChunk: { default: 512, min: 0, max: 1_000_000 },
  /**
   * The sweep yields between chunks only for a syncer with at least this many live clients
   * (TYPHA_SERVERFANOUTSWEEPMINCLIENTS); a smaller set is written whole inside publish, one
   * message per batch, as the loop per batch did: measured, splitting 1,000 clients into chunks
   * made the delta p99 worse, while 10,000 gained (docs/BENCHMARKS.md, *The continuous sweep*).
   */
  fanoutSweepMinClients: { default: 4096, min: 0, max: 1_000_000 },
} satisfies Record<string, Limit>);

export type ServerLimitName = keyof typeof SERVER_LIMITS;
export type ServerLimits = { readonly [K in ServerLimitName]: number };

export interface ServerTlsOptions {
  /** PEM CA bundle; when set, clients must present a certificate it signed. */
  ca?: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
  /** Accept a client whose certificate subject CN is this (Calico TYPHA_CLIENTCN). */
  clientCN?: string;
  /** Accept a client whose certificate carries this URI SAN (Calico TYPHA_CLIENTURISAN). */
  clientURISAN?: string;
}

/** Where a client told to go away should reconnect, and after how long. */
export interface GoodbyeHint {
  reconnect?: string;
  delayMs?: number;
}

export interface SyncServerOptions extends Partial<Record<ServerLimitName, number>> {
  /** The caches served, by syncer type; a hello for another syncer is refused with UnknownSyncer. */
  caches: Partial<Record<SyncerType, SyncCache>>;
  /** This replica's name, sent in the ServerHello. */
  serverId: string;
  /** Identity of the datastore the caches follow (etcd cluster id); a resume needs the same. */
  datastoreId: () => string;
  /** Address to listen on (default all interfaces). */
  host?: string;
  /** TCP port; 0 picks a free one (tests). Default 5473, Calico's. */
  port?: number;
  tls?: ServerTlsOptions;
  /** Codecs offered, by name (default both); a test may pass counting wrappers. */
  codecs?: Partial<Record<CodecName, Codec>>;
  /** How frames reach the socket (default: direct writes, see `frame-writer.ts`). */
  frameWriter?: FrameWriter;
  /** The hint sent to clients refused with ServerOverloaded (e.g. a less loaded replica). */
  overloadHint?: () => GoodbyeHint | undefined;
  /** The hint sent to a client this replica is behind: a peer at or past `revision`. */
  behindHint?: (revision: number) => GoodbyeHint | undefined;
  /** Asks the upstream watcher to confirm its revision against the datastore (a client is ahead of the cache). */
  confirmRevision?: (target: number) => void;
  /**
   * Accept `deflate-snapshot` from binary-codec clients: snapshot pages compressed once per
   * revision (~85% fewer bytes in a connect storm). Default true.
   */
  compressSnapshots?: boolean;
  /**
   * Accept `deflate-deltas` from binary-codec clients: delta batches compressed once with the
   * syncer's dictionary (`SyncCache.deltaCompression`; the batcher must make the variant, see
   * `SyncCache.deltaVariant`, or those clients simply get plain frames). Default true.
   */
  compressDeltas?: boolean;
  clock?: Clock;
  wallClock?: WallClock;
  logger?: Logger;
  metrics?: ServerMetrics;
}

export interface ResolvedServerOptions extends ServerLimits {
  readonly caches: Readonly<Partial<Record<SyncerType, SyncCache>>>;
  readonly serverId: string;
  readonly datastoreId: () => string;
  readonly host: string;
  readonly port: number;
  readonly tls: Readonly<ServerTlsOptions> | undefined;
  readonly codecs: Readonly<Partial<Record<CodecName, Codec>>>;
  readonly frameWriter: FrameWriter | undefined;
  readonly overloadHint: (() => GoodbyeHint | undefined) | undefined;
  readonly behindHint: ((revision: number) => GoodbyeHint | undefined) | undefined;
  readonly confirmRevision: ((target: number) => void) | undefined;
  readonly compressSnapshots: boolean;
  readonly compressDeltas: boolean;
  readonly clock: Clock;
  readonly wallClock: WallClock;
  readonly logger: Logger;
  readonly metrics: ServerMetrics | undefined;
}

/** Fills defaults and checks every key; throws {@link ServerOptionError} naming the bad one. */
export function resolveServerOptions(o: SyncServerOptions): ResolvedServerOptions {
  const limits = {} as Record<ServerLimitName, number>;
  for (const name of Object.keys(SERVER_LIMITS) as ServerLimitName[]) {
    const limit: Limit = SERVER_LIMITS[name];
    const v = o[name] ?? limit.default;
    if (!Number.isSafeInteger(v) || v < limit.min || v > limit.max) {
      throw new ServerOptionError(`server option ${name}: ${String(v)} is not an integer in ${limit.min}..${limit.max}`);
    }
    limits[name] = v;
  }
  if (limits.pongTimeoutMs <= limits.pingIntervalMs) {
    throw new ServerOptionError(
      `server option pongTimeoutMs: ${limits.pongTimeoutMs} must exceed pingIntervalMs (${limits.pingIntervalMs}), or every client times out between pings`,
    );
  }
  if (o.caches === null || typeof o.caches !== 'object') throw new ServerOptionError('server option caches: an object of SyncCache by syncer type is required');
  const served = Object.keys(o.caches).filter((k) => o.caches[k as SyncerType] !== undefined);
  if (served.length === 0) throw new ServerOptionError('server option caches: at least one syncer cache is required');
  for (const k of served) {
    if (!(SYNCER_TYPES as readonly string[]).includes(k)) {
      throw new ServerOptionError(`server option caches: unknown syncer type "${k}" (expected ${SYNCER_TYPES.join(', ')})`);
    }
  }
  if (typeof o.serverId !== 'string' || o.serverId === '') throw new ServerOptionError('server option serverId: a non-empty string is required');
  if (typeof o.datastoreId !== 'function') throw new ServerOptionError('server option datastoreId: a function returning the datastore id is required');
  const port = o.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ServerOptionError(`server option port: ${String(port)} is not an integer in 0..65535`);
  const codecs = o.codecs ?? CODECS;
  const codecNames = Object.keys(codecs).filter((k) => codecs[k as CodecName] !== undefined);
  if (codecNames.length === 0) throw new ServerOptionError('server option codecs: at least one codec is required');
  for (const k of codecNames) {
    const c = codecs[k as CodecName] as Codec;
    if (!(k in CODECS) || c.name !== k || c.subprotocol !== CODECS[k].subprotocol) {
      throw new ServerOptionError(`server option codecs: "${k}" must be a codec named "${k}" with subprotocol of the built-in one`);
    }
  }
  for (const k of ['compressSnapshots', 'compressDeltas'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') throw new ServerOptionError(`server option ${k}: ${String(o[k])} is not a boolean`);
  }
  if (o.frameWriter !== undefined && (o.fanoutWorkers ?? 1) > 1) {
    throw new ServerOptionError('server option frameWriter: only for the in-process write path; with fanoutWorkers > 1 the workers write');
  }
  const tls = o.tls;
  if (tls !== undefined) {
    if (!tls.cert || !tls.key) throw new ServerOptionError('server option tls: cert and key are both required');
    if ((tls.clientCN !== undefined || tls.clientURISAN !== undefined) && !tls.ca) {
      throw new ServerOptionError('server option tls: clientCN/clientURISAN need tls.ca to verify client certificates against');
    }
    if (tls.clientCN === '' || tls.clientURISAN === '') throw new ServerOptionError('server option tls: clientCN and clientURISAN must not be empty strings');
  }
  return Object.freeze({
    ...limits,
    caches: Object.freeze({ ...o.caches }),
    serverId: o.serverId,
    datastoreId: o.datastoreId,
    host: o.host ?? '0.0.0.0',
    port,
    tls: tls === undefined ? undefined : Object.freeze({ ...tls }),
    codecs: Object.freeze({ ...codecs }),
    frameWriter: o.frameWriter,
    overloadHint: o.overloadHint,
    behindHint: o.behindHint,
    confirmRevision: o.confirmRevision,
    compressSnapshots: o.compressSnapshots ?? true,
    compressDeltas: o.compressDeltas ?? true,
    clock: o.clock ?? realClock,
    wallClock: o.wallClock ?? realWallClock,
    logger: o.logger ?? silentLogger,
    metrics: o.metrics,
  });
}

/** Same check as for a start option, for limits changed at run time (`setMaxConnections`). */
export function checkLimit(name: ServerLimitName, v: number): number {
  const limit: Limit = SERVER_LIMITS[name];
  if (!Number.isSafeInteger(v) || v < limit.min || v > limit.max) {
    throw new ServerOptionError(`server option ${name}: ${String(v)} is not an integer in ${limit.min}..${limit.max}`);
  }
  return v;
}

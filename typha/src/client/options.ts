/**
 * SyncClient options, validated once by the constructor and frozen. Defaults sit beside each
 * key with the reason for the value.
 */
import type { ClientOptions } from 'ws';
import type { CodecName } from '../protocol/codecs.js';
import { isSyncerType, type SyncerType } from '../protocol/messages.js';
import { MAX_NODE_NAME_LENGTH } from '../protocol/transport.js';
import type { BackoffPolicy } from '@cattail/datastore/backoff';
import type { ClientCallbacks } from './callbacks.js';
import { realClock, type Clock } from '../common/clock.js';
import type { Discovery } from './endpoint.js';
import { ClientConfigError } from './errors.js';
import { silentLogger, type Logger } from '../common/logger.js';
import { wsTlsOptions, type TlsOptions } from './tls.js';

/**
 * Reconnect backoff. The attempt counter resets once a connection reaches in-sync, so a healthy
 * client that loses its replica reconnects at once (first entry 0) and only a flapping one slows
 * down; ±50% so 5,000 agents that lost the same Typha do not all come back at the same instant.
 */
export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({
  delaysMs: Object.freeze([0, 250, 500, 1000, 2000, 5000]),
  jitter: 0.5,
  maxMs: 7500,
});

export interface SyncClientOptions<S extends SyncerType = SyncerType> {
  syncer: S;
  /** This node's name: sent in the hello, and used to prefer a replica on the same node. */
  node: string;
  discovery: Discovery;
  callbacks: ClientCallbacks<S>;
  /** Wire format. Default 'msgpack'; 'json' for debugging. */
  codec?: CodecName;
  /**
   * Offer `deflate-deltas` (msgpack only): delta batches compressed once by Typha with a
   * dictionary it sends once per connection, about a third of the bytes. Default true.
   */
  deflateDeltas?: boolean;
  /** TLS (and refusal of plaintext ws:// endpoints). */
  tls?: TlsOptions;
  /** Connect + upgrade + ServerHello must complete within this. Default 10000. */
  handshakeTimeoutMs?: number;
  /** No frame at all (pings included) for this long → the connection is dead; reconnect. Default 30000, as Felix's TyphaReadTimeout. */
  readTimeoutMs?: number;
  /** Send a ping this often; must be below readTimeoutMs so an idle healthy link never times out. Default 10000. */
  pingIntervalMs?: number;
  /** Reconnect backoff. Default [0, 250, 500, 1000, 2000, 5000] ms ±50%, capped at 7.5 s. */
  backoff?: BackoffPolicy;
  /** Wait after a refusal that retrying will not fix (bad version, credentials, syncer). Default 60000 (±jitter). */
  fatalDelayMs?: number;
  /** Upper bound on a Goodbye's delayMs, so a confused server cannot park clients. Default 60000. */
  maxGoodbyeDelayMs?: number;
  /** Sent in the hello as `client`, for the server's logs and /status. */
  clientId?: string;
  clock?: Clock;
  /** [0, 1) like Math.random: endpoint shuffling and backoff jitter. */
  random?: () => number;
  logger?: Logger;
}

export interface ResolvedOptions<S extends SyncerType = SyncerType> {
  readonly syncer: S;
  readonly node: string;
  readonly discovery: Discovery;
  readonly callbacks: ClientCallbacks<S>;
  readonly codec: CodecName;
  readonly deflateDeltas: boolean;
  readonly secure: boolean;
  readonly wsOptions: Readonly<ClientOptions>;
  readonly handshakeTimeoutMs: number;
  readonly readTimeoutMs: number;
  readonly pingIntervalMs: number;
  readonly backoff: BackoffPolicy;
  readonly fatalDelayMs: number;
  readonly maxGoodbyeDelayMs: number;
  readonly clientId: string;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
}

export function resolveOptions<S extends SyncerType>(o: SyncClientOptions<S>): ResolvedOptions<S> {
  if (!isSyncerType(o.syncer)) {
    throw new ClientConfigError(`typha client: syncer "${String(o.syncer)}" is not one of felix, bgp, ipam, status`);
  }
  if (typeof o.node !== 'string' || o.node === '' || o.node.length > MAX_NODE_NAME_LENGTH) {
    throw new ClientConfigError(`typha client: node must be a non-empty name of at most ${MAX_NODE_NAME_LENGTH} characters`);
  }
  if (typeof o.discovery?.endpoints !== 'function') throw new ClientConfigError('typha client: discovery is required');
  if (typeof o.callbacks?.onStatus !== 'function' || typeof o.callbacks?.onUpdates !== 'function') {
    throw new ClientConfigError('typha client: callbacks must have onStatus and onUpdates');
  }
  const codec = o.codec ?? 'msgpack';
  if (codec !== 'msgpack' && codec !== 'json') throw new ClientConfigError(`typha client: codec "${String(codec)}" is not msgpack or json`);
  const readTimeoutMs = positive('readTimeoutMs', o.readTimeoutMs, 30_000);
  const pingIntervalMs = positive('pingIntervalMs', o.pingIntervalMs, 10_000);
  if (pingIntervalMs >= readTimeoutMs) {
    throw new ClientConfigError(`typha client: pingIntervalMs (${pingIntervalMs}) must be below readTimeoutMs (${readTimeoutMs})`);
  }
  const tls = o.tls;
  if (tls !== undefined && (tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ClientConfigError('typha client: tls.cert and tls.key go together; give both or neither');
  }
  return Object.freeze({
    syncer: o.syncer,
    node: o.node,
    discovery: o.discovery,
    callbacks: o.callbacks,
    codec,
    deflateDeltas: o.deflateDeltas ?? true,
    secure: tls !== undefined,
    wsOptions: Object.freeze(tls === undefined ? {} : wsTlsOptions(tls)),
    handshakeTimeoutMs: positive('handshakeTimeoutMs', o.handshakeTimeoutMs, 10_000),
    readTimeoutMs,
    pingIntervalMs,
    backoff: checkBackoff(o.backoff ?? DEFAULT_BACKOFF),
    fatalDelayMs: nonNegative('fatalDelayMs', o.fatalDelayMs, 60_000),
    maxGoodbyeDelayMs: nonNegative('maxGoodbyeDelayMs', o.maxGoodbyeDelayMs, 60_000),
    clientId: o.clientId ?? 'cattail-typha-client',
    clock: o.clock ?? realClock,
    random: o.random ?? Math.random,
    logger: o.logger ?? silentLogger,
  });
}

function checkBackoff(b: BackoffPolicy): BackoffPolicy {
  if (!Array.isArray(b.delaysMs) || b.delaysMs.length === 0 || !b.delaysMs.every((d) => Number.isFinite(d) && d >= 0)) {
    throw new ClientConfigError('typha client: backoff.delaysMs must be a non-empty list of delays >= 0');
  }
  if (!(b.jitter >= 0 && b.jitter <= 1)) throw new ClientConfigError(`typha client: backoff.jitter ${b.jitter} is outside 0..1`);
  if (b.maxMs !== undefined && !(b.maxMs >= 0)) throw new ClientConfigError('typha client: backoff.maxMs must be >= 0');
  return Object.freeze({ delaysMs: Object.freeze(b.delaysMs.slice()), jitter: b.jitter, ...(b.maxMs !== undefined ? { maxMs: b.maxMs } : {}) });
}

function positive(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) throw new ClientConfigError(`typha client: ${name} must be a positive number of ms, got ${v}`);
  return v;
}

function nonNegative(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v < 0) throw new ClientConfigError(`typha client: ${name} must be >= 0 ms, got ${v}`);
  return v;
}

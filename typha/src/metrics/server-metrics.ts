/**
 * What the sync server reports, as a small interface it declares and calls: the Prometheus
 * implementation is `prom-server-metrics.ts`, a test passes a recorder, and without one the
 * server reports to `noopServerMetrics`.
 *
 * Calls are per connection event or per published batch, never per client per batch: with
 * 10,000 clients a per-client observation on every batch would cost more than the fan-out
 * itself. So the batch-level figures (`batchPublished`) describe the one message that went to
 * every client, and per-client figures are taken on the rare paths (snapshot, catch-up, pong).
 */
import type { SyncerType } from '../protocol/messages.js';

/** Why the server closed a client (label `reason` of typha_connections_dropped). */
export type DropReason =
  'handshake-timeout' | 'protocol-error' | 'ping-timeout' | 'too-slow' | 'rebalance' | 'shutdown' | 'overloaded' | 'not-ready' | 'behind' | 'internal-error';

/**
 * Why a connection was refused before it became a WebSocket connection
 * (typha_connections_rejected). At accept, before TLS or HTTP allocate anything: `per-source`
 * (TYPHA_MAXCONNECTIONSPERSOURCE) and `pending-handshakes` (TYPHA_MAXPENDINGHANDSHAKES). On the
 * upgrade request: `upgrade-timeout` (not complete within TYPHA_SERVERUPGRADETIMEOUTSECS),
 * `bad-request` (not parseable as HTTP), and the gate's own refusals (see upgrade.ts).
 */
export type RejectReason =
  'per-source' | 'pending-handshakes' | 'upgrade-timeout' | 'bad-request' | 'not-found' | 'subprotocol' | 'unauthorized' | 'draining' | 'not-upgrade' | 'tls';

export interface ServerMetrics {
  /** A WebSocket upgrade completed (it may still be refused as over the limit). */
  connectionAccepted(): void;
  /** An accepted connection ended, for whatever reason. */
  connectionClosed(): void;
  connectionRejected(reason: RejectReason): void;
  connectionDropped(reason: DropReason): void;
  /** +1 when a TCP connection is admitted, -1 when it sends its hello or closes before it. */
  pendingHandshakes(delta: 1 | -1): void;
  /** +1 when a ServerHello is sent, -1 when that connection ends. */
  streaming(syncer: SyncerType, delta: 1 | -1): void;
  /** +1 when a streaming client falls behind the live stream, -1 when it is back or gone. */
  lagging(syncer: SyncerType, delta: 1 | -1): void;
  /** A client's initial sync began, by snapshot or by resume. */
  syncStarted(syncer: SyncerType, mode: 'snapshot' | 'resume'): void;
  /** From the ServerHello to the InSync written, for one client. */
  initialSyncSent(syncer: SyncerType, mode: 'snapshot' | 'resume', seconds: number): void;
  /** One batch went to `clients` live clients in `seconds` (the last client's wait). */
  batchPublished(syncer: SyncerType, updates: number, clients: number, seconds: number): void;
  /** A message encoded for one client alone (a coalesced catch-up page). */
  messageEncoded(syncer: SyncerType, updates: number): void;
  /** Time to work out a lagging client's catch-up (replay frames or coalesce changes). */
  catchUpPlanned(syncer: SyncerType, seconds: number): void;
  /** A lagging client is live again after `seconds` behind. */
  caughtUp(syncer: SyncerType, seconds: number): void;
  pingLatency(syncer: SyncerType, seconds: number): void;
  /**
   * A new client was behind the live stream by more than the lag limit while its grace period
   * (TYPHA_SERVERNEWCLIENTFALLBEHINDGRACEPERIOD) still excused it: once per connection.
   */
  graceUsed(syncer: SyncerType): void;
  /**
   * How long one write call to one client's socket took. Every write of a message to one client
   * (snapshot pages, catch-up) is timed; fan-out writes are sampled (one in
   * `WRITE_LATENCY_SAMPLE_EVERY`), since timing each of 10,000 writes per batch would cost more
   * than the writes.
   */
  writeLatency(syncer: SyncerType, seconds: number): void;
}

/** One fan-out write in this many is timed for `writeLatency`. */
export const WRITE_LATENCY_SAMPLE_EVERY = 64;

function noop(): void {}

export const noopServerMetrics: ServerMetrics = Object.freeze({
  connectionAccepted: noop,
  connectionClosed: noop,
  connectionRejected: noop,
  connectionDropped: noop,
  pendingHandshakes: noop,
  streaming: noop,
  lagging: noop,
  syncStarted: noop,
  initialSyncSent: noop,
  batchPublished: noop,
  messageEncoded: noop,
  catchUpPlanned: noop,
  caughtUp: noop,
  pingLatency: noop,
  graceUsed: noop,
  writeLatency: noop,
});

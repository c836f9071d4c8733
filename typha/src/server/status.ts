/**
 * The shape of `SyncServer.connections()`, served as JSON on the status endpoint: counts per
 * syncer and one line per client, enough to find a slow or stuck agent by node name.
 */
import type { CodecName } from '../protocol/codecs.js';
import type { RejectReason } from '../metrics/server-metrics.js';
import type { SyncerType } from '../protocol/messages.js';
import type { FanoutWorkerStatus } from './fanout-pool.js';

export type ConnectionState = 'handshake' | 'waiting' | 'syncing' | 'live' | 'lagging' | 'closing' | 'closed';

export interface ClientSummary {
  id: number;
  /** Node name from the hello ('' before it). */
  node: string;
  syncer: SyncerType | null;
  /** The client's own build/version string, if it sent one. */
  client: string | null;
  codec: CodecName;
  /** `address:port` of the peer. */
  remote: string;
  state: ConnectionState;
  /** How the initial sync went (null before the ServerHello). */
  mode: 'snapshot' | 'resume' | null;
  /** The revision the client has been sent everything up to. */
  revision: number;
  /** How far behind the live stream, in ms (0 when live). */
  lagMs: number;
  /** Bytes queued in its socket. */
  bufferedBytes: number;
  /** ISO 8601 wall-clock time of the upgrade. */
  connectedAt: string;
}

export interface SyncerSummary {
  /** Connections that named this syncer in their hello (closing ones excluded). */
  connections: number;
  syncing: number;
  live: number;
  lagging: number;
  /** The cache's revision and the revision of the last batch published to clients. */
  cacheRevision: number;
  publishedRevision: number;
  ready: boolean;
}

/** Connections refused before they became WebSocket connections, by reason, since start. */
export type RefusalCounts = Partial<Record<RejectReason, number>>;

export interface ServerStatus {
  serverId: string;
  state: 'new' | 'listening' | 'draining' | 'stopped';
  port: number | undefined;
  maxConnections: number;
  /** Every open connection, handshakes and closing ones included. */
  total: number;
  /** Still waiting for their hello. */
  handshaking: number;
  /**
   * TCP connections the accept gate counts: open (from accept to close, refused ones
   * excluded), pending (before their hello: TLS, HTTP upgrade or WebSocket without hello), and
   * the distinct source addresses they come from.
   */
  tcp: { open: number; pendingHandshakes: number; sources: number };
  refused: RefusalCounts;
  /** With TYPHA_FANOUTWORKERS > 1: the worker processes holding the sockets (counts above cover them all). */
  fanoutWorkers?: FanoutWorkerStatus[];
  syncers: Partial<Record<SyncerType, SyncerSummary>>;
  clients: ClientSummary[];
}

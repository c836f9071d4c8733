/**
 * Messages between the benchmark parent and its swarm workers (child_process.fork, 'advanced'
 * serialization so typed arrays cross as typed arrays). Commands carry a `seq`; the worker
 * answers each with one `reply` of the same `seq`. `progress` is unsolicited, four times a second.
 */
import type { SyncerType } from '@cattail/typha/protocol';
import type { HistogramData } from './histogram.js';

export interface WorkerConfig {
  workerId: number;
  /** ws://127.0.0.1:PORT (no path). */
  url: string;
  syncer: SyncerType;
  /** Node names of this worker's LiteClients. */
  nodes: string[];
  /** Node names of this worker's real SyncClients. */
  syncNodes: string[];
  /** Connects in flight (TCP + upgrade) per worker during the storm. */
  maxPendingConnects: number;
  /** Client-side loopback addresses to bind, round-robin; empty: let the kernel choose. */
  localAddresses: string[];
  /** LiteClients offer `deflate-snapshot` (and the worker's frame cache unwraps Compressed frames). */
  deflateSnapshot: boolean;
  /** LiteClients offer `deflate-deltas`: all, none, or the even-numbered ones (by index in the whole swarm's order within the worker). */
  deltas: 'deflate' | 'plain' | 'mixed';
  handshakeTimeoutMs: number;
}

export type Phase = 'idle' | 'churn' | 'resume';

export type Command =
  | { type: 'init'; config: WorkerConfig }
  | { type: 'storm'; t0: number }
  | { type: 'phase'; phase: Phase }
  | { type: 'disconnect'; count: number }
  | { type: 'reconnect'; timeoutMs: number }
  | { type: 'floor-connect'; url: string; timeoutMs: number }
  | { type: 'floor-close' }
  | { type: 'wait-revision'; revision: number; timeoutMs: number }
  | { type: 'digest' }
  | { type: 'report' }
  | { type: 'shutdown' };

export type CommandType = Command['type'];

export interface Progress {
  type: 'progress';
  workerId: number;
  clients: number;
  opened: number;
  inSync: number;
  live: number;
  unexpectedCloses: number;
  pendingConnects: number;
  maxInSyncMs: number;
}

export interface BatchReceipt {
  revision: number;
  first: number;
  last: number;
  clients: number;
  /** Earliest churn stamp in the batch (monotonic ms). */
  minStamp: number;
  updates: number;
  bytes: number;
}

export interface FloorRound {
  round: number;
  first: number;
  last: number;
  clients: number;
  bytes: number;
}

export interface ResumeResult {
  node: string;
  mode: 'snapshot' | 'resume' | undefined;
  snapshotBytes: number;
  resumeBytes: number;
  ms: number;
  ok: boolean;
}

export interface DigestReport {
  /** digest → number of clients holding it (LiteClients and SyncClients together). */
  digests: Record<string, number>;
  syncClientDigests: Record<string, number>;
  minRevision: number;
  maxRevision: number;
  live: number;
  clients: number;
}

export interface WorkerReport {
  workerId: number;
  clients: number;
  syncClients: number;
  /** Per LiteClient then SyncClient: first in-sync − storm start (ms); NaN if never. */
  inSyncMs: Float64Array;
  /** The five clients that reached in-sync last (or never): node, kind, ms, connect attempts. */
  slowest: Array<{ node: string; kind: 'lite' | 'sync'; ms: number; attempts: number }>;
  latency: Record<Phase, HistogramData>;
  batches: BatchReceipt[];
  floor: FloorRound[];
  stampsReceived: { min: number; max: number; sum: number };
  /** Live churn-stamped updates received during the 'churn' phase, per LiteClient. */
  churnReceipts: { min: number; sum: number };
  /** Wire bytes (payload + frame header) of the Deltas frames LiteClients received during the churn phase, by whether they offered deflate-deltas. */
  churnDeltaBytes: { deflate: number; plain: number; deflateClients: number; plainClients: number };
  bytes: { total: number; snapshotMin: number; snapshotMax: number; snapshotSum: number };
  unexpectedCloses: number;
  closeReasons: Record<string, number>;
  frames: { decoded: number; streamHits: number; hits: number; uncached: number; cachedBytes: number };
  cpuUserMs: number;
  cpuSystemMs: number;
  rssMB: number;
  heapUsedMB: number;
}

export type Reply = { type: 'reply'; seq: number; ok: true; body: unknown } | { type: 'reply'; seq: number; ok: false; error: string };

export type WorkerMessage = Progress | Reply | { type: 'ready'; workerId: number } | { type: 'fatal'; error: string };

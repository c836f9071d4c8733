/**
 * The server's metrics in Prometheus, on a Registry the daemon passes in. Names are Calico
 * Typha's where the meaning is the same (checked against projectcalico/calico
 * typha/pkg/syncserver/sync_server.go, typha/pkg/snapcache/cache.go and Calico's
 * "Prometheus statistics" reference), so dashboards and alerts carry over:
 *
 * | name                              | type      | labels       | meaning here (Calico difference)                  |
 * |-----------------------------------|-----------|--------------|---------------------------------------------------|
 * | typha_connections_accepted        | counter   |              | WebSocket upgrades completed (Calico: TCP accepts) |
 * | typha_connections_active          | gauge     |              | open connections, handshakes included (same)      |
 * | typha_connections_streaming       | gauge     | syncer       | past the handshake, ServerHello sent (same)       |
 * | typha_connections_dropped         | counter   | reason       | closed by the server; Calico counts rebalancing   |
 * |                                   |           |              | only, which is {reason="rebalance"}               |
 * | typha_client_snapshot_send_secs   | histogram | syncer       | ServerHello to InSync of a snapshot (Calico: summary) |
 * | typha_client_write_latency_secs   | histogram | syncer       | one write call to one client's socket: every       |
 * |                                   |           |              | snapshot page and catch-up frame, one fan-out write|
 * |                                   |           |              | in 64 (Calico: summary, every write; ours never    |
 * |                                   |           |              | block, so this is the copy into the socket)        |
 * | typha_connections_grace_used      | counter   | syncer       | new clients past the lag limit that the grace      |
 * |                                   |           |              | period excused, once per connection (same)         |
 * | typha_snapshot_raw_bytes          | gauge     | syncer       | size of the last complete msgpack snapshot (same:  |
 * |                                   |           |              | Calico's binary snapshot before compression)       |
 * | typha_snapshot_compressed_bytes   | gauge     | syncer       | its pages after DEFLATE, once all were compressed  |
 * |                                   |           |              | for deflate-snapshot clients (Calico: snappy)      |
 * | typha_client_latency_secs         | histogram | syncer       | how far behind clients are: per batch, the wait of |
 * |                                   |           |              | the last live client; per catch-up, the time the   |
 * |                                   |           |              | client lagged (Calico: summary, per client per msg)|
 * | typha_next_breadcrumb_latency_secs| histogram | syncer       | time to plan a lagging client's catch-up (Calico: |
 * |                                   |           |              | time to get the next breadcrumb when behind)       |
 * | typha_ping_latency                | histogram | syncer       | ping round trip (Calico: summary)                 |
 * | typha_kvs_per_msg                 | histogram | syncer       | updates per message ENCODED: each batch once, each |
 * |                                   |           |              | coalesced catch-up page (Calico: per message sent) |
 * | typha_breadcrumb_size             | histogram | syncer       | updates per published batch (Calico: unlabelled)   |
 * | typha_updates_total               | counter   | syncer       | updates into dedupe, via countUpdates() (Calico:   |
 * |                                   |           |              | unlabelled; sum over syncers to compare)           |
 * | typha_updates_skipped             | counter   | syncer       | dropped by dedupe as no change (same, labelled)    |
 * | typha_cache_size                  | gauge     | syncer       | keys in the syncer's cache (same)                 |
 * | typha_snapshots_generated         | counter   | syncer       | snapshots built (Calico: binary snapshots)        |
 * | typha_snapshots_reused            | counter   | syncer       | joins served an existing snapshot + tail (same)   |
 *
 * Ours, without a Calico counterpart: typha_snapshot_bytes_encoded{syncer} and
 * typha_snapshot_bytes_compressed{syncer} (snapshot page bytes encoded once, and their DEFLATE
 * versions for `deflate-snapshot` clients), typha_connections_rejected{reason} (connections
 * refused before they became WebSocket connections: at accept over the per-source or
 * pending-handshake limit, or on the upgrade request; see `RejectReason`),
 * typha_connections_pending (accepted, hello not yet received: the TLS handshake, the HTTP
 * upgrade, or a WebSocket waiting for its hello), typha_connections_lagging{syncer}, typha_connections_synced{syncer,mode}
 * (initial syncs by snapshot or resume: Calico always sends a snapshot) and
 * typha_client_resume_send_secs{syncer}.
 *
 * Histograms rather than Calico's summaries: they aggregate across replicas. Queries on
 * `_sum` and `_count` work on both; quantile series do not exist here.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { SyncerType } from '../protocol/messages.js';
import type { SyncCallbacks, SyncStatus } from '../pipeline/sync-callbacks.js';
import type { DropReason, RejectReason, ServerMetrics } from './server-metrics.js';

/** Seconds: 0.5 ms … 5 min. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
/** Snapshot sends take longer. */
const SEND_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** A write call copies into the socket: microseconds, or more under memory pressure. */
const WRITE_BUCKETS = [0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.1, 1];
const SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** What is read at scrape time for one syncer (SyncCache and DedupeStage fit). */
export interface SyncerSources {
  cache?: {
    stats(): {
      keys: number;
      snapshotsGenerated: number;
      snapshotsReused: number;
      snapshotBytesEncoded: number;
      snapshotBytesCompressed: number;
      lastSnapshotRawBytes: number;
      lastSnapshotCompressedBytes: number;
    };
  };
  dedupe?: { stats(): { skipped: number } };
}

export interface PromServerMetricsOptions {
  registry: Registry;
  syncers?: Partial<Record<SyncerType, SyncerSources>>;
}

type Observer = { observe(v: number): void };

export class PromServerMetrics implements ServerMetrics {
  readonly #sources = new Map<SyncerType, SyncerSources>();
  readonly #accepted: Counter;
  readonly #active: Gauge;
  readonly #pending: Gauge;
  readonly #streaming: Gauge<'syncer'>;
  readonly #lagging: Gauge<'syncer'>;
  readonly #dropped: Counter<'reason'>;
  readonly #rejected: Counter<'reason'>;
  readonly #synced: Counter<'syncer' | 'mode'>;
  readonly #updates: Counter<'syncer'>;
  readonly #snapshotSend: Histogram<'syncer'>;
  readonly #resumeSend: Histogram<'syncer'>;
  readonly #clientLatency: Histogram<'syncer'>;
  readonly #nextLatency: Histogram<'syncer'>;
  readonly #pingLatency: Histogram<'syncer'>;
  readonly #kvsPerMsg: Histogram<'syncer'>;
  readonly #breadcrumbSize: Histogram<'syncer'>;
  readonly #writeLatency: Histogram<'syncer'>;
  readonly #graceUsed: Counter<'syncer'>;
  /** Label children, made once per syncer: `observe({syncer}, v)` would hash labels every call. */
  readonly #children = new Map<Histogram<'syncer'>, Map<SyncerType, Observer>>();

  constructor(opts: PromServerMetricsOptions) {
    const registers = [opts.registry];
    const sources = this.#sources;
    for (const [syncer, s] of Object.entries(opts.syncers ?? {})) if (s) sources.set(syncer as SyncerType, s);

    this.#accepted = new Counter({ name: 'typha_connections_accepted', help: 'Total number of connections accepted over time.', registers });
    this.#active = new Gauge({
      name: 'typha_connections_active',
      help: 'Number of open client connections, including connections that are still in the handshake.',
      registers,
    });
    this.#pending = new Gauge({
      name: 'typha_connections_pending',
      help: 'Number of connections accepted that have not sent their hello yet (TLS handshake, HTTP upgrade, or waiting for the hello).',
      registers,
    });
    this.#streaming = new Gauge({
      name: 'typha_connections_streaming',
      help: 'Number of client connections that completed the handshake and are streaming data.',
      labelNames: ['syncer'],
      registers,
    });
    this.#lagging = new Gauge({
      name: 'typha_connections_lagging',
      help: 'Number of streaming clients behind the live stream (being caught up).',
      labelNames: ['syncer'],
      registers,
    });
    this.#dropped = new Counter({
      name: 'typha_connections_dropped',
      help: 'Total number of connections closed by the server, by reason (rebalance = Calico’s meaning).',
      labelNames: ['reason'],
      registers,
    });
    this.#rejected = new Counter({
      name: 'typha_connections_rejected',
      help: 'Total number of connections refused before they became WebSocket connections (at accept or on the upgrade request), by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.#synced = new Counter({
      name: 'typha_connections_synced',
      help: 'Total number of client initial syncs started, by mode (snapshot or resume).',
      labelNames: ['syncer', 'mode'],
      registers,
    });
    this.#updates = new Counter({
      name: 'typha_updates_total',
      help: 'Total number of updates received from the Syncer.',
      labelNames: ['syncer'],
      registers,
    });
    const hist = (name: string, help: string, buckets: number[]): Histogram<'syncer'> =>
      new Histogram({ name, help, buckets, labelNames: ['syncer'], registers });
    this.#snapshotSend = hist('typha_client_snapshot_send_secs', 'How long it took to send the initial snapshot to each client.', SEND_BUCKETS);
    this.#resumeSend = hist('typha_client_resume_send_secs', 'How long it took to send the changes since its revision to each resuming client.', SEND_BUCKETS);
    this.#clientLatency = hist('typha_client_latency_secs', 'Per-client latency.  I.e. how far behind the current state is each client.', LATENCY_BUCKETS);
    this.#nextLatency = hist('typha_next_breadcrumb_latency_secs', 'Time to work out the catch-up of a client that is behind.', LATENCY_BUCKETS);
    this.#pingLatency = hist('typha_ping_latency', 'Round-trip ping latency to client.', LATENCY_BUCKETS);
    this.#kvsPerMsg = hist('typha_kvs_per_msg', 'Number of KV pairs in each message encoded.', SIZE_BUCKETS);
    this.#breadcrumbSize = hist('typha_breadcrumb_size', 'Number of KVs in each published batch.', SIZE_BUCKETS);
    this.#writeLatency = hist(
      'typha_client_write_latency_secs',
      'Per-client write.  How long each write call is taking (fan-out writes sampled one in 64).',
      WRITE_BUCKETS,
    );
    this.#graceUsed = new Counter({
      name: 'typha_connections_grace_used',
      help: 'Total number of connections that made use of the grace period to catch up after sending the initial snapshot.',
      labelNames: ['syncer'],
      registers,
    });
    const lastSnapshot = (name: string, help: string, read: (s: NonNullable<SyncerSources['cache']>) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['syncer'],
        registers,
        collect(this: Gauge<'syncer'>) {
          for (const [syncer, s] of sources) if (s.cache) this.set({ syncer }, read(s.cache));
        },
      });
    };
    lastSnapshot(
      'typha_snapshot_raw_bytes',
      'Size of the most recently generated binary snapshot (before compression).',
      (c) => c.stats().lastSnapshotRawBytes,
    );
    lastSnapshot(
      'typha_snapshot_compressed_bytes',
      'Size of the most recently generated binary snapshot (after compression).',
      (c) => c.stats().lastSnapshotCompressedBytes,
    );

    new Gauge({
      name: 'typha_cache_size',
      help: 'Number of keys in the syncer cache.',
      labelNames: ['syncer'],
      registers,
      collect(this: Gauge<'syncer'>) {
        for (const [syncer, s] of sources) if (s.cache) this.set({ syncer }, s.cache.stats().keys);
      },
    });
    const sourced = (name: string, help: string, read: (s: SyncerSources) => number | undefined): void => {
      new Counter({
        name,
        help,
        labelNames: ['syncer'],
        registers,
        collect(this: Counter<'syncer'>) {
          this.reset();
          for (const [syncer, s] of sources) {
            const v = read(s);
            if (v !== undefined) this.inc({ syncer }, v);
          }
        },
      });
    };
    sourced('typha_updates_skipped', 'Total number of updates skipped as duplicates.', (s) => s.dedupe?.stats().skipped);
    sourced('typha_snapshots_generated', 'Number of snapshots generated.', (s) => s.cache?.stats().snapshotsGenerated);
    sourced('typha_snapshots_reused', 'Number of snapshots that were cached and reused.', (s) => s.cache?.stats().snapshotsReused);
    sourced(
      'typha_snapshot_bytes_encoded',
      'Bytes of snapshot pages encoded (once per page, revision and codec).',
      (s) => s.cache?.stats().snapshotBytesEncoded,
    );
    sourced(
      'typha_snapshot_bytes_compressed',
      'Bytes of snapshot pages after DEFLATE (once per page and revision), for deflate-snapshot clients.',
      (s) => s.cache?.stats().snapshotBytesCompressed,
    );
  }

  /** Adds (or replaces) what is read at scrape time for `syncer`. */
  watch(syncer: SyncerType, sources: SyncerSources): void {
    this.#sources.set(syncer, sources);
  }

  /**
   * Wraps a pipeline stage so every update entering it counts in typha_updates_total{syncer}:
   * wrap the dedupe stage to count what Calico counts (updates received, duplicates included).
   */
  countUpdates<U>(syncer: SyncerType, next: SyncCallbacks<U>): SyncCallbacks<U> {
    const counter = this.#updates.labels({ syncer });
    return {
      onStatus(status: SyncStatus, revision: number): void {
        next.onStatus(status, revision);
      },
      onUpdates(updates: U[], revision: number): void {
        if (updates.length > 0) counter.inc(updates.length);
        next.onUpdates(updates, revision);
      },
    };
  }

  connectionAccepted(): void {
    this.#accepted.inc();
    this.#active.inc();
  }

  connectionClosed(): void {
    this.#active.dec();
  }

  connectionRejected(reason: RejectReason): void {
    this.#rejected.inc({ reason });
  }

  connectionDropped(reason: DropReason): void {
    this.#dropped.inc({ reason });
  }

  pendingHandshakes(delta: 1 | -1): void {
    this.#pending.inc(delta);
  }

  streaming(syncer: SyncerType, delta: 1 | -1): void {
    this.#streaming.inc({ syncer }, delta);
  }

  lagging(syncer: SyncerType, delta: 1 | -1): void {
    this.#lagging.inc({ syncer }, delta);
  }

  syncStarted(syncer: SyncerType, mode: 'snapshot' | 'resume'): void {
    this.#synced.inc({ syncer, mode });
  }

  initialSyncSent(syncer: SyncerType, mode: 'snapshot' | 'resume', seconds: number): void {
    this.#child(mode === 'snapshot' ? this.#snapshotSend : this.#resumeSend, syncer).observe(seconds);
  }

  batchPublished(syncer: SyncerType, updates: number, clients: number, seconds: number): void {
    this.#child(this.#breadcrumbSize, syncer).observe(updates);
    this.#child(this.#kvsPerMsg, syncer).observe(updates);
    if (clients > 0) this.#child(this.#clientLatency, syncer).observe(seconds);
  }

  messageEncoded(syncer: SyncerType, updates: number): void {
    this.#child(this.#kvsPerMsg, syncer).observe(updates);
  }

  catchUpPlanned(syncer: SyncerType, seconds: number): void {
    this.#child(this.#nextLatency, syncer).observe(seconds);
  }

  caughtUp(syncer: SyncerType, seconds: number): void {
    this.#child(this.#clientLatency, syncer).observe(seconds);
  }

  pingLatency(syncer: SyncerType, seconds: number): void {
    this.#child(this.#pingLatency, syncer).observe(seconds);
  }

  graceUsed(syncer: SyncerType): void {
    this.#graceUsed.inc({ syncer });
  }

  writeLatency(syncer: SyncerType, seconds: number): void {
    this.#child(this.#writeLatency, syncer).observe(seconds);
  }

  #child(h: Histogram<'syncer'>, syncer: SyncerType): Observer {
    let bySyncer = this.#children.get(h);
    if (bySyncer === undefined) this.#children.set(h, (bySyncer = new Map<SyncerType, Observer>()));
    let child = bySyncer.get(syncer);
    if (child === undefined) bySyncer.set(syncer, (child = h.labels({ syncer })));
    return child;
  }
}

/**
 * Wiring of a Typha replica. `main` (cli `cattail typha`) parses config and signals; this file
 * builds the pieces and connects them, with factories a test can replace so a whole Typha runs
 * in-process against a real etcd:
 *
 *   etcd ─▶ DatastoreWatcher ─▶ validate ─▶ tee ─┬▶ project(felix) ─▶ dedupe ─▶ batcher ─▶ cache ─▶ server fan-out
 *                                               ├▶ project(bgp)   ─▶ …
 *                                               ├▶ project(ipam)  ─▶ …
 *                                               └▶ project(status)─▶ …
 *
 * Side servers: health (/liveness, /readiness, /status) and Prometheus /metrics. Unless
 * ConnectionRebalancingMode=none the replica registers itself (an etcd lease, or a Lease object
 * on the Kubernetes datastore), reads its peers'
 * load every interval, sheds excess clients gradually toward the least-loaded peer, and on
 * SIGTERM hands every client off over ShutdownTimeoutSecs with a hint.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { Registry, collectDefaultMetrics, Counter, Gauge } from 'prom-client';
import { EtcdDatastore, etcdOptionsFromConfig, kdd, type Datastore, type SyncSource } from '@cattail/datastore';
import { backoffDelay, type BackoffPolicy } from '@cattail/datastore/backoff';
import { SYNCER_TYPES, type SyncerType } from '../protocol/messages.js';
import { CODECS } from '../protocol/codecs.js';
import { SYNC_PATH } from '../protocol/transport.js';
import { projectionTable, syncerKinds } from '../protocol/views/index.js';
import { createLogLimiter } from '../pipeline/log-limiter.js';
import { realClock } from '../common/clock.js';
import { availableCpus } from '../common/cpus.js';
import { fanoutWorkersPlan } from '../server/fanout-pool.js';
import { SyncCache, DeltaBatcher } from '../cache/index.js';
import { createDedupeStage, createProjectionStage, createValidationStage, teeCallbacks, type DedupeStage, type ValidationStage } from '../pipeline/index.js';
import { SyncServer, type ServerTlsOptions } from '../server/index.js';
import { PromServerMetrics } from '../metrics/index.js';
import { DatastoreWatcher } from '../watcher/datastore-watcher.js';
import type { TyphaConfig } from '../config.js';
import { json, text } from '../common/http-endpoints.js';
import { serveComponentEndpoints, type ComponentEndpoints } from '../common/component-endpoints.js';
import { ReplicaRegistry, type ReplicaDirectory, type ReplicaView } from './replica-registry.js';
import { LeaseReplicaRegistry } from './lease-registry.js';
import { handoffTarget, planRebalance } from './rebalance.js';
import type { Logger } from '../common/logger.js';

export interface TyphaFactories {
  /** The datastore (default: from the config, EtcdDatastore or kdd.KubeDatastore). */
  datastore?(config: TyphaConfig): Datastore;
}

/** The datastore the config names. */
function configuredDatastore(c: TyphaConfig): Datastore {
  if (c.DatastoreType === 'kubernetes') return new kdd.KubeDatastore(c.Kubeconfig ? { kubeconfigPath: c.Kubeconfig } : {});
  return new EtcdDatastore(etcdOptionsFromConfig(c));
}

/**
 * Timings a test shortens so a model run takes milliseconds, not the seconds production wants.
 * Not configuration: operators have the `TYPHA_*` parameters.
 */
export interface TyphaTuning {
  /** The watcher's delays between failed lists (default 100 ms rising to 5 s). */
  listRetryDelaysMs?: readonly number[];
  /** How long a replica behind a resuming client waits for its watch to catch up (default 5 s). */
  resumeWaitMs?: number;
}

export interface TyphaPorts {
  syncPort: number;
  healthPort?: number;
  metricsPort?: number;
}

/** Start-up waits for the datastore to answer: 200 ms doubling to 5 s. */
const DATASTORE_ID_BACKOFF: BackoffPolicy = { delaysMs: [200, 400, 800, 1600, 3200, 5000], jitter: 0 };

interface SyncerPipeline {
  cache: SyncCache;
  dedupe: DedupeStage;
  batcher: DeltaBatcher;
}

export class TyphaDaemon {
  readonly serverId: string;
  /** Fan-out workers at most (TYPHA_FANOUTWORKERS, or chosen for 0), and sockets each before another starts (0: all at once). */
  readonly #fanout: { workers: number; growAt: number };
  readonly #config: TyphaConfig;
  readonly #log: Logger;
  readonly #factories: TyphaFactories;
  readonly #tuning: TyphaTuning;
  readonly #registry = new Registry();
  readonly #metricsSink = new PromServerMetrics({ registry: this.#registry });
  #datastore!: Datastore;
  /** What the watcher follows: the datastore itself (etcd), or the KDD merged stream. */
  #source!: SyncSource;
  #kubeStream: kdd.KubeSyncStream | undefined;
  #datastoreId = '';
  #pipelines = new Map<SyncerType, SyncerPipeline>();
  #validation!: ValidationStage;
  #watcher!: DatastoreWatcher;
  #server!: SyncServer;
  #endpoints: ComponentEndpoints | undefined;
  #replicas: ReplicaDirectory | undefined;
  #rebalanceTimer: NodeJS.Timeout | undefined;
  #url = '';
  #stopping = false;
  /** Set after a shed: the next interval only reports, so the shed clients show in the counts. */
  #justShed = false;
  /** Whether the previous interval found this replica over its share. */
  #wasOver = false;
  #rebalancing = false;

  constructor(config: TyphaConfig, opts: { logger: Logger; factories?: TyphaFactories; serverId?: string; tuning?: TyphaTuning }) {
    this.#config = config;
    this.#log = opts.logger;
    this.#factories = opts.factories ?? {};
    this.#tuning = opts.tuning ?? {};
    this.serverId = opts.serverId ?? `${hostname()}-${randomUUID().slice(0, 8)}`;
    const cpus = availableCpus();
    // The automatic number is a ceiling: one worker starts, and another for every 1,000
    // connections held, so a small replica on a big node stays small.
    const plan = fanoutWorkersPlan(config.FanoutWorkers, cpus, config.MaxConnectionsUpperLimit);
    this.#fanout = plan;
    this.#log.info(
      { fanoutWorkers: plan.workers, cpus, chosen: config.FanoutWorkers === 0 ? 'automatically (TYPHA_FANOUTWORKERS=0)' : 'TYPHA_FANOUTWORKERS' },
      plan.workers <= 1
        ? 'the main process holds the client sockets (no fan-out workers)'
        : plan.growAt > 0
          ? `fan-out worker processes hold the client sockets: one to start, another per ${plan.growAt} connections held, up to ${plan.workers}`
          : `${plan.workers} fan-out worker processes hold the client sockets`,
    );
  }

  get ready(): boolean {
    return this.#watcher?.inSync === true && [...this.#pipelines.values()].every((p) => p.cache.ready);
  }

  get server(): SyncServer {
    return this.#server;
  }

  async start(): Promise<TyphaPorts> {
    const c = this.#config;
    this.#datastore = this.#factories.datastore?.(c) ?? configuredDatastore(c);
    this.#source = this.#datastore;
    if (this.#datastore instanceof kdd.KubeDatastore) {
      // One list+watch per collection, for the kinds some syncer carries, merged into one stream.
      const kinds = new Set(SYNCER_TYPES.flatMap((s) => syncerKinds(s)));
      const limiter = createLogLimiter({ clock: realClock });
      const retryLimiter = createLogLimiter({ clock: realClock });
      this.#kubeStream = new kdd.KubeSyncStream(this.#datastore, kdd.sourcesForKinds(kinds), {
        builtIn: kinds.has('Profile') ? [kdd.defaultAllowProfile()] : [],
        onProblem: (source, message) => {
          const suppressed = limiter.take();
          if (suppressed >= 0) this.#log.warn({ source, suppressed }, `Kubernetes object not converted: ${message}`);
        },
        onRetry: (source, err) => {
          const suppressed = retryLimiter.take();
          if (suppressed >= 0) this.#log.warn({ source, suppressed, err: err.message }, `listing or watching ${source} on the API server failed; retrying`);
        },
      });
      this.#source = this.#kubeStream;
    }
    const caches = this.#buildCaches();
    this.#server = new SyncServer({
      caches: Object.fromEntries(caches),
      serverId: this.serverId,
      datastoreId: () => this.#datastoreId,
      host: c.ServerHost,
      port: c.ServerPort,
      tls: serverTls(c),
      maxConnections: c.MaxConnectionsUpperLimit,
      fanoutWorkers: this.#fanout.workers,
      fanoutWorkersGrowAt: this.#fanout.growAt,
      maxConnectionsPerSource: c.MaxConnectionsPerSource,
      maxPendingHandshakes: c.MaxPendingHandshakes,
      upgradeTimeoutMs: secs(c.ServerUpgradeTimeoutSecs),
      listenBacklog: c.ServerListenBacklog,
      handshakeTimeoutMs: secs(c.ServerHandshakeTimeoutSecs),
      pingIntervalMs: secs(c.ServerPingIntervalSecs),
      pongTimeoutMs: secs(c.ServerPongTimeoutSecs),
      maxLagMs: secs(c.ServerMaxFallBehindSecs),
      newClientGraceMs: secs(c.ServerNewClientFallBehindGracePeriod),
      highWaterMarkBytes: c.ServerMaxBufferedBytes,
      fanoutChunk: c.ServerFanoutChunk,
      fanoutSweepMinClients: c.ServerFanoutSweepMinClients,
      compressSnapshots: c.ServerCompressSnapshots,
      compressDeltas: c.ServerCompressDeltas,
      ...(this.#tuning.resumeWaitMs !== undefined ? { resumeWaitMs: this.#tuning.resumeWaitMs } : {}),
      overloadHint: () => this.#hintToward(0),
      behindHint: (revision) => this.#hintToward(revision),
      confirmRevision: (target) => void this.#watcher?.confirmRevision(target),
      logger: this.#log,
      metrics: this.#metricsSink,
    });
    this.#buildPipelines(caches);
    this.#registerMetrics();

    // The datastore's identity makes revisions comparable across replicas; fetch it before
    // serving (a resume against a different etcd cluster must get a snapshot).
    this.#datastoreId = await this.#fetchDatastoreId();
    this.#watcher = new DatastoreWatcher({
      datastore: this.#source,
      sink: this.#validation,
      logger: this.#log,
      ...(this.#tuning.listRetryDelaysMs ? { retryDelaysMs: this.#tuning.listRetryDelaysMs } : {}),
    });
    this.#watcher.start();

    const syncPort = await this.#server.start();
    const advertise = c.ServerAdvertiseAddr || `${c.ServerHost === '0.0.0.0' || c.ServerHost === '::' ? hostname() : c.ServerHost}:${syncPort}`;
    this.#url = `${c.ServerCertFile ? 'wss' : 'ws'}://${advertise}${SYNC_PATH}`;
    this.#endpoints = await serveComponentEndpoints(c, {
      health: {
        '/liveness': () => (this.#stopping ? text(503, 'stopping') : text(200, 'live')),
        // Still ready while handing clients off after SIGTERM: it serves them until they have
        // moved, and Kubernetes already counts a terminating pod's endpoint not ready (agents
        // skip it, k8s-discovery.ts), so failing the probe would only log a failure per rollout.
        '/readiness': () => (this.ready ? text(200, this.#stopping ? 'ready (handing clients off)' : 'ready') : text(503, 'not in sync with the datastore')),
        '/status': () => json(200, this.status()),
      },
      metrics: async () => ({ status: 200, type: this.#registry.contentType, body: await this.#registry.metrics() }),
    });
    const ports: TyphaPorts = { syncPort, ...this.#endpoints.ports };
    if (c.ConnectionRebalancingMode !== 'none') {
      const ds = this.#datastore;
      if (ds instanceof EtcdDatastore) this.#replicas = new ReplicaRegistry(ds.client, c.RegistrationTTLSecs);
      else if (ds instanceof kdd.KubeDatastore) this.#replicas = new LeaseReplicaRegistry(ds, { namespace: c.K8sNamespace, ttlSeconds: c.RegistrationTTLSecs });
    }
    if (this.#replicas) {
      this.#rebalanceTimer = setInterval(() => void this.#rebalance(), secs(c.RebalanceIntervalSecs));
      this.#rebalanceTimer.unref();
      void this.#rebalance();
    }
    return ports;
  }

  /** The JSON `/status` document. */
  status(): Record<string, unknown> {
    const conns = this.#server.connections();
    const connections: Record<string, number> = {};
    for (const s of SYNCER_TYPES) connections[s] = conns.syncers[s]?.connections ?? 0;
    return {
      serverId: this.serverId,
      url: this.#url,
      datastoreId: this.#datastoreId,
      ready: this.ready,
      inSync: this.#watcher.inSync,
      revision: this.#watcher.revision,
      watcher: this.#watcher.stats(),
      ...(this.#kubeStream ? { kubernetes: { streamId: this.#kubeStream.id, sources: this.#kubeStream.stats() } } : {}),
      validation: this.#validation.stats(),
      connections,
      total: conns.total,
      maxConnections: conns.maxConnections,
      tcp: conns.tcp,
      refused: conns.refused,
      ...(conns.fanoutWorkers !== undefined ? { fanoutWorkers: conns.fanoutWorkers } : {}),
      cache: Object.fromEntries(
        [...this.#pipelines].map(([s, p]) => [s, { ...p.cache.stats(), skipped: p.dedupe.stats().skipped, batcher: p.batcher.stats() }]),
      ),
      replicas: this.#replicas?.replicas ?? [],
      clients: conns.clients,
    };
  }

  /**
   * Stop. With `handoffMs` > 0 (SIGTERM) clients are handed off gradually with a hint toward
   * the least-loaded peer before the server closes; otherwise they are closed at once.
   */
  async stop(opts: { handoffMs?: number } = {}): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearInterval(this.#rebalanceTimer);
    // Tell peers first (inSync: false) so none sheds clients toward a replica that is leaving.
    await this.#register(false).catch(() => undefined);
    if (opts.handoffMs && opts.handoffMs > 0) {
      const hint = this.#hintToward(0);
      this.#log.info({ handoffMs: opts.handoffMs, toward: hint?.reconnect }, 'handing clients off before shutdown');
      await this.#server.drain({ durationMs: opts.handoffMs, hint });
    }
    await this.#server.stop();
    this.#kubeStream?.close();
    await this.#watcher?.stop();
    for (const p of this.#pipelines.values()) {
      p.batcher.close();
      p.cache.close();
    }
    await this.#replicas?.deregister(this.serverId);
    await this.#endpoints?.close();
    await this.#datastore.close();
  }

  #buildCaches(): Map<SyncerType, SyncCache> {
    const c = this.#config;
    const caches = new Map<SyncerType, SyncCache>();
    for (const syncer of SYNCER_TYPES) {
      caches.set(
        syncer,
        new SyncCache({
          syncer,
          logger: this.#log,
          pageSize: c.SnapshotCacheMaxBatchSize,
          snapshotDeflateLevel: c.SnapshotDeflateLevel,
          tombstoneRetentionMs: secs(c.DeltaRetentionSecs),
          maxTombstones: c.MaxTombstones,
          maxLogBatches: c.DeltaLogMaxBatches,
        }),
      );
    }
    return caches;
  }

  /** validate ─▶ tee ─▶ per syncer: project ─▶ (count) ─▶ dedupe ─▶ batcher ─▶ cache, publishing to the server. */
  #buildPipelines(caches: ReadonlyMap<SyncerType, SyncCache>): void {
    const projections = [];
    const table = projectionTable({ bgpWorkloadEndpoints: this.#config.BGPSyncerWorkloadEndpoints });
    for (const [syncer, cache] of caches) {
      const batcher = new DeltaBatcher({
        next: cache,
        recorder: cache,
        codecs: Object.values(CODECS),
        publish: this.#server.publisher(syncer),
        windowMs: this.#config.ServerBatchWindowMs,
        maxBatch: this.#config.ServerMaxMessageSize,
        variants: this.#config.ServerCompressDeltas ? [cache.deltaVariant(CODECS.msgpack)] : [],
        logger: this.#log,
      });
      const dedupe = createDedupeStage(batcher);
      this.#metricsSink.watch(syncer, { cache, dedupe });
      projections.push(createProjectionStage(syncer, this.#metricsSink.countUpdates(syncer, dedupe), table));
      this.#pipelines.set(syncer, { cache, dedupe, batcher });
    }
    this.#validation = createValidationStage(teeCallbacks(projections), { logger: this.#log });
  }

  #registerMetrics(): void {
    collectDefaultMetrics({ register: this.#registry });
    const watcher = () => this.#watcher?.stats();
    new Gauge({
      name: 'typha_datastore_revision',
      help: 'The datastore revision this replica has applied.',
      registers: [this.#registry],
      collect() {
        this.set(watcher()?.revision ?? 0);
      },
    });
    new Counter({
      name: 'typha_datastore_relists_total',
      help: 'Times the datastore was listed again (compaction or a stopped watch).',
      registers: [this.#registry],
      collect() {
        this.reset();
        this.inc(watcher()?.relists ?? 0);
      },
    });
    const kube = () => this.#kubeStream?.stats() ?? [];
    new Counter({
      name: 'typha_kubernetes_request_retries',
      help: 'List or watch requests to the API server (per source collection) that failed and were retried (Kubernetes datastore only).',
      labelNames: ['source'],
      registers: [this.#registry],
      collect() {
        this.reset();
        for (const s of kube()) this.inc({ source: s.name }, s.retries);
      },
    });
    new Counter({
      name: 'typha_kubernetes_objects_unconverted',
      help: 'Kubernetes objects (per source collection) that could not be converted to a Calico resource and were left out (Kubernetes datastore only).',
      labelNames: ['source'],
      registers: [this.#registry],
      collect() {
        this.reset();
        for (const s of kube()) this.inc({ source: s.name }, s.problems);
      },
    });
    const validation = () => this.#validation.stats();
    new Counter({
      name: 'typha_updates_invalid',
      help: 'Updates whose value failed validation or decoding and were passed on as deletes.',
      registers: [this.#registry],
      collect() {
        this.reset();
        const v = validation();
        this.inc(v.invalidUpdates + v.decodeErrors);
      },
    });
  }

  async #fetchDatastoreId(): Promise<string> {
    // KDD: revisions are the merged stream's own, comparable only within it (see kdd/sync-stream.ts).
    if (this.#kubeStream) return this.#kubeStream.id;
    const ds = this.#datastore as Datastore & { clusterId?: () => Promise<string> };
    if (!ds.clusterId) return 'unknown';
    for (let attempt = 0; ; attempt++) {
      try {
        return await ds.clusterId();
      } catch (err) {
        if (this.#stopping) throw err;
        this.#log.warn({ err, attempt }, 'cannot reach the datastore yet; retrying');
        await new Promise((r) => setTimeout(r, backoffDelay(DATASTORE_ID_BACKOFF, attempt)));
      }
    }
  }

  /** Publish this replica's load (and whether it takes clients) and read everyone's. */
  /** A Goodbye hint toward the least-loaded fresh in-sync peer at or past `minRevision`. */
  #hintToward(minRevision: number): { reconnect: string } | undefined {
    const to = this.#replicas && handoffTarget(this.serverId, this.#replicas.replicas, minRevision);
    return to ? { reconnect: to } : undefined;
  }

  async #register(accepting: boolean): Promise<readonly ReplicaView[]> {
    if (!this.#replicas) return [];
    const conns = this.#server.connections();
    return this.#replicas.refresh({
      serverId: this.serverId,
      url: this.#url,
      node: process.env.NODENAME ?? hostname(),
      connections: conns.total,
      maxConnections: conns.maxConnections,
      inSync: accepting && !this.#stopping && this.ready,
      revision: this.#watcher?.revision ?? 0,
      updatedAt: new Date().toISOString(),
    });
  }

  async #rebalance(): Promise<void> {
    // A refresh still in flight (etcd slow, the process loaded) is not overtaken by the next.
    if (!this.#replicas || this.#stopping || this.#rebalancing) return;
    this.#rebalancing = true;
    const c = this.#config;
    try {
      const replicas = await this.#register(true);
      if (this.#stopping) return;
      const self = replicas.find((r) => r.serverId === this.serverId);
      const plan = planRebalance(this.serverId, replicas, { tolerance: c.RebalanceTolerance, maxShed: c.RebalanceMaxShedPerInterval });
      // Shed only on an overload seen twice in a row (a sudden jump, such as a peer's clients
      // handed over at its shutdown, waits for fresh reports), and not right after a shed.
      const confirmed = this.#wasOver && !this.#justShed;
      this.#wasOver = plan.shed > 0;
      this.#justShed = false;
      if (confirmed && plan.shed > 0 && plan.toward) {
        this.#justShed = true;
        const shed = this.#server.shed(plan.shed, { reconnect: plan.toward, delayMs: Math.round(Math.random() * secs(c.RebalanceIntervalSecs)) });
        this.#log.info(
          { shed, target: plan.target, toward: plan.toward, connections: self?.connections },
          'rebalancing: shedding clients toward a less loaded replica',
        );
      }
    } catch (err) {
      this.#log.warn({ err }, 'replica registration failed; will retry');
    } finally {
      this.#rebalancing = false;
    }
  }
}

function secs(s: number): number {
  return Math.round(s * 1000);
}

function serverTls(c: TyphaConfig): ServerTlsOptions | undefined {
  if (!c.ServerCertFile) return undefined;
  const tls: ServerTlsOptions = { cert: readFileSync(c.ServerCertFile), key: readFileSync(c.ServerKeyFile) };
  if (c.CAFile) tls.ca = readFileSync(c.CAFile);
  if (c.ClientCN) tls.clientCN = c.ClientCN;
  if (c.ClientURISAN) tls.clientURISAN = c.ClientURISAN;
  return tls;
}

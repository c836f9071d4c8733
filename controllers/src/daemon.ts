/**
 * KubeControllersDaemon: the wiring of one kube-controllers instance. The `cattail
 * kube-controllers` command and the integration tests build it from a config, so a test runs
 * two instances in one process against one API server.
 *
 *   LeaderElector (Lease) ──onStartedLeading──▶ IpamGarbageCollector.start()   (node controller;
 *                         │                    + a watch of nodes and the watched pods cache, whose
 *                         │                    sweeps read pods from it: a deletion kicks a sweep)
 *                         │                    KubeToEtcdSync.start() ×3      (etcd mode: namespace,
 *                         │                                                    serviceaccount, policy)
 *                         ──onStoppedLeading──▶ … .stop()
 *   health: /liveness /readiness /status    metrics: /metrics
 *
 * Without leader election the controllers run at once. Readiness: the last Lease round reached
 * the API server (a standby is ready: it is healthy and waits its turn). Factories (`kube`,
 * `etcd`, `cluster`, `clock`) replace a part for a test.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { durationMillis } from '@cattail/api';
import { EtcdDatastore, etcdOptionsFromConfig, kdd, type Datastore, type WatchHandle, type WatchSink } from '@cattail/datastore';
import {
  agentHealthRoutes,
  PROMETHEUS_TEXT,
  realClock,
  serveComponentEndpoints,
  silentLogger,
  type Clock,
  type ComponentEndpoints,
  type EndpointPorts,
  type Logger,
} from '@cattail/typha/common';
import { EtcdCompactor, type CompactorStatus } from './etcd-compactor.js';
import { AutoHostEndpoints, type AutoHostEndpointsStatus } from './auto-host-endpoints.js';
import { cachedClusterView, kubeClusterView, WatchedPods, type ClusterView } from './cluster-view.js';
import type { KubeControllersConfig } from './config.js';
import { IpamGarbageCollector, type IpamGcStatus } from './ipam-gc.js';
import { KubeToEtcdSync, SYNC_TARGETS, type SyncStatus } from './kube-to-etcd-sync.js';
import { LeaderElector, type LeaderStatus } from './leader-elector.js';
import { formatMetrics } from './metrics.js';

export interface KubeControllersDependencies {
  logger?: Logger;
  clock?: Clock;
  /** The Kubernetes API (Lease, pods, nodes; the datastore itself on KDD). */
  kube?: () => kdd.KubeDatastore;
  /** The etcd datastore (DATASTORE_TYPE etcdv3). */
  etcd?: () => Datastore;
  cluster?: (kube: kdd.KubeDatastore) => ClusterView;
}

export interface KubeControllersStatus {
  readonly leader: LeaderStatus;
  readonly controllers: readonly string[];
  readonly ipam: IpamGcStatus;
  /** The etcd-mode sync controllers (empty on KDD). */
  readonly syncs: readonly SyncStatus[];
  /** etcd history compaction (etcd datastore only). */
  readonly compaction?: CompactorStatus;
  /** Automatic host endpoints (the node controller). */
  readonly hostEndpoints?: AutoHostEndpointsStatus;
}

export class KubeControllersDaemon {
  readonly kube: kdd.KubeDatastore;
  /** Where Calico's resources and IPAM live: `kube` on KDD, etcd on etcdv3. */
  readonly ds: Datastore;
  readonly syncs: readonly KubeToEtcdSync[];
  readonly gc: IpamGarbageCollector;
  readonly elector: LeaderElector | undefined;
  readonly #config: KubeControllersConfig;
  readonly #log: Logger;
  readonly #identity: string;
  #endpoints: ComponentEndpoints | undefined;
  readonly #startControllers: () => void;
  #kickWatches: WatchHandle[] = [];
  readonly #pods: WatchedPods | undefined;
  readonly #compactor: EtcdCompactor | undefined;
  readonly #autoHeps: AutoHostEndpoints | undefined;
  readonly #stopControllers: () => Promise<void>;

  constructor(config: KubeControllersConfig, deps: KubeControllersDependencies = {}) {
    this.#config = config;
    this.#log = deps.logger ?? silentLogger;
    const clock = deps.clock ?? realClock;
    this.#identity = config.Identity.trim() || `${hostname()}_${randomUUID().slice(0, 8)}`;
    this.kube = deps.kube?.() ?? new kdd.KubeDatastore(config.Kubeconfig ? { kubeconfigPath: config.Kubeconfig } : {});
    this.ds = config.DatastoreType === 'etcdv3' ? (deps.etcd?.() ?? new EtcdDatastore(etcdOptionsFromConfig(config))) : this.kube;
    // The collector reads pods from a watched cache (one list and watch, not a list per sweep);
    // a test's own view is used as it is.
    this.#pods = deps.cluster
      ? undefined
      : new WatchedPods(this.kube, {
          onDelete: () => this.gc.kick(),
          onError: (err) => this.#log.warn({ err }, 'the pods watch stopped; listing pods per sweep until it is back'),
        });
    // The leader compacts etcd's history, as calico-kube-controllers does (etcd datastore only).
    if (this.ds instanceof EtcdDatastore) {
      const compactionMs = config.CompactionPeriod ? durationMillis(config.CompactionPeriod) : undefined;
      this.#compactor = new EtcdCompactor({
        etcd: this.ds.client,
        ds: this.ds,
        configName: config.KubeControllersConfigName,
        ...(compactionMs !== undefined ? { periodMs: compactionMs } : {}),
        clock,
        logger: this.#log,
      });
    }
    const cluster = deps.cluster?.(this.kube) ?? cachedClusterView(kubeClusterView(this.kube), this.#pods!);
    const periodMs = config.ReconcilerPeriod ? durationMillis(config.ReconcilerPeriod) : undefined;
    this.syncs =
      config.DatastoreType === 'etcdv3'
        ? [
            ...config.EnabledControllers.filter((c) => SYNC_TARGETS[c] !== undefined),
            // The node controller's label sync (Calico's SYNC_NODE_LABELS).
            ...(config.EnabledControllers.includes('node') && config.SyncNodeLabels ? ['nodelabels'] : []),
          ].map(
            (c) =>
              new KubeToEtcdSync(this.kube, this.ds, SYNC_TARGETS[c], {
                clock,
                logger: this.#log,
                ...(periodMs !== undefined ? { reconcilePeriodMs: periodMs } : {}),
              }),
          )
        : [];
    const nodeController = config.EnabledControllers.includes('node');
    this.#autoHeps = nodeController
      ? new AutoHostEndpoints(this.ds, {
          ...(config.AutoHostEndpoints ? { enabled: config.AutoHostEndpoints === 'enabled' } : {}),
          configName: config.KubeControllersConfigName,
          ...(periodMs !== undefined ? { periodMs } : {}),
          clock,
          logger: this.#log,
        })
      : undefined;
    this.gc = new IpamGarbageCollector(this.ds, cluster, {
      configName: config.KubeControllersConfigName,
      deleteCalicoNodes: config.DatastoreType === 'etcdv3',
      ...(config.LeakGracePeriod ? { leakGracePeriodMs: durationMillis(config.LeakGracePeriod) } : {}),
      ...(periodMs !== undefined ? { reconcilerPeriodMs: periodMs } : {}),
      clock,
      logger: this.#log,
    });
    this.#startControllers = () => {
      this.#log.info({ controllers: config.EnabledControllers }, 'starting controllers');
      if (nodeController) {
        this.gc.start();
        // A deleted pod or node makes the collector sweep soon (puts, the initial list included, do not).
        const kick: WatchSink = {
          onEvents: (events) => {
            if (events.some((e) => e.type === 'delete')) this.gc.kick();
          },
          onError: (err) => this.#log.warn({ err }, 'a deletion watch stopped; the collector still sweeps every period'),
        };
        this.#kickWatches = [this.kube.watchKind(kdd.nodeSource(), kick)];
        // The pods cache kicks on pod deletions itself; with a test's view, a plain watch does.
        if (this.#pods) this.#pods.start();
        else this.#kickWatches.push(this.kube.watchKind(kdd.podSource(), kick));
      }
      for (const s of this.syncs) s.start();
      this.#compactor?.start();
      this.#autoHeps?.start();
    };
    this.#stopControllers = async () => {
      for (const w of this.#kickWatches.splice(0)) w.close();
      this.#pods?.stop();
      await Promise.all([this.gc.stop(), ...this.syncs.map((s) => s.stop()), this.#compactor?.stop(), this.#autoHeps?.stop()]);
    };
    this.elector = config.LeaderElection
      ? new LeaderElector(
          this.kube,
          {
            onStartedLeading: () => this.#startControllers(),
            onStoppedLeading: async () => {
              this.#log.info({}, 'stopping controllers');
              await this.#stopControllers();
            },
          },
          {
            namespace: config.LeaseNamespace,
            name: config.LeaseName,
            identity: this.#identity,
            leaseDurationMs: config.LeaseDurationSecs * 1000,
            renewDeadlineMs: config.RenewDeadlineSecs * 1000,
            retryPeriodMs: config.RetryPeriodSecs * 1000,
            clock,
            logger: this.#log,
          },
        )
      : undefined;
  }

  get identity(): string {
    return this.#identity;
  }

  status(): KubeControllersStatus {
    const leader = this.elector?.status() ?? { identity: this.#identity, leader: true, holder: this.#identity, acquisitions: 1, errors: 0, reachable: true };
    return {
      leader,
      controllers: this.#config.EnabledControllers,
      ipam: this.gc.status(),
      syncs: this.syncs.map((s) => s.status()),
      ...(this.#compactor ? { compaction: this.#compactor.status() } : {}),
      ...(this.#autoHeps ? { hostEndpoints: this.#autoHeps.status() } : {}),
    };
  }

  async start(): Promise<EndpointPorts & { identity: string }> {
    const c = this.#config;
    this.#endpoints = await serveComponentEndpoints(c, {
      health: agentHealthRoutes(
        () => this.status().leader.reachable,
        () => this.status(),
      ),
      metrics: () => {
        const s = this.status();
        return { status: 200, type: PROMETHEUS_TEXT, body: formatMetrics({ leader: s.leader, ipam: s.ipam.sweeps > 0 ? s.ipam : undefined }) };
      },
    });
    if (this.elector) this.elector.start();
    else this.#startControllers();
    return { ...this.#endpoints.ports, identity: this.#identity };
  }

  /** Stops the controllers, hands the Lease back (unless `release: false`: a crash as others see it), closes the ports. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.elector) await this.elector.stop(opts);
    await this.#stopControllers();
    await this.#endpoints?.close();
    this.#endpoints = undefined;
    if (this.ds !== this.kube) await this.ds.close();
    await this.kube.close();
  }
}

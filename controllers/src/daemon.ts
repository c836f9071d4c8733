/**
 * KubeControllersDaemon: the wiring of one kube-controllers instance. The `cattail
 * kube-controllers` command and the integration tests build it from a config, so a test runs
 * two instances in one process against one API server.
 *
 *   LeaderElector (Lease) ──onStartedLeading──▶ IpamGarbageCollector.start()   (node controller)
 *                         ──onStoppedLeading──▶ IpamGarbageCollector.stop()
 *   health: /liveness /readiness /status    metrics: /metrics
 *
 * Without leader election the controllers run at once. Readiness: the last Lease round reached
 * the API server (a standby is ready: it is healthy and waits its turn). Factories (`datastore`,
 * `cluster`, `clock`) replace a part for a test.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { durationMillis } from '@cattail/api';
import { kdd } from '@cattail/datastore';
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
import { kubeClusterView, type ClusterView } from './cluster-view.js';
import type { KubeControllersConfig } from './config.js';
import { IpamGarbageCollector, type IpamGcStatus } from './ipam-gc.js';
import { LeaderElector, type LeaderStatus } from './leader-elector.js';
import { formatMetrics } from './metrics.js';

export interface KubeControllersDependencies {
  logger?: Logger;
  clock?: Clock;
  datastore?: () => kdd.KubeDatastore;
  cluster?: (ds: kdd.KubeDatastore) => ClusterView;
}

export interface KubeControllersStatus {
  readonly leader: LeaderStatus;
  readonly controllers: readonly string[];
  readonly ipam: IpamGcStatus;
}

export class KubeControllersDaemon {
  readonly ds: kdd.KubeDatastore;
  readonly gc: IpamGarbageCollector;
  readonly elector: LeaderElector | undefined;
  readonly #config: KubeControllersConfig;
  readonly #log: Logger;
  readonly #identity: string;
  #endpoints: ComponentEndpoints | undefined;

  constructor(config: KubeControllersConfig, deps: KubeControllersDependencies = {}) {
    this.#config = config;
    this.#log = deps.logger ?? silentLogger;
    const clock = deps.clock ?? realClock;
    this.#identity = config.Identity.trim() || `${hostname()}_${randomUUID().slice(0, 8)}`;
    this.ds = deps.datastore?.() ?? new kdd.KubeDatastore(config.Kubeconfig ? { kubeconfigPath: config.Kubeconfig } : {});
    const cluster = deps.cluster?.(this.ds) ?? kubeClusterView(this.ds);
    this.gc = new IpamGarbageCollector(this.ds, cluster, {
      configName: config.KubeControllersConfigName,
      ...(config.LeakGracePeriod ? { leakGracePeriodMs: durationMillis(config.LeakGracePeriod) } : {}),
      ...(config.ReconcilerPeriod ? { reconcilerPeriodMs: durationMillis(config.ReconcilerPeriod) } : {}),
      clock,
      logger: this.#log,
    });
    this.elector = config.LeaderElection
      ? new LeaderElector(
          this.ds,
          {
            onStartedLeading: () => {
              this.#log.info({ controllers: config.EnabledControllers }, 'starting controllers');
              this.gc.start();
            },
            onStoppedLeading: async () => {
              this.#log.info({}, 'stopping controllers');
              await this.gc.stop();
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
    return { leader, controllers: this.#config.EnabledControllers, ipam: this.gc.status() };
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
    else this.gc.start();
    return { ...this.#endpoints.ports, identity: this.#identity };
  }

  /** Stops the controllers, hands the Lease back (unless `release: false`: a crash as others see it), closes the ports. */
  async stop(opts: { release?: boolean } = {}): Promise<void> {
    if (this.elector) await this.elector.stop(opts);
    await this.gc.stop();
    await this.#endpoints?.close();
    this.#endpoints = undefined;
    await this.ds.close();
  }
}

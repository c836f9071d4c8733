/**
 * FelixDaemon: the wiring of one Felix, with nothing of its own to decide. `cattail felix` and
 * the integration tests both build it from FelixLayers, so a test runs a complete Felix
 * in-process against real etcd and Typha, programming a real kernel inside a netns.
 *
 *   SyncClient(felix, node, discovery) ──callbacks──▶ FelixAgent ──▶ CalcGraph ──▶ Dataplane
 *                                                          │ ConfigUpdate             (linux | dry-run)
 *                                                          ▼
 *                     resolveFelixConfig(env > file > datastore) ─▶ "restart required" log
 *   health server: /liveness /readiness /status ──── status()
 *   metrics server: /metrics ───────────────────────┤
 *   StatusReporter: etcd /cattail/felix/v2/<node>/status (lease TTL) ┘
 *
 * Factories (`dataplane`, `discovery`, `clock`, `exec`) replace a part for a test; by default
 * each is the real thing the config names.
 */
import { etcd, etcdOptionsFromConfig } from '@cattail/datastore';
import { agentSyncClient, type Discovery, type SyncClient } from '@cattail/typha/client';
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
import { FelixAgent, type FelixAgentStatus } from './agent/felix-agent.js';
import { formatMetrics } from './agent/metrics.js';
import { StatusReporter, type StatusStore } from './agent/status-reporter.js';
import { RESTART_REQUIRED, changedParams, dataplaneConfig, resolveFelixConfig, type FelixConfig, type FelixLayers } from './config.js';
import { DryRunDataplane } from './dataplane/dry-run-dataplane.js';
import { inNetns, processExec, type Exec } from './dataplane/exec.js';
import { LinuxDataplane } from './dataplane/linux-dataplane.js';
import type { DataplaneSink } from './proto/messages.js';

/** A dataplane the daemon can start and stop; LinuxDataplane and DryRunDataplane both fit. */
export interface ManagedDataplane extends DataplaneSink {
  start?(): void;
  close?(): void;
}

export interface DataplaneFactoryOptions {
  config: FelixConfig;
  onError: (err: Error) => void;
}

export interface FelixDependencies {
  logger?: Logger;
  discovery?: Discovery;
  clock?: Clock;
  /** Runs ip/nft/sysctl (default: child processes, inside FELIX_NETNS when set). */
  exec?: Exec;
  dataplane?: (opts: DataplaneFactoryOptions) => ManagedDataplane;
  /** Applies a new LogSeverityScreen from FelixConfiguration (the root logger is the caller's). */
  setLogLevel?: (severity: FelixConfig['LogSeverityScreen']) => void;
  /** Where the status report goes (default: an etcd client on EtcdEndpoints, when set). */
  statusStore?: (config: FelixConfig) => StatusStore & { close?(): void };
}

export type FelixPorts = EndpointPorts;

export interface FelixStatus extends FelixAgentStatus {
  dataplaneMode: string;
  dataplaneErrors: number;
  lastDataplaneError?: string;
  restartRequired: string[];
}

export const FELIX_CLIENT_ID = 'cattail-felix/0.1.0';

export class FelixDaemon {
  readonly agent: FelixAgent;
  readonly dataplane: ManagedDataplane;
  readonly #layers: FelixLayers;
  /** What this process was started with (settings in RESTART_REQUIRED stay at these values). */
  readonly startConfig: FelixConfig;
  #config: FelixConfig;
  readonly #log: Logger;
  readonly #client: SyncClient<'felix'>;
  #endpoints: ComponentEndpoints | undefined;
  #dataplaneErrors = 0;
  #lastDataplaneError: string | undefined;
  readonly #restartRequired = new Set<string>();
  readonly #setLogLevel: FelixDependencies['setLogLevel'];
  readonly #statusStore: (StatusStore & { close?(): void }) | undefined;
  readonly reporter: StatusReporter | undefined;

  constructor(layers: FelixLayers, deps: FelixDependencies = {}) {
    this.#layers = layers;
    const config = resolveFelixConfig(layers, {}).config;
    this.startConfig = this.#config = config;
    this.#log = deps.logger ?? silentLogger;
    this.#setLogLevel = deps.setLogLevel;
    const clock = deps.clock ?? realClock;
    const onError = (err: Error) => {
      this.#dataplaneErrors++;
      this.#lastDataplaneError = err.message;
      this.#log.warn({ err }, 'dataplane error; will retry');
    };
    this.dataplane = deps.dataplane
      ? deps.dataplane({ config, onError })
      : config.DataplaneMode === 'dry-run'
        ? new DryRunDataplane({ nodeName: config.FelixHostname })
        : new LinuxDataplane({
            exec: config.Netns ? inNetns(deps.exec ?? processExec(), config.Netns) : (deps.exec ?? processExec()),
            nodeName: config.FelixHostname,
            debounceMs: config.DataplaneDebounceMs,
            refreshIntervalMs: Math.round(config.RouteRefreshInterval * 1000),
            mtuFile: config.MTUFile,
            onError,
            ...(deps.clock ? { clock: deps.clock } : {}),
          });
    this.agent = new FelixAgent({
      nodeName: config.FelixHostname,
      dataplane: this.dataplane,
      onConfig: (spec) => this.#onDatastoreConfig(spec),
      dataplaneConfig: (spec) => dataplaneConfig(config, spec),
      logger: this.#log.child({ component: 'agent' }),
    });
    this.#client = agentSyncClient(config, 'felix', this.agent, {
      node: config.FelixHostname,
      clientId: FELIX_CLIENT_ID,
      readTimeoutMs: Math.round(config.TyphaReadTimeout * 1000),
      clock,
      logger: this.#log,
      ...(deps.discovery ? { discovery: deps.discovery } : {}),
    });
    if (config.ReportingIntervalSecs > 0 && (deps.statusStore || config.EtcdEndpoints.length > 0)) {
      this.#statusStore = deps.statusStore ? deps.statusStore(config) : new etcd.EtcdClient(etcdOptionsFromConfig(config));
      this.reporter = new StatusReporter({
        store: this.#statusStore,
        nodeName: config.FelixHostname,
        intervalMs: Math.round(config.ReportingIntervalSecs * 1000),
        ttlSeconds: Math.max(1, Math.round(config.ReportingTTLSecs)),
        status: () => {
          const s = this.status();
          return { inSync: s.inSync, typhaConnected: s.typha.connected, dataplaneErrors: s.dataplaneErrors };
        },
        clock,
        logger: this.#log.child({ component: 'status-reporter' }),
      });
    }
  }

  /** The effective configuration: env > file > FelixConfiguration > default. */
  get config(): FelixConfig {
    return this.#config;
  }

  status(): FelixStatus {
    return {
      ...this.agent.status(),
      dataplaneMode: this.startConfig.DataplaneMode,
      dataplaneErrors: this.#dataplaneErrors,
      ...(this.#lastDataplaneError !== undefined ? { lastDataplaneError: this.#lastDataplaneError } : {}),
      restartRequired: [...this.#restartRequired].sort(),
    };
  }

  async start(): Promise<FelixPorts> {
    const c = this.startConfig;
    try {
      this.#endpoints = await serveComponentEndpoints(c, {
        health: agentHealthRoutes(
          () => this.agent.ready,
          () => this.status(),
        ),
        metrics: () => ({ status: 200, type: PROMETHEUS_TEXT, body: formatMetrics(this.status()) }),
      });
    } catch (err) {
      await this.stop();
      throw err;
    }
    const ports: FelixPorts = { ...this.#endpoints.ports };
    this.dataplane.start?.();
    this.#client.start();
    this.reporter?.start();
    return ports;
  }

  async stop(): Promise<void> {
    await this.reporter?.close();
    this.#statusStore?.close?.();
    await this.#client.close();
    this.dataplane.close?.();
    await this.#endpoints?.close();
    this.#endpoints = undefined;
  }

  #onDatastoreConfig(spec: Record<string, unknown>): void {
    let next: FelixConfig;
    try {
      const resolved = resolveFelixConfig(this.#layers, spec);
      for (const issue of resolved.ignored) this.#log.warn({ param: issue.param, problem: issue.message }, 'ignoring a bad FelixConfiguration value');
      next = resolved.config;
    } catch (err) {
      this.#log.error({ err }, 'FelixConfiguration rejected; keeping the running configuration');
      return;
    }
    const changed = changedParams(this.#config, next);
    this.#config = next;
    for (const param of changed) {
      if (RESTART_REQUIRED.has(param)) {
        if (next[param] === this.startConfig[param]) this.#restartRequired.delete(param);
        else {
          this.#restartRequired.add(param);
          this.#log.warn({ param, running: this.startConfig[param], configured: next[param] }, 'configuration changed: restart required');
        }
      } else {
        this.#log.info({ param, value: next[param] }, 'configuration changed');
        if (param === 'LogSeverityScreen') this.#setLogLevel?.(next.LogSeverityScreen);
      }
    }
  }
}

/**
 * FelixDaemon: the wiring of one Felix, with nothing of its own to decide. `cattail felix` and
 * the integration tests both build it from FelixLayers, so a test runs a complete Felix
 * in-process against real etcd and Typha, programming a real kernel inside a netns.
 *
 *   SyncClient(felix, node, discovery) ──callbacks──▶ FelixAgent ──▶ CalcGraph ──▶ Dataplane
 *                                                          │ ConfigUpdate             (linux | dry-run)
 *                                                          ▼
 *                     resolveFelixConfig(env > file > datastore) ─▶ apply: live, servers, or "restart required"
 *   health server: /liveness /readiness /status ──── status()
 *   metrics server: /metrics ───────────────────────┤
 *   StatusReporter: etcd /cattail/felix/v2/<node>/status (lease TTL) ┘
 *   Dataplane ─onEndpointStatus─▶ EndpointStatusReporter: etcd /cattail/felix/v2/<node>/workload/…
 *                                 (EndpointReportingEnabled)
 *
 * A FelixConfiguration change is applied as far as it can be without restarting the process:
 * the log level and the refresh interval at once; the health and metrics servers are closed and
 * opened again on their new host/port (or opened, or closed) in-process. Calico's Felix instead
 * waits for the datastore before it serves them and exits when one of these changes (its pod is
 * then restarted): here the process keeps its Typha connection, calculation graph and dataplane
 * state, and the servers are up with the env/file values while Typha is still unreachable (so
 * /liveness and /status answer during that time), then follow the datastore. Only the settings
 * in RESTART_REQUIRED, which choose and wire the parts, wait for a restart. Each change is logged
 * with how it was applied.
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
  serveRoutes,
  silentLogger,
  type Clock,
  type EndpointPorts,
  type HttpEndpoint,
  type Logger,
  type Route,
} from '@cattail/typha/common';
import { FelixAgent, type FelixAgentStatus } from './agent/felix-agent.js';
import { formatMetrics } from './agent/metrics.js';
import { StatusReporter, type StatusStore } from './agent/status-reporter.js';
import {
  EndpointStatusReporter,
  etcdEndpointStatusStore,
  type EndpointStatusReporterStats,
  type EndpointStatusStore,
} from './agent/endpoint-status-reporter.js';
import {
  RESTART_REQUIRED,
  changedParams,
  dataplaneConfig,
  resolveFelixConfig,
  specFieldUse,
  type FelixConfig,
  type FelixLayers,
  type FelixParam,
} from './config.js';
import { DryRunDataplane } from './dataplane/dry-run-dataplane.js';
import type { EndpointStatusListener } from './dataplane/endpoint-status.js';
import type { DataplaneStats } from './dataplane/stats.js';
import { inNetns, processExec, type Exec } from './dataplane/exec.js';
import { LinkMonitor } from './dataplane/link-monitor.js';
import { LinuxDataplane } from './dataplane/linux-dataplane.js';
import type { DataplaneSink } from './proto/messages.js';

/** A dataplane the daemon can start and stop; LinuxDataplane and DryRunDataplane both fit. */
export interface ManagedDataplane extends DataplaneSink {
  start?(): void;
  close?(): void;
  /** The drift-repair period changed (RouteRefreshInterval, NftablesRefreshInterval). */
  setRefreshInterval?(ms: number): void;
  /** Counts for `/metrics` (endpoints, policies, IP sets, hosts, apply times). */
  stats?(): DataplaneStats;
}

/** One drift refresh checks routes and the nftables table alike: it runs as often as the more frequent asks. */
function refreshIntervalMs(c: FelixConfig): number {
  return Math.round(Math.min(c.RouteRefreshInterval, c.NftablesRefreshInterval) * 1000);
}

/** The settings each HTTP server is opened with; a change to any of them reopens that server. */
const SERVER_PARAMS = {
  health: ['HealthEnabled', 'HealthHost', 'HealthPort'],
  metrics: ['PrometheusMetricsEnabled', 'PrometheusMetricsHost', 'PrometheusMetricsPort'],
} as const satisfies Record<string, readonly FelixParam[]>;
type ServerName = keyof typeof SERVER_PARAMS;

/** Where a server should listen under `c`, or undefined when it is disabled. */
function serverAddress(name: ServerName, c: FelixConfig): { host: string; port: number } | undefined {
  return name === 'health'
    ? c.HealthEnabled
      ? { host: c.HealthHost, port: c.HealthPort }
      : undefined
    : c.PrometheusMetricsEnabled
      ? { host: c.PrometheusMetricsHost, port: c.PrometheusMetricsPort }
      : undefined;
}

/** How a changed setting takes effect. */
type Applied = 'at once' | 'server reopened' | 'restart required';

/** Applied by #onDatastoreConfig as they change (the dataplane's own settings never reach it). */
const AT_ONCE: ReadonlySet<FelixParam> = new Set<FelixParam>(['LogSeverityScreen', 'RouteRefreshInterval', 'NftablesRefreshInterval']);

function howApplied(param: FelixParam): Applied {
  if (RESTART_REQUIRED.has(param)) return 'restart required';
  if (AT_ONCE.has(param)) return 'at once';
  if ((SERVER_PARAMS.health as readonly FelixParam[]).includes(param) || (SERVER_PARAMS.metrics as readonly FelixParam[]).includes(param)) {
    return 'server reopened';
  }
  return 'restart required'; // nothing applies it live
}

export interface DataplaneFactoryOptions {
  config: FelixConfig;
  onError: (err: Error) => void;
  /** Where the driver sends endpoint statuses (to the endpoint status reporter, when enabled). */
  onEndpointStatus: EndpointStatusListener;
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
  /** Where endpoint statuses go (default: the same etcd client), when EndpointReportingEnabled. */
  endpointStatusStore?: (config: FelixConfig) => EndpointStatusStore;
}

export type FelixPorts = EndpointPorts;

export interface FelixStatus extends FelixAgentStatus {
  dataplaneMode: string;
  dataplaneErrors: number;
  lastDataplaneError?: string;
  restartRequired: string[];
  /** The driver's counts, when it keeps them. */
  dataplane?: DataplaneStats;
  /** The endpoint status reporter's counts, when it runs. */
  endpointStatus?: EndpointStatusReporterStats;
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
  readonly #routes: Readonly<Record<ServerName, Readonly<Record<string, Route>>>>;
  /** The open servers, with the address each was opened for. */
  readonly #servers = new Map<ServerName, { key: string; endpoint: HttpEndpoint }>();
  /** Server opens and closes, one at a time in order (a later config waits for the earlier). */
  #serverWork: Promise<void> = Promise.resolve();
  #serving = false;
  /** The last merged FelixConfiguration spec, to tell which fields changed. */
  #spec: Record<string, unknown> = {};
  #dataplaneErrors = 0;
  #lastDataplaneError: string | undefined;
  readonly #restartRequired = new Set<string>();
  readonly #setLogLevel: FelixDependencies['setLogLevel'];
  readonly #statusStore: (StatusStore & { close?(): void }) | undefined;
  readonly #etcd: etcd.EtcdClient | undefined;
  readonly reporter: StatusReporter | undefined;
  readonly endpointReporter: EndpointStatusReporter | undefined;

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
    const onEndpointStatus: EndpointStatusListener = (report) => this.endpointReporter?.onReport(report);
    this.dataplane = deps.dataplane
      ? deps.dataplane({ config, onError, onEndpointStatus })
      : config.DataplaneMode === 'dry-run'
        ? new DryRunDataplane({ nodeName: config.FelixHostname, onEndpointStatus })
        : new LinuxDataplane({
            exec: config.Netns ? inNetns(deps.exec ?? processExec(), config.Netns) : (deps.exec ?? processExec()),
            nodeName: config.FelixHostname,
            debounceMs: config.DataplaneDebounceMs,
            refreshIntervalMs: refreshIntervalMs(config),
            mtuFile: config.MTUFile,
            onError,
            onEndpointStatus,
            // Calico reports an endpoint down when its interface goes down, not a refresh later.
            ...(config.EndpointReportingEnabled ? { linkEvents: new LinkMonitor({ ...(config.Netns ? { netns: config.Netns } : {}), onError }) } : {}),
            ...(deps.clock ? { clock: deps.clock } : {}),
          });
    this.agent = new FelixAgent({
      nodeName: config.FelixHostname,
      dataplane: this.dataplane,
      onConfig: (spec) => this.#onDatastoreConfig(spec),
      dataplaneConfig: (spec) => dataplaneConfig(layers, config, spec),
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
    this.#routes = {
      health: agentHealthRoutes(
        () => this.agent.ready,
        () => this.status(),
      ),
      metrics: { '/metrics': () => ({ status: 200, type: PROMETHEUS_TEXT, body: formatMetrics(this.status()) }) },
    };
    // One etcd client for both reports, made only when one of them will write.
    const wantsEtcd =
      config.EtcdEndpoints.length > 0 &&
      ((config.ReportingIntervalSecs > 0 && !deps.statusStore) || (config.EndpointReportingEnabled && !deps.endpointStatusStore));
    if (wantsEtcd) this.#etcd = new etcd.EtcdClient(etcdOptionsFromConfig(config));
    if (config.EndpointReportingEnabled) {
      const store = deps.endpointStatusStore ? deps.endpointStatusStore(config) : this.#etcd ? etcdEndpointStatusStore(this.#etcd) : undefined;
      if (store) {
        this.endpointReporter = new EndpointStatusReporter({
          store,
          nodeName: config.FelixHostname,
          delayMs: Math.max(10, Math.round(config.EndpointReportingDelaySecs * 1000)),
          clock,
          logger: this.#log.child({ component: 'endpoint-status-reporter' }),
        });
      } else {
        // Calico keeps no endpoint status in the Kubernetes datastore either; here it goes to etcd only.
        this.#log.warn({}, 'EndpointReportingEnabled has no effect: no etcd to write endpoint statuses to (set FELIX_ETCDENDPOINTS)');
      }
    }
    const statusStore = config.ReportingIntervalSecs > 0 ? (deps.statusStore ? deps.statusStore(config) : this.#etcd) : undefined;
    if (statusStore) {
      this.#statusStore = statusStore;
      this.reporter = new StatusReporter({
        store: statusStore,
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
      ...(this.dataplane.stats ? { dataplane: this.dataplane.stats() } : {}),
      ...(this.endpointReporter ? { endpointStatus: this.endpointReporter.stats() } : {}),
    };
  }

  /** The ports the health and metrics servers listen on now (useful with port 0). */
  ports(): FelixPorts {
    const ports: FelixPorts = {};
    const health = this.#servers.get('health');
    const metrics = this.#servers.get('metrics');
    if (health) ports.healthPort = health.endpoint.port;
    if (metrics) ports.metricsPort = metrics.endpoint.port;
    return ports;
  }

  /** Resolves once the servers match the configuration as it is now (after a FelixConfiguration change). */
  async serversSettled(): Promise<FelixPorts> {
    await this.#serverWork;
    return this.ports();
  }

  async start(): Promise<FelixPorts> {
    this.#serving = true;
    // In the server queue, so a FelixConfiguration that arrives meanwhile is applied after it.
    const opening = this.#serverWork.then(async () => {
      for (const name of ['health', 'metrics'] as const) await this.#openServer(name, this.#config);
    });
    this.#serverWork = opening.catch(() => undefined);
    try {
      // At start a server that cannot listen stops Felix (a wrong env or file value); later, a
      // datastore value that cannot be served is logged and the server stays closed.
      await opening;
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.dataplane.start?.();
    this.#client.start();
    this.reporter?.start();
    this.endpointReporter?.start();
    return this.ports();
  }

  async stop(): Promise<void> {
    this.#serving = false;
    await this.reporter?.close();
    await this.endpointReporter?.close();
    if (this.#statusStore !== this.#etcd) this.#statusStore?.close?.();
    this.#etcd?.close();
    await this.#client.close();
    this.dataplane.close?.();
    await this.#serverWork;
    await Promise.all([...this.#servers.values()].map((s) => s.endpoint.close()));
    this.#servers.clear();
  }

  async #openServer(name: ServerName, c: FelixConfig): Promise<void> {
    const addr = serverAddress(name, c);
    if (!addr) return;
    const endpoint = await serveRoutes(addr.host, addr.port, this.#routes[name]);
    this.#servers.set(name, { key: `${addr.host}:${addr.port}`, endpoint });
    this.#log.info({ server: name, host: addr.host, port: endpoint.port }, `serving ${name}`);
  }

  /** Closes and reopens a server whose address changed; opens or closes one enabled or disabled. */
  async #reconcileServer(name: ServerName, c: FelixConfig): Promise<void> {
    if (!this.#serving) return;
    const addr = serverAddress(name, c);
    const want = addr ? `${addr.host}:${addr.port}` : undefined;
    const have = this.#servers.get(name);
    if (have?.key === want) return;
    if (have) {
      this.#servers.delete(name);
      await have.endpoint.close();
      this.#log.info({ server: name, port: have.endpoint.port }, `stopped serving ${name}`);
    }
    try {
      await this.#openServer(name, c);
    } catch (err) {
      this.#log.error({ err, server: name, host: addr?.host, port: addr?.port }, `cannot serve ${name} as configured; it stays closed`);
    }
  }

  /**
   * Logs the spec fields that changed and are not settings of ours (those are logged above): the
   * dataplane's, applied at its next apply unless env or the file pins them, and the ones this
   * Felix does not honour, so an operator sees that e.g. bpfEnabled had no effect.
   */
  #logSpecChanges(prevConfig: FelixConfig, nextConfig: FelixConfig, spec: Record<string, unknown>): void {
    const prev = this.#spec;
    this.#spec = spec;
    const before = dataplaneConfig(this.#layers, prevConfig, prev);
    const after = dataplaneConfig(this.#layers, nextConfig, spec);
    for (const field of [...new Set([...Object.keys(prev), ...Object.keys(spec)])].sort()) {
      if (JSON.stringify(prev[field]) === JSON.stringify(spec[field])) continue;
      const use = specFieldUse(field);
      if (use === 'not honoured') {
        this.#log.warn({ field, to: spec[field] }, 'FelixConfiguration field not honoured by this Felix; ignored');
      } else if (use === 'dataplane') {
        const pinned = JSON.stringify(before[field]) === JSON.stringify(after[field]);
        this.#log.info(
          { field, from: prev[field], to: spec[field], applied: pinned ? 'no: env or config file wins' : 'next dataplane apply' },
          'configuration changed',
        );
      }
    }
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
    const prev = this.#config;
    const changed = changedParams(prev, next);
    this.#config = next;
    for (const param of changed) {
      const applied = howApplied(param);
      if (applied === 'restart required') {
        if (next[param] === this.startConfig[param]) this.#restartRequired.delete(param);
        else {
          this.#restartRequired.add(param);
          this.#log.warn({ param, running: this.startConfig[param], configured: next[param] }, 'configuration changed: restart required');
        }
      } else {
        this.#log.info({ param, from: prev[param], to: next[param], applied }, 'configuration changed');
      }
    }
    this.#logSpecChanges(prev, next, spec);
    if (changed.includes('LogSeverityScreen')) this.#setLogLevel?.(next.LogSeverityScreen);
    if (refreshIntervalMs(prev) !== refreshIntervalMs(next)) this.dataplane.setRefreshInterval?.(refreshIntervalMs(next));
    for (const name of ['health', 'metrics'] as const) {
      if (SERVER_PARAMS[name].some((p) => changed.includes(p))) {
        this.#serverWork = this.#serverWork.then(() => this.#reconcileServer(name, next));
      }
    }
  }
}

/**
 * Typha's configuration under Calico's names: `TYPHA_<NAME>` environment variables
 * (case-insensitive, as Calico's config loader) and the same names as `--kebab-case` flags,
 * flags winning. Validated once at start; a bad value stops the process with a message naming
 * the parameter and what is allowed. Parameters that Calico's Typha has keep its names and
 * defaults; the ones we add (batching window, tombstone retention, rebalancing) say so.
 */
import { envSource, flagSource, loadConfig, redactConfig, type ConfigIssue, ConfigError, type ParamTable } from '@cattail/api';
import { SNAPSHOT_DEFLATE_LEVEL } from './protocol/compressed.js';

export const TYPHA_PARAMS = {
  DatastoreType: {
    type: 'enum',
    default: 'etcdv3',
    values: ['etcdv3', 'kubernetes'],
    help: 'Datastore: etcdv3, or kubernetes (the API server: Calico CRDs and the Kubernetes objects Calico derives from)',
  },
  Kubeconfig: {
    type: 'string',
    default: '',
    help: 'kubeconfig file for DatastoreType=kubernetes (default: KUBECONFIG, ~/.kube/config, else the in-cluster service account)',
  },
  EtcdEndpoints: { type: 'list', default: ['http://127.0.0.1:2379'], help: 'Comma-separated etcd URLs' },
  EtcdCaFile: { type: 'string', default: '', help: 'CA bundle for etcd TLS' },
  EtcdCertFile: { type: 'string', default: '', help: 'Client certificate for etcd TLS' },
  EtcdKeyFile: { type: 'string', default: '', help: 'Client key for etcd TLS' },
  EtcdUsername: { type: 'string', default: '', help: 'etcd user (auth enabled)' },
  EtcdPassword: { type: 'string', default: '', secret: true, help: 'etcd password' },

  ServerHost: { type: 'string', default: '0.0.0.0', help: 'Address the sync server listens on (ours)' },
  ServerPort: { type: 'int', default: 5473, min: 0, max: 65535, help: 'Sync server port (0: pick a free one)' },
  ServerAdvertiseAddr: { type: 'string', default: '', help: 'host:port other replicas and clients reach this one at (ours; default: hostname:port)' },
  ServerListenBacklog: {
    type: 'int',
    default: 4096,
    min: 1,
    max: 65535,
    help: 'Pending connections the kernel may queue during a connect storm (ours; capped by net.core.somaxconn)',
  },
  FanoutWorkers: {
    type: 'int',
    default: 0,
    min: 0,
    max: 256,
    help: 'Processes that accept the clients\' connections, hold their sockets and write to them, so one replica uses every core it is given; the watch, cache, encoding and every decision stay in the main process. 1: none, the main process writes itself. 0: one per CPU the replica is given (its CPU affinity and cgroup CPU limit) beside the main process\'s, and at most one per 1,000 of MaxConnectionsUpperLimit, started one at a time, another per 1,000 connections held; 1 on two CPUs. K > 1: K started at once (ours; see docs/DESIGN.md, "Fan-out workers")',
  },
  MaxConnectionsUpperLimit: { type: 'int', default: 10000, min: 1, max: 1000000, help: 'Connections beyond this are refused with a hint' },
  MaxConnectionsPerSource: {
    type: 'int',
    default: 1000,
    min: 0,
    max: 1000000,
    help: 'TCP connections from one source address at once, pending and established; more are refused at accept (HTTP 429; TLS: closed) and counted in typha_connections_rejected{reason="per-source"}. 0: no limit. Large because agents may share a NAT address: at ~200 nodes per replica with felix and confd, a whole cluster behind one address is ~400 (ours)',
  },
  MaxPendingHandshakes: {
    type: 'int',
    default: 2000,
    min: 0,
    max: 1000000,
    help: 'Connections accepted but not past their hello yet (TLS handshake, HTTP upgrade, WebSocket without hello), in total; more are refused at accept (HTTP 503; TLS: closed) and counted in typha_connections_rejected{reason="pending-handshakes"}. 0: no limit (ours)',
  },
  ServerUpgradeTimeoutSecs: {
    type: 'seconds',
    default: 10,
    min: 0.01,
    max: 600,
    help: 'From accept to a complete WebSocket upgrade request, TLS handshake included (slowloris, silent sockets); then HTTP 408 (TLS: closed), counted as reason="upgrade-timeout" (ours)',
  },
  ServerHandshakeTimeoutSecs: { type: 'seconds', default: 10, min: 0.01, max: 600, help: 'From upgrade to hello; also bounds the TLS handshake' },
  ServerPingIntervalSecs: { type: 'seconds', default: 10, min: 0.01, max: 600, help: 'Server→client ping interval' },
  ServerPongTimeoutSecs: { type: 'seconds', default: 60, min: 0.02, max: 3600, help: 'Close a client silent this long' },
  ServerMaxFallBehindSecs: { type: 'seconds', default: 300, min: 0.01, max: 86400, help: 'Close a client lagging this long (TooSlow)' },
  ServerNewClientFallBehindGracePeriod: {
    type: 'seconds',
    default: 300,
    min: 0,
    max: 86400,
    help: 'A new client is not closed for lag during its initial sync nor for this long after its InSync (typha_connections_grace_used counts those it saved); its lag counts from the start of its sync',
  },
  ServerMinBatchingAgeThresholdSecs: {
    type: 'seconds',
    default: 0.01,
    min: 0,
    max: 1,
    help: 'How long a delta may wait to be batched with others: the batching window, once for all clients (Calico: batch only for a client this far behind). Same as ServerBatchWindowMs; give one',
  },
  ServerMaxMessageSize: {
    type: 'int',
    default: 1000,
    min: 1,
    max: 100000,
    help: 'Distinct keys in one live delta batch at most; more flush it at once (Calico: KVs per message, default 100)',
  },
  ServerMaxBufferedBytes: { type: 'int', default: 1048576, min: 1024, max: 1073741824, help: 'Per-client socket buffer high-water mark (ours)' },
  ServerFanoutChunk: {
    type: 'int',
    default: 512,
    min: 0,
    max: 1000000,
    help: 'Live clients the fan-out sweep writes to per event-loop turn before it yields to the watch, batching and pings (ours; see server/fan-out.ts)',
  },
  ServerFanoutSweepMinClients: {
    type: 'int',
    default: 4096,
    min: 0,
    max: 1000000,
    help: 'The fan-out sweep yields between chunks only for a syncer with at least this many live clients; fewer are written whole per batch (ours; see server/fan-out.ts)',
  },
  ServerBatchWindowMs: {
    type: 'int',
    default: 10,
    min: 0,
    max: 1000,
    help: 'Delta batching window in ms (ours; Calico’s name is ServerMinBatchingAgeThresholdSecs, which sets this when given)',
  },
  ServerCompressSnapshots: {
    type: 'bool',
    default: true,
    help: 'Send snapshot pages DEFLATE-compressed once per revision to clients that offer deflate-snapshot (ours)',
  },
  BGPSyncerWorkloadEndpoints: {
    type: 'bool',
    default: false,
    help: "Send WorkloadEndpoints on the bgp syncer, for confd's localWorkloadSelector peerings (ours; every pod change then reaches every confd)",
  },
  ServerCompressDeltas: {
    type: 'bool',
    default: true,
    help: 'Send delta batches DEFLATE-compressed once per batch, with a dictionary of the syncer’s key space sent once per connection, to clients that offer deflate-deltas (ours)',
  },
  SnapshotCacheMaxBatchSize: { type: 'int', default: 500, min: 1, max: 100000, help: 'Updates per snapshot page' },
  SnapshotDeflateLevel: {
    type: 'int',
    default: SNAPSHOT_DEFLATE_LEVEL,
    min: 1,
    max: 9,
    help: 'DEFLATE level of the snapshot pages compressed once per revision for deflate-snapshot clients: higher sends fewer bytes to every client for more CPU once per page (ours)',
  },
  DeltaRetentionSecs: { type: 'seconds', default: 600, min: 0, max: 86400, help: 'How long deletions are kept for resume (ours)' },
  MaxTombstones: { type: 'int', default: 100000, min: 0, max: 10000000, help: 'Deletions kept for resume (ours)' },
  DeltaLogMaxBatches: {
    type: 'int',
    default: 10000,
    min: 0,
    max: 1000000,
    help: 'Encoded delta batches kept for replay to resuming or lagging clients (ours)',
  },

  CAFile: { type: 'string', default: '', help: 'CA that signs client certificates (enables mutual TLS)' },
  ServerCertFile: { type: 'string', default: '', help: 'Server certificate (PEM)' },
  ServerKeyFile: { type: 'string', default: '', help: 'Server key (PEM)' },
  ClientCN: { type: 'string', default: '', help: 'Accepted client certificate CN' },
  ClientURISAN: { type: 'string', default: '', help: 'Accepted client certificate URI SAN' },

  HealthEnabled: { type: 'bool', default: false, help: 'Serve /liveness, /readiness, /status' },
  HealthHost: { type: 'string', default: 'localhost', help: 'Health server address' },
  HealthPort: { type: 'int', default: 9098, min: 0, max: 65535, help: 'Health server port' },
  PrometheusMetricsEnabled: { type: 'bool', default: false, help: 'Serve Prometheus /metrics' },
  PrometheusMetricsHost: { type: 'string', default: '', help: 'Metrics server address (default all)' },
  PrometheusMetricsPort: { type: 'int', default: 9093, min: 0, max: 65535, help: 'Metrics server port' },

  LogSeverityScreen: { type: 'enum', default: 'Info', values: ['Debug', 'Info', 'Warning', 'Error', 'Fatal'], help: 'Log level' },
  ShutdownTimeoutSecs: { type: 'seconds', default: 300, min: 0, max: 86400, help: 'SIGTERM: hand clients off over this long' },
  ShutdownConnectionDropIntervalMaxSecs: { type: 'seconds', default: 1, min: 0, max: 3600, help: 'SIGTERM: at most this between two client hand-offs' },

  ConnectionRebalancingMode: {
    type: 'enum',
    default: 'auto',
    values: ['auto', 'etcd', 'kubernetes', 'none'],
    help: "How replicas find each other to balance load (ours): etcd leases, or Lease objects in K8sNamespace; auto is the datastore's own",
  },
  K8sNamespace: { type: 'string', default: 'kube-system', help: "Namespace of the replicas' Lease objects (ConnectionRebalancingMode kubernetes)" },
  RebalanceIntervalSecs: { type: 'seconds', default: 5, min: 0.05, max: 3600, help: 'How often load is compared and excess shed (ours)' },
  RebalanceMaxShedPerInterval: { type: 'int', default: 10, min: 1, max: 100000, help: 'Clients shed per interval at most (gradual; ours)' },
  RebalanceTolerance: { type: 'float', default: 0.1, min: 0, max: 10, help: 'Shed only above target × (1 + tolerance) (ours)' },
  RegistrationTTLSecs: {
    type: 'int',
    default: 15,
    min: 2,
    max: 3600,
    help: 'Lifetime of this replica’s registration: etcd lease TTL, or the Lease’s duration (ours)',
  },
} as const satisfies ParamTable;

export type TyphaConfig = {
  readonly [K in keyof typeof TYPHA_PARAMS]: (typeof TYPHA_PARAMS)[K]['type'] extends 'int' | 'float' | 'seconds'
    ? number
    : (typeof TYPHA_PARAMS)[K]['type'] extends 'bool'
      ? boolean
      : (typeof TYPHA_PARAMS)[K]['type'] extends 'list'
        ? readonly string[]
        : string;
};

/** Reads env then flags (flags win). Throws ConfigError listing every bad value. */
export function loadTyphaConfig(env: Readonly<Record<string, string | undefined>>, argv: readonly string[] = []): TyphaConfig {
  const flags = flagSource(TYPHA_PARAMS, argv);
  const issues: ConfigIssue[] = [...flags.issues];
  for (const extra of flags.rest) issues.push({ param: extra, source: 'flags', message: 'unexpected argument' });
  if (issues.length) throw new ConfigError(issues);
  const sources = [envSource(TYPHA_PARAMS, 'TYPHA_', env), flags.source];
  const config = resolveAliases(loadConfig<TyphaConfig>(TYPHA_PARAMS, sources), sources);
  const otherStore = config.DatastoreType === 'kubernetes' ? 'etcd' : 'kubernetes';
  if (config.ConnectionRebalancingMode === otherStore) {
    throw new ConfigError([
      {
        param: 'ConnectionRebalancingMode',
        source: 'config',
        message: `replicas register in the datastore: mode ${otherStore} needs DatastoreType=${otherStore === 'etcd' ? 'etcdv3' : 'kubernetes'} (use auto)`,
      },
    ]);
  }
  if ((config.ServerCertFile === '') !== (config.ServerKeyFile === '')) {
    throw new ConfigError([{ param: 'ServerCertFile', source: 'config', message: 'ServerCertFile and ServerKeyFile go together' }]);
  }
  if (config.CAFile && !config.ServerCertFile) {
    throw new ConfigError([{ param: 'CAFile', source: 'config', message: 'client certificate checks need ServerCertFile and ServerKeyFile' }]);
  }
  if (config.CAFile && !config.ClientCN && !config.ClientURISAN) {
    throw new ConfigError([{ param: 'ClientCN', source: 'config', message: 'with CAFile set, ClientCN or ClientURISAN must say which clients to accept' }]);
  }
  return config;
}

/**
 * Calico's ServerMinBatchingAgeThresholdSecs and our ServerBatchWindowMs set the same window:
 * the one given wins (the result's ServerBatchWindowMs is the window used); both, disagreeing,
 * is an error rather than a silent choice.
 */
function resolveAliases(config: TyphaConfig, sources: readonly { values: Readonly<Record<string, string>> }[]): TyphaConfig {
  const given = (name: keyof TyphaConfig) => sources.some((s) => s.values[name] !== undefined);
  if (!given('ServerMinBatchingAgeThresholdSecs')) return config;
  const windowMs = Math.round(config.ServerMinBatchingAgeThresholdSecs * 1000);
  if (given('ServerBatchWindowMs') && config.ServerBatchWindowMs !== windowMs) {
    throw new ConfigError([
      {
        param: 'ServerMinBatchingAgeThresholdSecs',
        source: 'config',
        message: `sets the batching window like ServerBatchWindowMs, which says ${config.ServerBatchWindowMs} ms, not ${windowMs} ms: give one`,
      },
    ]);
  }
  return Object.freeze({ ...config, ServerBatchWindowMs: windowMs });
}

export function loggableTyphaConfig(config: TyphaConfig): Record<string, unknown> {
  return redactConfig(TYPHA_PARAMS, config);
}

/**
 * kube-controllers' configuration, read as calico-kube-controllers reads it: environment
 * variables under Calico's names where Calico has one (`DATASTORE_TYPE`, `KUBECONFIG`,
 * `ENABLED_CONTROLLERS`, `LOG_LEVEL`, `HEALTH_ENABLED`, `KUBE_CONTROLLERS_CONFIG_NAME`), ours
 * beside them for what Calico lacks (leader election, health port, the leak grace period
 * override for tests), and the same names as `--kebab-case` flags (flags win). Validated once,
 * frozen.
 *
 * Calico takes the node controller's `leakGracePeriod` and `reconcilerPeriod` and the metrics
 * port from the KubeControllersConfiguration resource; so do we (the controller reads it on every
 * sweep), and `LEAK_GRACE_PERIOD` / `RECONCILER_PERIOD`, when set, override it.
 *
 * Controllers: Calico's names. On the Kubernetes datastore only `node` applies (Calico refuses the
 * others there too: the API server already has the namespaces, service accounts and policies).
 * On etcd (`etcdv3`), `namespace`, `serviceaccount` and `policy` copy those Kubernetes objects
 * into etcd as Profiles and policies, and `workloadendpoint` copies pod labels onto the CNI
 * plugin's endpoints. The Kubernetes API (KUBECONFIG) is needed in both modes: the Lease, the
 * pods and the nodes live there.
 */
import {
  ConfigError,
  durationMillis,
  flagSource,
  loadConfig,
  namedEnvSource,
  redactConfig,
  type ConfigIssue,
  type ConfigOf,
  type ParamTable,
} from '@cattail/api';

export const KUBE_CONTROLLERS_PARAMS = {
  DatastoreType: {
    type: 'enum',
    default: 'kubernetes',
    values: ['kubernetes', 'etcdv3'],
    env: 'DATASTORE_TYPE',
    help: 'Datastore: kubernetes (KDD) or etcdv3',
  },
  Kubeconfig: { type: 'string', default: '', env: 'KUBECONFIG', help: 'kubeconfig file (default: in-cluster, or ~/.kube/config)' },
  EtcdEndpoints: { type: 'list', default: ['http://127.0.0.1:2379'], env: 'ETCD_ENDPOINTS', help: 'etcd endpoints (DATASTORE_TYPE etcdv3), comma-separated' },
  EtcdCaFile: { type: 'string', default: '', env: 'ETCD_CA_CERT_FILE', help: 'CA of etcd’s certificate' },
  EtcdCertFile: { type: 'string', default: '', env: 'ETCD_CERT_FILE', help: 'Client certificate for etcd' },
  EtcdKeyFile: { type: 'string', default: '', env: 'ETCD_KEY_FILE', help: 'Client key for etcd' },
  EtcdUsername: { type: 'string', default: '', env: 'ETCD_USERNAME', help: 'etcd user' },
  EtcdPassword: { type: 'string', default: '', env: 'ETCD_PASSWORD', secret: true, help: 'etcd password' },
  EnabledControllers: {
    type: 'list',
    default: [],
    env: 'ENABLED_CONTROLLERS',
    help: 'Controllers to run, comma-separated (Calico names: node, workloadendpoint, serviceaccount, namespace, policy); default node on kubernetes, all five on etcdv3',
  },
  KubeControllersConfigName: {
    type: 'string',
    default: 'default',
    env: 'KUBE_CONTROLLERS_CONFIG_NAME',
    help: 'The KubeControllersConfiguration read for leakGracePeriod and reconcilerPeriod',
  },
  ReconcilerPeriod: { type: 'string', default: '', env: 'RECONCILER_PERIOD', help: 'IPAM sweep period, a Go duration (overrides the resource; default 5m)' },
  LeakGracePeriod: {
    type: 'string',
    default: '',
    env: 'LEAK_GRACE_PERIOD',
    help: 'How long an address must look leaked before it is released, a Go duration (overrides the resource; default 15m)',
  },

  AutoHostEndpoints: {
    type: 'enum',
    default: '',
    values: ['', 'enabled', 'disabled'],
    env: 'AUTO_HOST_ENDPOINTS',
    help: 'Node controller: a HostEndpoint <node>-auto-hep for every node (overrides the resource’s spec.controllers.node.hostEndpoint.autoCreate; default Disabled)',
  },
  SyncNodeLabels: {
    type: 'bool',
    default: true,
    env: 'SYNC_NODE_LABELS',
    help: 'etcd datastore, node controller: copy each Kubernetes Node’s labels onto its Calico Node (labels set on the Calico Node by hand are kept)',
  },
  CompactionPeriod: {
    type: 'string',
    default: '',
    env: 'COMPACTION_PERIOD',
    help: 'etcd datastore: compact etcd history this often, keeping at least one period, a Go duration; 0 off (overrides the resource’s etcdV3CompactionPeriod; default 10m)',
  },
  LeaderElection: { type: 'bool', default: true, env: 'LEADER_ELECTION', help: 'Run the controllers only while holding the Lease' },
  LeaseNamespace: { type: 'string', default: 'kube-system', env: 'LEADER_ELECTION_NAMESPACE', help: 'Namespace of the Lease' },
  LeaseName: { type: 'string', default: 'cattail-kube-controllers', env: 'LEADER_ELECTION_LEASE_NAME', help: 'Name of the Lease' },
  LeaseDurationSecs: {
    type: 'seconds',
    default: 15,
    min: 1,
    max: 3600,
    env: 'LEADER_ELECTION_LEASE_DURATION',
    help: 'A Lease not renewed for this long is free',
  },
  RenewDeadlineSecs: {
    type: 'seconds',
    default: 10,
    min: 0.1,
    max: 3600,
    env: 'LEADER_ELECTION_RENEW_DEADLINE',
    help: 'The leader steps down when it could not renew for this long',
  },
  RetryPeriodSecs: {
    type: 'seconds',
    default: 2,
    min: 0.05,
    max: 600,
    env: 'LEADER_ELECTION_RETRY_PERIOD',
    help: 'Renew (leader) or try to acquire (others) this often',
  },
  Identity: { type: 'string', default: '', env: 'POD_NAME', help: 'This instance in the Lease (default: host name and a random suffix)' },

  HealthEnabled: { type: 'bool', default: true, env: 'HEALTH_ENABLED', help: 'Serve /liveness, /readiness, /status' },
  HealthHost: { type: 'string', default: '', env: 'HEALTH_HOST', help: 'Health server address (default all)' },
  HealthPort: { type: 'int', default: 9095, min: 0, max: 65535, env: 'HEALTH_PORT', help: 'Health server port' },
  PrometheusMetricsPort: {
    type: 'int',
    default: 9094,
    min: 0,
    max: 65535,
    env: 'PROMETHEUS_METRICS_PORT',
    help: 'Prometheus /metrics port (Calico: KubeControllersConfiguration prometheusMetricsPort)',
  },
  PrometheusMetricsEnabled: { type: 'bool', default: true, env: 'PROMETHEUS_METRICS_ENABLED', help: 'Serve Prometheus /metrics' },
  PrometheusMetricsHost: { type: 'string', default: '', env: 'PROMETHEUS_METRICS_HOST', help: 'Metrics server address (default all)' },

  LogSeverityScreen: { type: 'enum', default: 'Info', values: ['Debug', 'Info', 'Warning', 'Error', 'Fatal'], env: 'LOG_LEVEL', help: 'Log level' },
} as const satisfies ParamTable;

export type KubeControllersConfig = ConfigOf<typeof KUBE_CONTROLLERS_PARAMS>;

export const CALICO_CONTROLLERS = ['node', 'workloadendpoint', 'serviceaccount', 'namespace', 'policy'] as const;
/** The controllers that copy Kubernetes objects into etcd: nothing to do on the Kubernetes datastore. */
export const ETCD_ONLY_CONTROLLERS: readonly string[] = ['workloadendpoint', 'namespace', 'serviceaccount', 'policy'];

type Env = Readonly<Record<string, string | undefined>>;

/** Environment (the names above), then flags. Throws ConfigError listing every problem. */
export function loadKubeControllersConfig(env: Env, argv: readonly string[] = []): KubeControllersConfig {
  const flags = flagSource(KUBE_CONTROLLERS_PARAMS, argv);
  const issues: ConfigIssue[] = [...flags.issues];
  for (const extra of flags.rest) issues.push({ param: extra, source: 'flags', message: 'unexpected argument' });
  if (issues.length) throw new ConfigError(issues);
  const loaded = loadConfig<KubeControllersConfig>(KUBE_CONTROLLERS_PARAMS, [namedEnvSource(KUBE_CONTROLLERS_PARAMS, env), flags.source]);
  const etcd = loaded.DatastoreType === 'etcdv3';
  const config: KubeControllersConfig = {
    ...loaded,
    EnabledControllers:
      loaded.EnabledControllers.length > 0
        ? loaded.EnabledControllers
        : etcd
          ? ['node', 'namespace', 'serviceaccount', 'policy', 'workloadendpoint']
          : ['node'],
  };
  const add = (param: string, message: string) => issues.push({ param, source: 'config', message });
  for (const c of config.EnabledControllers) {
    if (!(CALICO_CONTROLLERS as readonly string[]).includes(c)) add('EnabledControllers', `"${c}" is not a controller: use ${CALICO_CONTROLLERS.join(', ')}`);
    else if (!etcd && ETCD_ONLY_CONTROLLERS.includes(c)) {
      add('EnabledControllers', `"${c}" does not apply to the Kubernetes datastore (it syncs Kubernetes objects into etcd): use node`);
    }
  }
  if (etcd && config.EtcdEndpoints.length === 0) add('EtcdEndpoints', 'is required with DATASTORE_TYPE etcdv3: set ETCD_ENDPOINTS');
  for (const p of ['ReconcilerPeriod', 'LeakGracePeriod'] as const) {
    if (config[p] !== '' && durationMillis(config[p]) === undefined) add(p, `"${config[p]}" is not a duration: use e.g. 90s, 15m, 1h`);
  }
  if (config.RenewDeadlineSecs >= config.LeaseDurationSecs) add('RenewDeadlineSecs', `must be below LeaseDurationSecs (${config.LeaseDurationSecs})`);
  if (config.RetryPeriodSecs >= config.RenewDeadlineSecs) add('RetryPeriodSecs', `must be below RenewDeadlineSecs (${config.RenewDeadlineSecs})`);
  if (issues.length) throw new ConfigError(issues);
  return Object.freeze({ ...config });
}

export function loggableKubeControllersConfig(config: KubeControllersConfig): Record<string, unknown> {
  return redactConfig(KUBE_CONTROLLERS_PARAMS, config);
}

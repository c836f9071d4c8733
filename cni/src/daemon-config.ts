/**
 * `cattail cni-daemon`'s configuration: `CNI_DAEMON_<NAME>` environment variables
 * (case-insensitive), the socket also as CATTAIL_CNI_DAEMON_SOCKET (the variable the shim reads,
 * so one setting moves both), and the same names as `--kebab-case` flags; flags win. Validated
 * once at start and frozen.
 *
 * The health and metrics servers are off unless enabled (as Felix's and confd's); their ports
 * default to 9089 and 9088, beside Felix's 9099/9091, Typha's 9098/9093, confd's 9097/9096 and
 * kube-controllers' 9095, so all of them run on one host.
 */
import { ConfigError, envSource, flagSource, loadConfig, namedEnvSource, redactConfig, type ConfigIssue, type ConfigOf, type ParamTable } from '@cattail/api';
import { DAEMON_SOCKET_ENV, DEFAULT_DAEMON_SOCKET } from './daemon-protocol.js';

export const CNI_DAEMON_PARAMS = {
  Socket: {
    type: 'string',
    default: DEFAULT_DAEMON_SOCKET,
    env: DAEMON_SOCKET_ENV,
    help: `The unix socket the CNI shim connects to (also ${DAEMON_SOCKET_ENV}); its directory is created 0700, the socket is 0600`,
  },
  DrainTimeoutSecs: {
    type: 'seconds',
    default: 8,
    min: 0,
    max: 3600,
    help: 'On SIGTERM: wait this long for the calls being served before closing the datastores (below the pod’s grace period)',
  },
  ManageKubeconfig: {
    type: 'string',
    default: '',
    help: 'Kubernetes datastore: the CNI kubeconfig (its host path) whose token this daemon renews through the TokenRequest API, as calico-node does; empty: not managed',
  },
  KubeconfigTokenValiditySecs: {
    type: 'seconds',
    default: 86400,
    min: 600,
    max: 31536000,
    help: 'Validity of each token written into ManageKubeconfig (renewed a quarter of the way to its expiry)',
  },
  HealthEnabled: { type: 'bool', default: false, help: 'Serve /liveness, /readiness, /status' },
  HealthHost: { type: 'string', default: 'localhost', help: 'Health server address' },
  HealthPort: { type: 'int', default: 9089, min: 0, max: 65535, help: 'Health server port' },
  PrometheusMetricsEnabled: { type: 'bool', default: false, help: 'Serve Prometheus /metrics' },
  PrometheusMetricsHost: { type: 'string', default: '', help: 'Metrics server address (default all)' },
  PrometheusMetricsPort: { type: 'int', default: 9088, min: 0, max: 65535, help: 'Metrics server port' },
  LogSeverityScreen: {
    type: 'enum',
    default: 'Info',
    values: ['Debug', 'Info', 'Warning', 'Error', 'Fatal'],
    help: 'The daemon’s own log level (each call logs at its netconf’s log_level)',
  },
} as const satisfies ParamTable;

export type CniDaemonConfig = ConfigOf<typeof CNI_DAEMON_PARAMS>;

type Env = Readonly<Record<string, string | undefined>>;

/** CATTAIL_CNI_DAEMON_SOCKET, then CNI_DAEMON_*, then flags (later wins). Throws ConfigError listing every bad value. */
export function loadCniDaemonConfig(env: Env, argv: readonly string[] = []): CniDaemonConfig {
  const flags = flagSource(CNI_DAEMON_PARAMS, argv);
  const issues: ConfigIssue[] = [...flags.issues];
  for (const extra of flags.rest) issues.push({ param: extra, source: 'flags', message: 'unexpected argument' });
  if (issues.length) throw new ConfigError(issues);
  const config = loadConfig<CniDaemonConfig>(CNI_DAEMON_PARAMS, [
    namedEnvSource(CNI_DAEMON_PARAMS, env),
    envSource(CNI_DAEMON_PARAMS, 'CNI_DAEMON_', env),
    flags.source,
  ]);
  if (!config.Socket.startsWith('/')) issues.push({ param: 'Socket', source: 'config', message: `"${config.Socket}" is not an absolute path` });
  if (config.ManageKubeconfig !== '' && !config.ManageKubeconfig.startsWith('/')) {
    issues.push({ param: 'ManageKubeconfig', source: 'config', message: `"${config.ManageKubeconfig}" is not an absolute path` });
  }
  if (issues.length) throw new ConfigError(issues);
  return Object.freeze({ ...config });
}

export function loggableCniDaemonConfig(config: CniDaemonConfig): Record<string, unknown> {
  return redactConfig(CNI_DAEMON_PARAMS, config);
}

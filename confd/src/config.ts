/**
 * confd's configuration: `CONFD_<NAME>` environment variables (case-insensitive) and the same
 * names as `--kebab-case` flags, flags winning; validated once at start and frozen.
 *
 * Like Calico's confd inside calico/node, a few settings are shared with the rest of the node
 * and are also read under their Calico names, below any CONFD_ value:
 *
 *   NodeName      NODENAME, then CALICO_NODENAME (calico/node's), else the host name
 *   Typha*        FELIX_TYPHAADDR, FELIX_TYPHACAFILE, … (calico/node gives Felix and confd one
 *                 Typha configuration)
 *
 * Paths and the socket default to calico/node's: /etc/calico/confd/config/bird.cfg and
 * /var/run/calico/bird.ctl. Health and metrics ports default to 9097 and 9096, beside Felix's
 * 9099/9091 and Typha's 9098/9093 so all of them can run on one host.
 */
import { ConfigError, parseIP, envSource, flagSource, loadConfig, redactConfig, type ConfigIssue, type ConfigSource, type ParamTable } from '@cattail/api';

export const CONFD_PARAMS = {
  NodeName: { type: 'string', default: '', help: 'This node (also NODENAME / CALICO_NODENAME; default: the host name)' },
  RouterID: {
    type: 'string',
    default: '',
    help: 'BGP router id: an IPv4 address, "hash" (a stable hash of the node name), or empty for the node’s IPv4 BGP address (also CALICO_ROUTER_ID)',
  },

  TyphaAddr: {
    type: 'string',
    default: '',
    help: 'Typha address(es): host:port, comma-separated; a host name finds every address it resolves to (also FELIX_TYPHAADDR)',
  },
  TyphaK8sServiceName: { type: 'string', default: '', help: 'Without TyphaAddr: find Typha through this Kubernetes Service (also FELIX_TYPHAK8SSERVICENAME)' },
  TyphaK8sNamespace: { type: 'string', default: 'kube-system', help: 'Namespace of that Service (also FELIX_TYPHAK8SNAMESPACE)' },
  TyphaReadTimeoutSecs: { type: 'seconds', default: 30, min: 1, max: 3600, help: 'No frame from Typha for this long: reconnect' },
  TyphaCAFile: { type: 'string', default: '', help: 'CA that signed Typha’s certificate (enables TLS; also FELIX_TYPHACAFILE)' },
  TyphaCertFile: { type: 'string', default: '', help: 'Client certificate for Typha (also FELIX_TYPHACERTFILE)' },
  TyphaKeyFile: { type: 'string', default: '', help: 'Client key for Typha (also FELIX_TYPHAKEYFILE)' },
  TyphaCN: { type: 'string', default: '', help: 'Accept a Typha certificate with this CN (also FELIX_TYPHACN)' },
  TyphaURISAN: { type: 'string', default: '', help: 'Accept a Typha certificate with this URI SAN (also FELIX_TYPHAURISAN)' },

  BirdConfigFile: {
    type: 'string',
    default: '/etc/calico/confd/config/bird.cfg',
    help: 'The file BIRD is started with (bird -c); the candidate is written beside it',
  },
  BirdSocket: { type: 'string', default: '/var/run/calico/bird.ctl', help: 'BIRD’s control socket (bird -s)' },
  BirdBinary: { type: 'string', default: 'bird', help: 'bird, for `bird -p -c <candidate>`' },
  BirdcBinary: { type: 'string', default: 'birdc', help: 'birdc, for `birdc configure`' },
  BirdCommandTimeoutSecs: { type: 'seconds', default: 10, min: 0.1, max: 600, help: 'Upper bound for one bird -p or birdc call' },
  SecretsDir: { type: 'string', default: '/etc/calico/confd/secrets', help: 'BGP passwords: <dir>/<secret name>/<key> (a mounted Secret)' },
  DebounceMs: { type: 'int', default: 100, min: 0, max: 60000, help: 'Collect changes this long before rendering (ours)' },
  ReconcileIntervalSecs: { type: 'seconds', default: 30, min: 0, max: 86400, help: 'Re-render and retry failed reloads this often; 0: only on changes (ours)' },

  HealthEnabled: { type: 'bool', default: false, help: 'Serve /liveness, /readiness, /status' },
  HealthHost: { type: 'string', default: 'localhost', help: 'Health server address' },
  HealthPort: { type: 'int', default: 9097, min: 0, max: 65535, help: 'Health server port' },
  PrometheusMetricsEnabled: { type: 'bool', default: false, help: 'Serve Prometheus /metrics' },
  PrometheusMetricsHost: { type: 'string', default: '', help: 'Metrics server address (default all)' },
  PrometheusMetricsPort: { type: 'int', default: 9096, min: 0, max: 65535, help: 'Metrics server port' },

  LogSeverityScreen: { type: 'enum', default: 'Info', values: ['Debug', 'Info', 'Warning', 'Error', 'Fatal'], help: 'Log level' },
} as const satisfies ParamTable;

export type ConfdConfig = {
  readonly [K in keyof typeof CONFD_PARAMS]: (typeof CONFD_PARAMS)[K]['type'] extends 'int' | 'float' | 'seconds'
    ? number
    : (typeof CONFD_PARAMS)[K]['type'] extends 'bool'
      ? boolean
      : string;
};

type Env = Readonly<Record<string, string | undefined>>;

/** Calico's names for settings confd shares with calico/node, lowest precedence first. */
const CALICO_ALIASES: ReadonlyArray<readonly [param: keyof typeof CONFD_PARAMS, env: string]> = [
  ['NodeName', 'CALICO_NODENAME'],
  ['NodeName', 'NODENAME'],
  ['RouterID', 'CALICO_ROUTER_ID'],
  ['TyphaAddr', 'FELIX_TYPHAADDR'],
  ['TyphaK8sServiceName', 'FELIX_TYPHAK8SSERVICENAME'],
  ['TyphaK8sNamespace', 'FELIX_TYPHAK8SNAMESPACE'],
  ['TyphaCAFile', 'FELIX_TYPHACAFILE'],
  ['TyphaCertFile', 'FELIX_TYPHACERTFILE'],
  ['TyphaKeyFile', 'FELIX_TYPHAKEYFILE'],
  ['TyphaCN', 'FELIX_TYPHACN'],
  ['TyphaURISAN', 'FELIX_TYPHAURISAN'],
  ['TyphaReadTimeoutSecs', 'FELIX_TYPHAREADTIMEOUT'],
];

function calicoSource(env: Env): ConfigSource {
  const values: Record<string, string> = {};
  for (const [param, name] of CALICO_ALIASES) {
    const v = env[name];
    if (v !== undefined && v !== '') values[param] = v;
  }
  return { name: 'environment (Calico names)', values };
}

export interface LoadConfdOptions {
  /** The default node name (the host name). */
  hostname?: string;
}

/** Reads Calico names, then CONFD_*, then flags (later wins). Throws ConfigError listing every bad value. */
export function loadConfdConfig(env: Env, argv: readonly string[] = [], opts: LoadConfdOptions = {}): ConfdConfig {
  const flags = flagSource(CONFD_PARAMS, argv);
  const issues: ConfigIssue[] = [...flags.issues];
  for (const extra of flags.rest) issues.push({ param: extra, source: 'flags', message: 'unexpected argument' });
  if (issues.length) throw new ConfigError(issues);
  const loaded = loadConfig<ConfdConfig>(CONFD_PARAMS, [calicoSource(env), envSource(CONFD_PARAMS, 'CONFD_', env), flags.source]);
  const config = { ...loaded, NodeName: loaded.NodeName.trim() || (opts.hostname ?? '') };
  if (config.NodeName === '') issues.push({ param: 'NodeName', source: 'config', message: 'is required: set NODENAME or CONFD_NODENAME' });
  if (config.TyphaAddr.trim() === '' && config.TyphaK8sServiceName.trim() === '') {
    issues.push({
      param: 'TyphaAddr',
      source: 'config',
      message: 'is required unless TyphaK8sServiceName is set: set CONFD_TYPHAADDR (or FELIX_TYPHAADDR), e.g. 10.0.0.5:5473',
    });
  }
  if ((config.TyphaCertFile === '') !== (config.TyphaKeyFile === '')) {
    issues.push({ param: 'TyphaCertFile', source: 'config', message: 'TyphaCertFile and TyphaKeyFile go together' });
  }
  if (config.BirdConfigFile === '') issues.push({ param: 'BirdConfigFile', source: 'config', message: 'must not be empty' });
  const rid = config.RouterID.trim();
  if (rid !== '' && rid !== 'hash' && parseIP(rid)?.version !== 4) {
    issues.push({ param: 'RouterID', source: 'config', message: `"${rid}" is not an IPv4 address or "hash"` });
  }
  if (issues.length) throw new ConfigError(issues);
  return Object.freeze(config);
}

export function loggableConfdConfig(config: ConfdConfig): Record<string, unknown> {
  return redactConfig(CONFD_PARAMS, config);
}

/**
 * Felix's configuration, with Calico's precedence (highest first):
 *
 *   FELIX_<NAME> environment ─▶ config file (FELIX_CONFIGFILE) ─▶ FelixConfiguration
 *   `node.<node>` ─▶ FelixConfiguration `default` ─▶ built-in default
 *
 * The two FelixConfiguration layers arrive merged in the calc graph's ConfigUpdate (see
 * calc/config-calculator.ts); their keys are the camelCase spec fields (`logSeverityScreen`,
 * `routeRefreshInterval: "90s"`). The environment and file layers are read once at start
 * ({@link loadFelixLayers}); {@link resolveFelixConfig} puts a datastore spec under them. A bad
 * env or file value stops Felix at start; a bad datastore value is ignored (logged by the
 * caller), as Calico does, so one typo in a shared resource does not stop every node.
 *
 * The config file is Calico's felix.cfg format: INI-like `Name = value` lines, names
 * case-insensitive, `#` and `;` comments, `[section]` headers ignored.
 *
 * Settings in {@link RESTART_REQUIRED} are fixed for the life of the process (they choose and
 * wire the parts); when the datastore changes one, the daemon logs "restart required".
 * NodeName is FELIX_FELIXHOSTNAME, else NODENAME, else the host name (Calico's order). The etcd
 * settings for the status report are also read as calicoctl's ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, …
 */
import { readFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { parseNatPortRange } from './dataplane/nft-nat.js';
import { ConfigError, envSource, loadConfig, redactConfig, type ConfigIssue, type ConfigSource, type ParamTable } from '@cattail/api';

export const FELIX_PARAMS = {
  FelixHostname: { type: 'string', default: '', help: 'This node (also NODENAME; default: the host name)' },
  ConfigFile: { type: 'string', default: '', help: 'Optional felix.cfg (INI-like `Name = value`), between env and datastore (env/file only)' },
  DataplaneMode: { type: 'enum', default: 'linux', values: ['linux', 'dry-run'], help: 'linux: program routes and nftables; dry-run: compute only (ours)' },
  Netns: { type: 'string', default: '', help: 'Program the dataplane inside this named network namespace (lab and tests; ours)' },

  TyphaAddr: { type: 'string', default: '', help: 'Typha address(es): host:port, comma-separated; a host name finds every address it resolves to' },
  TyphaK8sServiceName: { type: 'string', default: '', help: 'Without TyphaAddr: find Typha through this Kubernetes Service' },
  TyphaK8sNamespace: { type: 'string', default: 'kube-system', help: 'Namespace of that Service' },
  TyphaReadTimeout: { type: 'seconds', default: 30, min: 1, max: 3600, help: 'No frame from Typha for this long: reconnect' },
  TyphaCAFile: { type: 'string', default: '', help: 'CA that signed Typha’s certificate (enables TLS)' },
  TyphaCertFile: { type: 'string', default: '', help: 'Client certificate for Typha' },
  TyphaKeyFile: { type: 'string', default: '', help: 'Client key for Typha' },
  TyphaCN: { type: 'string', default: '', help: 'Accept a Typha certificate with this CN' },
  TyphaURISAN: { type: 'string', default: '', help: 'Accept a Typha certificate with this URI SAN' },

  RouteRefreshInterval: {
    type: 'seconds',
    default: 90,
    min: 0.1,
    max: 86400,
    help: 'Drift repair: re-read and re-apply routes (and everything else) this often',
  },
  NftablesRefreshInterval: {
    type: 'seconds',
    default: 180,
    min: 0.1,
    max: 86400,
    help: 'Drift repair of our nftables table; one refresh checks everything, so it runs at the shorter of this and RouteRefreshInterval',
  },
  DataplaneDebounceMs: { type: 'int', default: 50, min: 0, max: 60000, help: 'Collect messages this long before an apply (ours)' },
  MTUFile: {
    type: 'string',
    default: '/var/lib/calico/mtu',
    help: 'Where the pod MTU is written for the CNI plugin ("" : not written; ours, Calico writes this path)',
  },

  HealthEnabled: { type: 'bool', default: false, help: 'Serve /liveness, /readiness, /status' },
  HealthHost: { type: 'string', default: 'localhost', help: 'Health server address' },
  HealthPort: { type: 'int', default: 9099, min: 0, max: 65535, help: 'Health server port' },
  PrometheusMetricsEnabled: { type: 'bool', default: false, help: 'Serve Prometheus /metrics' },
  PrometheusMetricsHost: { type: 'string', default: '', help: 'Metrics server address (default all)' },
  PrometheusMetricsPort: { type: 'int', default: 9091, min: 0, max: 65535, help: 'Metrics server port' },

  // Read by the dataplane from the merged FelixConfiguration; env and file values are laid over
  // it (dataplaneConfig) so they win there too. The defaults here only fill --help: the dataplane
  // applies Calico's default for a setting no layer sets.
  LogPrefix: { type: 'string', default: '', help: 'Prefix of nftables log lines (dataplane default "calico-packet")' },
  InterfacePrefix: { type: 'string', default: '', help: 'Workload interface name prefixes, comma-separated (dataplane default "cali")' },
  InterfaceExclude: {
    type: 'string',
    default: 'kube-ipvs0',
    help: 'Interfaces host endpoints are not applied on: names or /regex/ entries, comma-separated',
  },
  DefaultEndpointToHostAction: {
    type: 'enum',
    default: '',
    values: ['', 'Drop', 'Accept', 'Return'],
    help: 'Workload-to-host traffic after policy (dataplane default Drop)',
  },
  FailsafeInboundHostPorts: {
    type: 'string',
    default: '',
    help: 'Host ports always open inbound: proto:port or proto:net:port, comma-separated; "none" for none',
  },
  FailsafeOutboundHostPorts: { type: 'string', default: '', help: 'Host ports always open outbound, same format' },
  MTUIfacePattern: {
    type: 'string',
    default: '',
    help: "Uplinks whose smallest MTU sets the pod MTU (dataplane default: Calico's ^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*))",
  },
  NATPortRange: { type: 'string', default: '', help: 'Source ports for NAT outgoing of TCP and UDP, e.g. 32768:65535 (default: the kernel picks)' },
  NATOutgoingAddress: {
    type: 'string',
    default: '',
    help: 'IPv4 address to SNAT NAT-outgoing traffic to (default: masquerade to the outgoing interface address)',
  },
  NATOutgoingExclusions: {
    type: 'enum',
    default: '',
    values: ['', 'IPPoolsOnly', 'IPPoolsAndHostIPs'],
    help: 'Destinations NAT outgoing leaves alone: IPPoolsOnly (default) or IPPoolsAndHostIPs (also every node address)',
  },
  IptablesNATOutgoingInterfaceFilter: {
    type: 'string',
    default: '',
    help: 'Masquerade NAT-outgoing traffic only out of this interface (`+` as a trailing wildcard; default: any)',
  },
  VXLANMTU: { type: 'int', default: 0, min: 0, max: 65535, help: 'MTU of the VXLAN device and, with VXLAN, of pods (0: the uplink MTU less 50)' },
  VXLANEnabled: { type: 'bool', default: false, help: 'Force VXLAN on or off (unset: on when an IPv4 pool uses VXLAN, as in Calico)' },
  VXLANEnabledV6: { type: 'bool', default: false, help: 'Force IPv6 VXLAN on or off (unset: on when an IPv6 pool uses VXLAN, as in Calico)' },
  VXLANMTUV6: { type: 'int', default: 0, min: 0, max: 65535, help: 'MTU of vxlan-v6.calico and, with IPv6 VXLAN, of pods (0: the uplink MTU less 70)' },
  VXLANVNI: { type: 'int', default: 4096, min: 1, max: 16777215, help: 'VNI of vxlan.calico' },
  VXLANPort: { type: 'int', default: 4789, min: 1, max: 65535, help: 'UDP port of vxlan.calico' },
  AllowVXLANPacketsFromWorkloads: { type: 'bool', default: false, help: 'Let pods send UDP to the VXLAN port (dropped before policy otherwise)' },
  AllowIPIPPacketsFromWorkloads: { type: 'bool', default: false, help: 'Let pods send IP-in-IP packets (dropped before policy otherwise)' },
  DeviceRouteSourceAddress: { type: 'string', default: '', help: 'IPv4 source hint (src) on the routes to local pods' },
  DeviceRouteSourceAddressIPv6: { type: 'string', default: '', help: 'IPv6 source hint (src) on the routes to local pods' },
  RemoveExternalRoutes: { type: 'bool', default: true, help: 'Delete routes others put on workload interfaces' },
  DisableConntrackInvalidCheck: { type: 'bool', default: false, help: 'true: packets conntrack calls invalid are not dropped first' },
  ServiceLoopPrevention: {
    type: 'enum',
    default: 'Drop',
    values: ['Drop', 'Reject', 'Disabled'],
    help: 'Traffic to an advertised service range (BGPConfiguration default) that nothing DNATed: dropped, rejected, or let through',
  },
  ChainInsertMode: {
    type: 'enum',
    default: 'Insert',
    values: ['Insert', 'Append'],
    help: 'Insert: our nftables base chains run just before the standard priority of their hook; Append: just after',
  },
  IPForwarding: { type: 'enum', default: 'Enabled', values: ['Enabled', 'Disabled'], help: 'Disabled: leave the host-wide ip_forward sysctls alone' },
  Ipv6Support: { type: 'bool', default: true, help: 'false: program no IPv6 routes or IPv6 sysctls (policy still covers IPv6: the table is inet)' },
  WorkloadSourceSpoofing: {
    type: 'enum',
    default: 'Disabled',
    values: ['Disabled', 'Any'],
    help: "Any: honour pods' allowedSourcePrefixes (reverse-path filtering off for them)",
  },

  EtcdEndpoints: { type: 'list', default: [], help: 'etcd for the status report (also ETCD_ENDPOINTS); empty: no report' },
  EtcdCaFile: { type: 'string', default: '', help: 'CA bundle for etcd TLS (also ETCD_CA_CERT_FILE)' },
  EtcdCertFile: { type: 'string', default: '', help: 'Client certificate for etcd TLS (also ETCD_CERT_FILE)' },
  EtcdKeyFile: { type: 'string', default: '', help: 'Client key for etcd TLS (also ETCD_KEY_FILE)' },
  EtcdUsername: { type: 'string', default: '', help: 'etcd user (also ETCD_USERNAME)' },
  EtcdPassword: { type: 'string', default: '', secret: true, help: 'etcd password (also ETCD_PASSWORD)' },
  ReportingIntervalSecs: { type: 'seconds', default: 30, min: 0, max: 86400, help: 'Write the node status this often; 0: never' },
  ReportingTTLSecs: { type: 'seconds', default: 90, min: 1, max: 86400, help: 'The status report expires this long after it was written' },
  EndpointReportingEnabled: {
    type: 'bool',
    default: false,
    help: "Write each local endpoint's status (up, down, error) to etcd (needs EtcdEndpoints, as the node status does)",
  },
  EndpointReportingDelaySecs: {
    type: 'seconds',
    default: 1,
    min: 0.01,
    max: 3600,
    help: 'An endpoint status is written once it has held this long (flaps inside it are not written); datastore resync every 180 times this',
  },

  LogSeverityScreen: { type: 'enum', default: 'Info', values: ['Debug', 'Info', 'Warning', 'Error', 'Fatal'], help: 'Log level' },
} as const satisfies ParamTable;

export type FelixParam = keyof typeof FELIX_PARAMS;

export type FelixConfig = {
  readonly [K in FelixParam]: (typeof FELIX_PARAMS)[K]['type'] extends 'int' | 'float' | 'seconds'
    ? number
    : (typeof FELIX_PARAMS)[K]['type'] extends 'bool'
      ? boolean
      : (typeof FELIX_PARAMS)[K]['type'] extends 'list'
        ? readonly string[]
        : string;
};

/**
 * Chosen once at start: a datastore change to one of these needs a restart. (The daemon applies
 * the others as they change: log level, refresh interval, and the health and metrics servers,
 * which it reopens in-process.)
 */
export const RESTART_REQUIRED: ReadonlySet<FelixParam> = new Set<FelixParam>([
  'FelixHostname',
  'ConfigFile',
  'DataplaneMode',
  'Netns',
  'TyphaAddr',
  'TyphaK8sServiceName',
  'TyphaK8sNamespace',
  'TyphaReadTimeout',
  'TyphaCAFile',
  'TyphaCertFile',
  'TyphaKeyFile',
  'TyphaCN',
  'TyphaURISAN',
  'DataplaneDebounceMs',
  'MTUFile',
  'EtcdEndpoints',
  'EtcdCaFile',
  'EtcdCertFile',
  'EtcdKeyFile',
  'EtcdUsername',
  'EtcdPassword',
  'ReportingIntervalSecs',
  'ReportingTTLSecs',
  'EndpointReportingEnabled',
  'EndpointReportingDelaySecs',
]);

/**
 * Settings that only env or the file may set: they pick the node and where config comes from
 * (Calico marks the same ones `local`: FelixHostname, Etcd*, Typha*; a datastore value for one
 * is dropped, since Typha is how this Felix reads the datastore in the first place).
 */
const LOCAL_ONLY: ReadonlySet<FelixParam> = new Set<FelixParam>([
  'FelixHostname',
  'ConfigFile',
  'Netns',
  'TyphaAddr',
  'TyphaK8sServiceName',
  'TyphaK8sNamespace',
  'TyphaReadTimeout',
  'TyphaCAFile',
  'TyphaCertFile',
  'TyphaKeyFile',
  'TyphaCN',
  'TyphaURISAN',
  'EtcdEndpoints',
  'EtcdCaFile',
  'EtcdCertFile',
  'EtcdKeyFile',
  'EtcdUsername',
  'EtcdPassword',
]);

/** calicoctl's etcd variables, read below FELIX_ values (Calico's Felix reads them too). */
const ETCD_ALIASES: ReadonlyArray<readonly [param: FelixParam, env: string]> = [
  ['EtcdEndpoints', 'ETCD_ENDPOINTS'],
  ['EtcdCaFile', 'ETCD_CA_CERT_FILE'],
  ['EtcdCertFile', 'ETCD_CERT_FILE'],
  ['EtcdKeyFile', 'ETCD_KEY_FILE'],
  ['EtcdUsername', 'ETCD_USERNAME'],
  ['EtcdPassword', 'ETCD_PASSWORD'],
];

type Env = Readonly<Record<string, string | undefined>>;

/** The env and file layers, read once at start. */
export interface FelixLayers {
  readonly nodeName: string;
  readonly file: ConfigSource;
  readonly env: ConfigSource;
}

/** Parses felix.cfg text: `Name = value` per line; throws ConfigError naming bad lines. */
export function parseConfigFile(text: string, name = 'config file'): ConfigSource {
  const values: Record<string, string> = {};
  const issues: ConfigIssue[] = [];
  const byLower = new Map(Object.keys(FELIX_PARAMS).map((k) => [k.toLowerCase(), k]));
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || (line.startsWith('[') && line.endsWith(']'))) return;
    const eq = line.indexOf('=');
    if (eq <= 0) {
      issues.push({ param: `line ${i + 1}`, source: name, message: `expected "Name = value", got "${line}"` });
      return;
    }
    const key = byLower.get(line.slice(0, eq).trim().toLowerCase());
    if (key === undefined) {
      issues.push({ param: line.slice(0, eq).trim(), source: name, message: `unknown setting (line ${i + 1})` });
      return;
    }
    values[key] = line.slice(eq + 1).trim();
  });
  if (issues.length) throw new ConfigError(issues);
  return { name, values };
}

export interface LoadFelixOptions {
  /** The default node name (the host name). */
  hostname?: string;
  /** Reads the config file (tests replace it). */
  readFile?: (path: string) => string;
}

/** Reads env and the optional config file; the file's path may only come from env. */
export function loadFelixLayers(env: Env, opts: LoadFelixOptions = {}): FelixLayers {
  const felixEnv = envSource(FELIX_PARAMS, 'FELIX_', env);
  const aliases: Record<string, string> = {};
  for (const [param, name] of ETCD_ALIASES) {
    const v = env[name];
    if (v !== undefined && v !== '') aliases[param] = v;
  }
  const envLayer: ConfigSource = { name: 'environment', values: { ...aliases, ...felixEnv.values } };
  let file: ConfigSource = { name: 'config file', values: {} };
  const path = envLayer.values.ConfigFile?.trim();
  if (path) {
    let text: string;
    try {
      text = (opts.readFile ?? ((p) => readFileSync(p, 'utf8')))(path);
    } catch (err) {
      throw new ConfigError([
        { param: 'ConfigFile', source: 'environment', message: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` },
      ]);
    }
    file = parseConfigFile(text, `config file ${path}`);
  }
  const nodeName = (envLayer.values.FelixHostname?.trim() || file.values.FelixHostname?.trim() || env.NODENAME?.trim() || opts.hostname || '').trim();
  const layers: FelixLayers = { nodeName, file, env: envLayer };
  // Validate the local layers once, now: a bad value stops Felix at start.
  resolveFelixConfig(layers, {});
  return layers;
}

const GO_DURATION = /^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+$/;
const GO_DURATION_PART = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g;
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 0.001, s: 1, m: 60, h: 3600 };

/** A Go duration ("90s", "1m30s", "500ms") in seconds; undefined when `text` is not one. */
function goDurationSeconds(text: string): number | undefined {
  if (!GO_DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, n, unit] of text.matchAll(GO_DURATION_PART)) total += Number(n) * UNIT_SECONDS[unit];
  return total;
}

/** Spec fields whose name differs from the parameter's (Calico's v3 API renamed them). */
const SPEC_NAMES: Readonly<Record<string, FelixParam>> = {
  reportinginterval: 'ReportingIntervalSecs',
  reportingttl: 'ReportingTTLSecs',
  endpointreportingdelay: 'EndpointReportingDelaySecs',
};

const PARAMS_BY_LOWER: ReadonlyMap<string, FelixParam> = new Map(Object.keys(FELIX_PARAMS).map((k) => [k.toLowerCase(), k as FelixParam]));

/** The parameter a FelixConfiguration spec field sets, if any (names case-insensitive). */
function paramOfSpecField(field: string): FelixParam | undefined {
  const lower = field.toLowerCase();
  return SPEC_NAMES[lower] ?? PARAMS_BY_LOWER.get(lower);
}

/** FelixConfiguration spec (camelCase) → source values, durations ("90s", "1m30s") in seconds. */
function datastoreSource(spec: Readonly<Record<string, unknown>>): ConfigSource {
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec)) {
    const param = paramOfSpecField(k);
    if (param === undefined || LOCAL_ONLY.has(param) || DATAPLANE_SET.has(param) || v === null || v === undefined) continue;
    let s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    const seconds = FELIX_PARAMS[param].type === 'seconds' ? goDurationSeconds(s.trim()) : undefined;
    if (seconds !== undefined) s = String(seconds);
    values[param] = s;
  }
  return { name: 'FelixConfiguration', values };
}

/**
 * How this Felix treats a FelixConfiguration spec field: a setting of its own (resolved with env
 * and file), one the dataplane reads from the spec, or one it does not honour.
 */
export function specFieldUse(field: string): 'setting' | 'dataplane' | 'not honoured' {
  const param = paramOfSpecField(field);
  if (param === undefined || LOCAL_ONLY.has(param)) return 'not honoured';
  return DATAPLANE_SET.has(param) ? 'dataplane' : 'setting';
}

export interface ResolvedFelixConfig {
  config: FelixConfig;
  /** Datastore values that were ignored (bad type or range). */
  ignored: ConfigIssue[];
}

/** The settings the dataplane reads from the ConfigUpdate, with their spec (camelCase) names. */
const DATAPLANE_KEYS = {
  LogPrefix: 'logPrefix',
  InterfacePrefix: 'interfacePrefix',
  InterfaceExclude: 'interfaceExclude',
  DefaultEndpointToHostAction: 'defaultEndpointToHostAction',
  FailsafeInboundHostPorts: 'failsafeInboundHostPorts',
  FailsafeOutboundHostPorts: 'failsafeOutboundHostPorts',
  MTUIfacePattern: 'mtuIfacePattern',
  VXLANMTU: 'vxlanMTU',
  VXLANEnabled: 'vxlanEnabled',
  VXLANEnabledV6: 'vxlanEnabledV6',
  VXLANMTUV6: 'vxlanMTUV6',
  VXLANVNI: 'vxlanVNI',
  VXLANPort: 'vxlanPort',
  AllowVXLANPacketsFromWorkloads: 'allowVXLANPacketsFromWorkloads',
  AllowIPIPPacketsFromWorkloads: 'allowIPIPPacketsFromWorkloads',
  DeviceRouteSourceAddress: 'deviceRouteSourceAddress',
  DeviceRouteSourceAddressIPv6: 'deviceRouteSourceAddressIPv6',
  RemoveExternalRoutes: 'removeExternalRoutes',
  Ipv6Support: 'ipv6Support',
  IPForwarding: 'ipForwarding',
  DisableConntrackInvalidCheck: 'disableConntrackInvalidCheck',
  ServiceLoopPrevention: 'serviceLoopPrevention',
  ChainInsertMode: 'chainInsertMode',
  WorkloadSourceSpoofing: 'workloadSourceSpoofing',
  NATPortRange: 'natPortRange',
  NATOutgoingAddress: 'natOutgoingAddress',
  NATOutgoingExclusions: 'natOutgoingExclusions',
  IptablesNATOutgoingInterfaceFilter: 'iptablesNATOutgoingInterfaceFilter',
} as const satisfies Partial<Record<FelixParam, string>>;
const DATAPLANE_PARAMS = Object.keys(DATAPLANE_KEYS) as Array<keyof typeof DATAPLANE_KEYS>;

/** The dataplane reads these from the spec itself; the datastore layer leaves them alone. */
const DATAPLANE_SET: ReadonlySet<FelixParam> = new Set<FelixParam>(DATAPLANE_PARAMS);

const FAILSAFE = /^(tcp|udp|sctp):(?:([0-9a-fA-F.:]+\/[0-9]+):)?([0-9]+)$/i;

/** Calico's env form of failsafe ports (`tcp:22,udp:68,tcp:10.0.0.0/8:179`, or `none`) as spec entries. */
export function parseFailsafePorts(text: string): Array<{ protocol: string; port: number; net?: string }> | undefined {
  const t = text.trim();
  if (t.toLowerCase() === 'none') return [];
  const out: Array<{ protocol: string; port: number; net?: string }> = [];
  for (const part of t
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = FAILSAFE.exec(part);
    if (!m || Number(m[3]) > 65535) return undefined;
    out.push({ protocol: m[1].toUpperCase(), port: Number(m[3]), ...(m[2] ? { net: m[2] } : {}) });
  }
  return out;
}

/**
 * The ConfigUpdate spec the dataplane gets: the merged FelixConfiguration with the env and file
 * values of the dataplane's settings laid over it, so env > file > datastore holds there too.
 * Only a setting env or the file actually names is laid over (whatever its value).
 */
export function dataplaneConfig(layers: FelixLayers, config: FelixConfig, spec: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...spec };
  for (const param of DATAPLANE_PARAMS) {
    if (layers.env.values[param] === undefined && layers.file.values[param] === undefined) continue;
    const v = config[param];
    const key = DATAPLANE_KEYS[param];
    out[key] = typeof v === 'string' && param.startsWith('Failsafe') ? (parseFailsafePorts(v) ?? out[key]) : v;
  }
  return out;
}

/** The effective configuration: env over file over the merged FelixConfiguration spec. */
export function resolveFelixConfig(layers: FelixLayers, datastoreSpec: Readonly<Record<string, unknown>>): ResolvedFelixConfig {
  const ds = datastoreSource(datastoreSpec);
  let ignored: ConfigIssue[] = [];
  let loaded: Readonly<FelixConfig>;
  try {
    loaded = loadConfig<FelixConfig>(FELIX_PARAMS, [ds, layers.file, layers.env]);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const local = err.issues.filter((i) => i.source !== ds.name);
    if (local.length) throw new ConfigError(local);
    ignored = [...err.issues];
    const values = { ...ds.values };
    for (const i of ignored) delete values[i.param];
    loaded = loadConfig<FelixConfig>(FELIX_PARAMS, [{ name: ds.name, values }, layers.file, layers.env]);
  }
  const config: FelixConfig = Object.freeze({ ...loaded, FelixHostname: layers.nodeName });
  const issues: ConfigIssue[] = [];
  if (config.FelixHostname === '') issues.push({ param: 'FelixHostname', source: 'config', message: 'is required: set FELIX_FELIXHOSTNAME or NODENAME' });
  for (const param of ['FailsafeInboundHostPorts', 'FailsafeOutboundHostPorts'] as const) {
    if (config[param] !== '' && parseFailsafePorts(config[param]) === undefined) {
      issues.push({ param, source: 'config', message: `"${config[param]}" is not a list of proto:port or proto:net:port (e.g. tcp:22,udp:68), or none` });
    }
  }
  if (config.NATPortRange !== '' && parseNatPortRange(config.NATPortRange) === undefined) {
    issues.push({ param: 'NATPortRange', source: 'config', message: `"${config.NATPortRange}" is not a port or port range (e.g. 32768:65535)` });
  }
  if (config.NATOutgoingAddress !== '' && !isIPv4(config.NATOutgoingAddress)) {
    issues.push({ param: 'NATOutgoingAddress', source: 'config', message: `"${config.NATOutgoingAddress}" is not an IPv4 address` });
  }
  if (config.DeviceRouteSourceAddress !== '' && !isIPv4(config.DeviceRouteSourceAddress)) {
    issues.push({ param: 'DeviceRouteSourceAddress', source: 'config', message: `"${config.DeviceRouteSourceAddress}" is not an IPv4 address` });
  }
  if (config.DeviceRouteSourceAddressIPv6 !== '' && !isIPv6(config.DeviceRouteSourceAddressIPv6)) {
    issues.push({ param: 'DeviceRouteSourceAddressIPv6', source: 'config', message: `"${config.DeviceRouteSourceAddressIPv6}" is not an IPv6 address` });
  }
  if ((config.TyphaCertFile === '') !== (config.TyphaKeyFile === '')) {
    issues.push({ param: 'TyphaCertFile', source: 'config', message: 'TyphaCertFile and TyphaKeyFile go together' });
  }
  if (issues.length) throw new ConfigError(issues);
  return { config, ignored };
}

/** The start-up configuration (no datastore layer yet). Throws ConfigError listing every bad value. */
export function loadFelixConfig(env: Env, opts: LoadFelixOptions = {}): { layers: FelixLayers; config: FelixConfig } {
  const layers = loadFelixLayers(env, opts);
  const config = resolveFelixConfig(layers, {}).config;
  // Typha is how this Felix reads the datastore, so a way to find it is required up front.
  // (Library callers that inject a Discovery use loadFelixLayers and skip this check.)
  if (config.TyphaAddr.trim() === '' && config.TyphaK8sServiceName.trim() === '') {
    throw new ConfigError([
      { param: 'TyphaAddr', source: 'config', message: 'is required unless TyphaK8sServiceName is set: set FELIX_TYPHAADDR, e.g. 10.0.0.5:5473' },
    ]);
  }
  return { layers, config };
}

/** The parameters whose values differ between two configurations. */
export function changedParams(a: FelixConfig, b: FelixConfig): FelixParam[] {
  return (Object.keys(FELIX_PARAMS) as FelixParam[]).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

export function loggableFelixConfig(config: FelixConfig): Record<string, unknown> {
  return redactConfig(FELIX_PARAMS, config);
}

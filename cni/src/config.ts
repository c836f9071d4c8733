/**
 * The network configuration the runtime passes on stdin, validated once and frozen. Keys follow
 * Calico's CNI plugin so an existing calico.conflist reads the same (the contract the lab builds
 * on; README.md has the full reference):
 *
 *   cniVersion                    checked first (error 1 for one we do not speak)
 *   name, type, nodename, datastore_type, etcd_*, kubernetes.kubeconfig, mtu, mtu_file,
 *   log_level, ipam.*, policy.type,
 *   args.cni.serviceAccountName   {@link NET_CONF_PARAMS}: the shared config engine's table, with
 *                                 each key's type, default, range, environment fallback and help
 *   args.cni.labels               [{key, value}]: the pod's labels (etcd mode: no Kubernetes API
 *                                 here; with datastore_type kubernetes they come from the Pod)
 *   prevResult                    set by the runtime for CHECK and DEL; passed on as it is
 *
 *   stdin JSON ─▶ documentSource ┐
 *   NODENAME, ETCD_* ─▶ namedEnvSource ┴▶ collectConfig (types, ranges, defaults) ─▶ the checks
 *   across keys (required names, endpoints, cert + key, ipam) ─▶ NetConf, or one error 7 naming
 *   every bad key
 *
 * As in Calico's plugin (Go's zero values), an empty string, and an mtu of 0, mean "not given".
 */
import { hostname as osHostname } from 'node:os';
import { collectConfig, documentSource, namedEnvSource, type ConfigOf, type ParamTable } from '@cattail/api';
import { DecodeError, IncompatibleVersionError, InvalidConfigError } from './errors.js';
import { parseLogLevel, type LogLevel } from './log.js';
import { SUPPORTED_VERSIONS } from './versions.js';

export { SUPPORTED_VERSIONS };
export const DEFAULT_MTU_FILE = '/var/lib/calico/mtu';
const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379';
export const IPAM_TYPE = 'cattail-ipam';

/** The scalar keys of the network configuration; a dot is a nested key (`ipam.assign_ipv4`). */
const NET_CONF_PARAMS = {
  name: { type: 'string', default: '', help: 'The network name (letters, digits, _ . -); also the IPAM handle prefix. Required' },
  type: { type: 'string', default: '', help: 'The plugin binary, "cattail-cni". Required' },
  nodename: {
    type: 'string',
    default: '',
    env: 'NODENAME',
    unset: [''],
    help: 'This node: block affinity, endpoint name, spec.node (else NODENAME, else the host name)',
  },
  datastore_type: {
    type: 'string',
    default: 'etcdv3',
    unset: [''],
    help: 'Datastore: "etcdv3", or "kubernetes" (IPAM in Calico\'s CRDs, the pod read from and its IPs written to the API server)',
  },
  'kubernetes.kubeconfig': {
    type: 'string',
    default: '',
    env: 'KUBECONFIG',
    unset: [''],
    help: 'kubeconfig for datastore_type kubernetes (else KUBECONFIG; the chart installs one beside the conflist)',
  },
  'policy.type': {
    type: 'string',
    default: '',
    help: 'Calico\'s "k8s" (policy from Kubernetes and Calico resources); accepted for compatibility, it changes nothing',
  },
  etcd_endpoints: {
    type: 'string',
    default: DEFAULT_ETCD_ENDPOINT,
    env: 'ETCD_ENDPOINTS',
    unset: [''],
    help: 'Comma-separated etcd URLs (else ETCD_ENDPOINTS)',
  },
  etcd_ca_cert_file: { type: 'string', default: '', env: 'ETCD_CA_CERT_FILE', unset: [''], help: 'CA bundle for etcd TLS (else ETCD_CA_CERT_FILE)' },
  etcd_cert_file: {
    type: 'string',
    default: '',
    env: 'ETCD_CERT_FILE',
    unset: [''],
    help: 'Client certificate for etcd TLS, with etcd_key_file (else ETCD_CERT_FILE)',
  },
  etcd_key_file: { type: 'string', default: '', env: 'ETCD_KEY_FILE', unset: [''], help: 'Client key for etcd TLS, with etcd_cert_file (else ETCD_KEY_FILE)' },
  mtu: { type: 'int', default: 0, min: 68, max: 65535, unset: [0], help: 'MTU of both veth ends (0 or absent: the number in mtu_file, else 1500)' },
  mtu_file: { type: 'string', default: DEFAULT_MTU_FILE, unset: [''], help: 'Where Felix writes the MTU it detected' },
  log_level: { type: 'string', default: 'info', unset: [''], help: 'debug, info, warning, error or none (logrus names; stderr)' },
  'ipam.type': { type: 'string', default: '', help: `Must be "${IPAM_TYPE}": other IPAM plugins are not delegated to` },
  'ipam.assign_ipv4': { type: 'bool', default: true, unset: [''], help: 'Give the pod an IPv4 address ("true"/"false" or a JSON boolean)' },
  'ipam.assign_ipv6': { type: 'bool', default: false, unset: [''], help: 'Give the pod an IPv6 address ("true"/"false" or a JSON boolean)' },
  'ipam.ipv4_pools': {
    type: 'list',
    default: [],
    expects: 'a list of pool CIDRs or names',
    help: 'IPv4 pools to allocate from, by CIDR or IPPool name (default: every enabled Automatic pool)',
  },
  'ipam.ipv6_pools': {
    type: 'list',
    default: [],
    expects: 'a list of pool CIDRs or names',
    help: 'IPv6 pools to allocate from, by CIDR or IPPool name (default: every enabled Automatic pool)',
  },
  'feature_control.ip_addrs_no_ipam': {
    type: 'bool',
    default: false,
    unset: [''],
    help: 'Allow the cni.projectcalico.org/ipAddrsNoIpam pod annotation (addresses given without IPAM), as Calico',
  },
  'args.cni.serviceAccountName': { type: 'string', default: '', help: "The pod's service account" },
} as const satisfies ParamTable;

type NetConfParams = ConfigOf<typeof NET_CONF_PARAMS>;

export interface EtcdSettings {
  readonly endpoints: readonly string[];
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface IpamConf {
  readonly type: string;
  readonly assignIpv4: boolean;
  readonly assignIpv6: boolean;
  readonly ipv4Pools: readonly string[];
  readonly ipv6Pools: readonly string[];
}

export interface NetConf {
  readonly cniVersion: string;
  readonly name: string;
  readonly type: string;
  readonly nodename: string;
  readonly datastoreType: 'etcdv3' | 'kubernetes';
  readonly etcd: EtcdSettings;
  /** datastore_type kubernetes: the kubeconfig file (required there). */
  readonly kubeconfig: string;
  /** From the config; undefined means "read mtuFile". */
  readonly mtu: number | undefined;
  readonly mtuFile: string;
  readonly logLevel: LogLevel;
  readonly ipam: IpamConf;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccountName: string;
  /** feature_control.ip_addrs_no_ipam */
  readonly allowIpAddrsNoIpam: boolean;
  readonly prevResult: unknown;
}

type Env = Readonly<Record<string, string | undefined>>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Decode stdin as JSON; error 6 when it is not an object. */
export function decodeStdin(stdin: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(stdin);
  } catch (err) {
    throw new DecodeError(`the network configuration on stdin is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(value)) throw new DecodeError('the network configuration on stdin is not a JSON object');
  return value;
}

/** Throws IncompatibleVersionError unless `version` is one we speak. */
export function checkVersion(version: unknown): string {
  if (typeof version !== 'string' || version === '') {
    throw new InvalidConfigError('cniVersion is required (e.g. "1.0.0")');
  }
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) throw new IncompatibleVersionError(version, SUPPORTED_VERSIONS);
  return version;
}

export interface ParseOptions {
  env?: Env;
  hostname?: string;
}

/** Throws one InvalidConfigError (error 7) naming every bad key, each problem once. */
export function parseNetConf(raw: Record<string, unknown>, opts: ParseOptions = {}): NetConf {
  const cniVersion = checkVersion(raw.cniVersion);
  const loaded = collectConfig<NetConfParams>(NET_CONF_PARAMS, [
    namedEnvSource(NET_CONF_PARAMS, opts.env ?? {}),
    documentSource(NET_CONF_PARAMS, 'network configuration', raw),
  ]);
  const c = loaded.config;
  const issues = loaded.issues.map((i) => `${i.param} ${i.message}`);

  if (c.name === '') issues.push('name is required (the network name, e.g. "k8s-pod-network")');
  else if (!/^[a-zA-Z0-9_.-]+$/.test(c.name)) issues.push(`name "${c.name}" may only hold letters, digits, '_', '.' and '-'`);
  if (c.type === '') issues.push('type is required (the plugin binary, "cattail-cni")');
  const nodename = c.nodename.trim() || (opts.hostname ?? osHostname()).trim();
  if (nodename === '') issues.push('nodename is required: set it in the config or NODENAME');
  const datastoreType = c.datastore_type === 'kubernetes' ? 'kubernetes' : 'etcdv3';
  if (c.datastore_type !== 'etcdv3' && c.datastore_type !== 'kubernetes') {
    issues.push(`datastore_type "${c.datastore_type}" is not supported: use "etcdv3" or "kubernetes"`);
  }
  if (datastoreType === 'kubernetes' && c['kubernetes.kubeconfig'] === '') {
    issues.push('datastore_type "kubernetes" needs kubernetes.kubeconfig (or KUBECONFIG): the plugin runs outside any pod');
  }
  if (c['policy.type'] !== '' && c['policy.type'] !== 'k8s') issues.push(`policy.type "${c['policy.type']}" is not supported: use "k8s" or leave it out`);
  const etcd = etcdSettings(c, issues);
  const logLevel = parseLogLevel(c.log_level);
  if (logLevel === undefined) issues.push(`log_level "${c.log_level}" is not one of debug, info, warning, error, none`);
  const ipam = ipamConf(raw.ipam, c, issues);
  const labels = podLabels(raw.args, issues);

  if (issues.length > 0) throw new InvalidConfigError(`invalid network configuration: ${issues.join('; ')}`);
  return Object.freeze({
    cniVersion,
    name: c.name,
    type: c.type,
    nodename,
    datastoreType,
    etcd: Object.freeze(etcd),
    kubeconfig: c['kubernetes.kubeconfig'],
    mtu: c.mtu === 0 ? undefined : c.mtu,
    mtuFile: c.mtu_file,
    logLevel: logLevel ?? 'info',
    ipam: Object.freeze(ipam),
    labels: Object.freeze(labels),
    serviceAccountName: c['args.cni.serviceAccountName'],
    allowIpAddrsNoIpam: c['feature_control.ip_addrs_no_ipam'],
    prevResult: raw.prevResult,
  });
}

/** Endpoints like http://127.0.0.1:2379; the TLS files only where given, cert and key together. */
function etcdSettings(c: NetConfParams, issues: string[]): EtcdSettings {
  const endpoints = c.etcd_endpoints
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of endpoints) {
    if (!/^(https?:\/\/)?[^/\s]+:\d+\/?$/.test(e)) issues.push(`etcd_endpoints: "${e}" is not an endpoint like http://127.0.0.1:2379`);
  }
  const etcd: { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string } = { endpoints };
  if (c.etcd_ca_cert_file) etcd.caFile = c.etcd_ca_cert_file;
  if (c.etcd_cert_file) etcd.certFile = c.etcd_cert_file;
  if (c.etcd_key_file) etcd.keyFile = c.etcd_key_file;
  if ((c.etcd_cert_file === '') !== (c.etcd_key_file === '')) issues.push('etcd_cert_file and etcd_key_file go together: give both or neither');
  return etcd;
}

/** `ipam` must be an object naming our IPAM, and must let the pod have some address. */
function ipamConf(section: unknown, c: NetConfParams, issues: string[]): IpamConf {
  if (!isObject(section)) {
    issues.push(`ipam is required: { "type": "${IPAM_TYPE}" }`);
    return { type: IPAM_TYPE, assignIpv4: true, assignIpv6: false, ipv4Pools: [], ipv6Pools: [] };
  }
  const type = c['ipam.type'];
  if (type !== IPAM_TYPE) issues.push(`ipam.type "${type}" is not supported: this plugin allocates with its own IPAM, set "type": "${IPAM_TYPE}"`);
  const ipam: IpamConf = {
    type,
    assignIpv4: c['ipam.assign_ipv4'],
    assignIpv6: c['ipam.assign_ipv6'],
    ipv4Pools: c['ipam.ipv4_pools'],
    ipv6Pools: c['ipam.ipv6_pools'],
  };
  if (!ipam.assignIpv4 && !ipam.assignIpv6) issues.push('ipam: assign_ipv4 and assign_ipv6 are both false: the pod would get no address');
  return ipam;
}

/** `args.cni.labels`: a list of {"key", "value"} (a structure, so outside the parameter table). */
function podLabels(args: unknown, issues: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  if (args !== undefined && !isObject(args)) issues.push('args must be an object');
  const cniArgs = isObject(args) ? args.cni : undefined;
  if (cniArgs === undefined) return labels;
  if (!isObject(cniArgs)) {
    issues.push('args.cni must be an object');
    return labels;
  }
  if (cniArgs.labels === undefined) return labels;
  if (!Array.isArray(cniArgs.labels)) {
    issues.push('args.cni.labels must be a list of {"key": ..., "value": ...}');
    return labels;
  }
  cniArgs.labels.forEach((l, i) => {
    if (!isObject(l) || typeof l.key !== 'string' || l.key === '' || typeof l.value !== 'string') {
      issues.push(`args.cni.labels[${i}] must be {"key": "<non-empty>", "value": "<string>"}`);
    } else labels[l.key] = l.value;
  });
  return labels;
}

/** What is safe to log: everything but file contents (there are no secrets in the config itself). */
export function loggableNetConf(conf: NetConf): Record<string, unknown> {
  const { prevResult: _p, ...rest } = conf;
  return rest;
}

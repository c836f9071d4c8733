/**
 * The network configuration the runtime passes on stdin, validated once and frozen. Keys follow
 * Calico's CNI plugin so an existing calico.conflist reads the same (the contract the lab builds
 * on; see README.md for the full reference):
 *
 *   cniVersion, name, type                      the spec's
 *   nodename                                    else NODENAME env, else the host name
 *   datastore_type                              "etcdv3" (the default; the only one so far)
 *   etcd_endpoints                              comma-separated; else ETCD_ENDPOINTS, else http://127.0.0.1:2379
 *   etcd_ca_cert_file, etcd_cert_file, etcd_key_file    TLS files; empty means unset
 *   mtu                                         else the number in mtu_file, else 1500
 *   mtu_file                                    default /var/lib/calico/mtu (where calico/node writes it)
 *   log_level                                   debug | info (default) | warning | error | none
 *   ipam.type                                   must be "cattail-ipam"
 *   ipam.assign_ipv4, ipam.assign_ipv6          "true"/"false" (or booleans); default true / false
 *   ipam.ipv4_pools, ipam.ipv6_pools            pools to use, by CIDR or IPPool name; default all
 *   args.cni.labels                             [{key, value}]: the pod's labels (no Kubernetes API here)
 *   args.cni.serviceAccountName                 the pod's service account
 *   prevResult                                  set by the runtime for CHECK and DEL
 */
import { hostname as osHostname } from 'node:os';
import { DecodeError, IncompatibleVersionError, InvalidConfigError } from './errors.js';
import { parseLogLevel, type LogLevel } from './log.js';

/** Versions whose result shape we can write; CHECK exists from 0.4.0 on. */
export const SUPPORTED_VERSIONS = Object.freeze(['0.3.0', '0.3.1', '0.4.0', '1.0.0'] as const);
export const DEFAULT_MTU_FILE = '/var/lib/calico/mtu';
export const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379';
export const IPAM_TYPE = 'cattail-ipam';

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
  readonly datastoreType: 'etcdv3';
  readonly etcd: EtcdSettings;
  /** From the config; undefined means "read mtuFile". */
  readonly mtu: number | undefined;
  readonly mtuFile: string;
  readonly logLevel: LogLevel;
  readonly ipam: IpamConf;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccountName: string;
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

export function parseNetConf(raw: Record<string, unknown>, opts: ParseOptions = {}): NetConf {
  const env = opts.env ?? {};
  const cniVersion = checkVersion(raw.cniVersion);
  const issues: string[] = [];
  const str = (key: string, v: unknown, fallback = ''): string => {
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') {
      issues.push(`${key} must be a string, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return v.trim();
  };
  const bool = (key: string, v: unknown, fallback: boolean): boolean => {
    if (v === undefined || v === null || v === '') return fallback;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    issues.push(`${key} must be "true" or "false", got ${JSON.stringify(v)}`);
    return fallback;
  };
  const list = (key: string, v: unknown): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.trim() === '')) {
      issues.push(`${key} must be a list of pool CIDRs or names, got ${JSON.stringify(v)}`);
      return [];
    }
    return v.map((x: string) => x.trim());
  };

  const name = str('name', raw.name);
  if (name === '') issues.push('name is required (the network name, e.g. "k8s-pod-network")');
  else if (!/^[a-zA-Z0-9_.-]+$/.test(name)) issues.push(`name "${name}" may only hold letters, digits, '_', '.' and '-'`);
  const type = str('type', raw.type);
  if (type === '') issues.push('type is required (the plugin binary, "cattail-cni")');

  const nodename = str('nodename', raw.nodename) || (env.NODENAME ?? '').trim() || (opts.hostname ?? osHostname()).trim();
  if (nodename === '') issues.push('nodename is required: set it in the config or NODENAME');

  const datastoreType = str('datastore_type', raw.datastore_type, 'etcdv3') || 'etcdv3';
  if (datastoreType !== 'etcdv3') {
    issues.push(`datastore_type "${datastoreType}" is not supported: use "etcdv3" (the Kubernetes datastore is not available to the plugin yet)`);
  }
  const endpointsText = str('etcd_endpoints', raw.etcd_endpoints) || (env.ETCD_ENDPOINTS ?? '').trim() || DEFAULT_ETCD_ENDPOINT;
  const endpoints = endpointsText.split(',').map((e) => e.trim()).filter(Boolean);
  for (const e of endpoints) {
    if (!/^(https?:\/\/)?[^/\s]+:\d+\/?$/.test(e)) issues.push(`etcd_endpoints: "${e}" is not an endpoint like http://127.0.0.1:2379`);
  }
  const etcd: { endpoints: string[]; caFile?: string; certFile?: string; keyFile?: string } = { endpoints };
  const ca = str('etcd_ca_cert_file', raw.etcd_ca_cert_file) || (env.ETCD_CA_CERT_FILE ?? '');
  const cert = str('etcd_cert_file', raw.etcd_cert_file) || (env.ETCD_CERT_FILE ?? '');
  const key = str('etcd_key_file', raw.etcd_key_file) || (env.ETCD_KEY_FILE ?? '');
  if (ca) etcd.caFile = ca;
  if (cert) etcd.certFile = cert;
  if (key) etcd.keyFile = key;
  if ((cert === '') !== (key === '')) issues.push('etcd_cert_file and etcd_key_file go together: give both or neither');

  let mtu: number | undefined;
  if (raw.mtu !== undefined && raw.mtu !== null && raw.mtu !== 0) {
    const n = typeof raw.mtu === 'string' ? Number(raw.mtu) : raw.mtu;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 68 || n > 65535) issues.push(`mtu must be an integer in 68..65535, got ${JSON.stringify(raw.mtu)}`);
    else mtu = n;
  }
  const mtuFile = str('mtu_file', raw.mtu_file) || DEFAULT_MTU_FILE;

  const logText = str('log_level', raw.log_level);
  const logLevel = parseLogLevel(logText);
  if (logLevel === undefined) issues.push(`log_level "${logText}" is not one of debug, info, warning, error, none`);

  let ipam: IpamConf = { type: IPAM_TYPE, assignIpv4: true, assignIpv6: false, ipv4Pools: [], ipv6Pools: [] };
  if (!isObject(raw.ipam)) {
    issues.push(`ipam is required: { "type": "${IPAM_TYPE}" }`);
  } else {
    const t = str('ipam.type', raw.ipam.type);
    if (t !== IPAM_TYPE) issues.push(`ipam.type "${t}" is not supported: this plugin allocates with its own IPAM, set "type": "${IPAM_TYPE}"`);
    ipam = {
      type: t,
      assignIpv4: bool('ipam.assign_ipv4', raw.ipam.assign_ipv4, true),
      assignIpv6: bool('ipam.assign_ipv6', raw.ipam.assign_ipv6, false),
      ipv4Pools: list('ipam.ipv4_pools', raw.ipam.ipv4_pools),
      ipv6Pools: list('ipam.ipv6_pools', raw.ipam.ipv6_pools),
    };
    if (!ipam.assignIpv4 && !ipam.assignIpv6) issues.push('ipam: assign_ipv4 and assign_ipv6 are both false: the pod would get no address');
  }

  const labels: Record<string, string> = {};
  let serviceAccountName = '';
  const cniArgs = isObject(raw.args) ? raw.args.cni : undefined;
  if (raw.args !== undefined && !isObject(raw.args)) issues.push('args must be an object');
  if (cniArgs !== undefined) {
    if (!isObject(cniArgs)) issues.push('args.cni must be an object');
    else {
      if (cniArgs.labels !== undefined) {
        if (!Array.isArray(cniArgs.labels)) issues.push('args.cni.labels must be a list of {"key": ..., "value": ...}');
        else {
          cniArgs.labels.forEach((l, i) => {
            if (!isObject(l) || typeof l.key !== 'string' || l.key === '' || typeof l.value !== 'string') {
              issues.push(`args.cni.labels[${i}] must be {"key": "<non-empty>", "value": "<string>"}`);
            } else labels[l.key] = l.value;
          });
        }
      }
      serviceAccountName = str('args.cni.serviceAccountName', cniArgs.serviceAccountName);
    }
  }

  if (issues.length > 0) throw new InvalidConfigError(`invalid network configuration: ${issues.join('; ')}`);
  return Object.freeze({
    cniVersion,
    name,
    type,
    nodename,
    datastoreType: 'etcdv3',
    etcd: Object.freeze(etcd),
    mtu,
    mtuFile,
    logLevel: logLevel ?? 'info',
    ipam: Object.freeze(ipam),
    labels: Object.freeze(labels),
    serviceAccountName,
    prevResult: raw.prevResult,
  });
}

/** What is safe to log: everything but file contents (there are no secrets in the config itself). */
export function loggableNetConf(conf: NetConf): Record<string, unknown> {
  const { prevResult: _p, ...rest } = conf;
  return rest;
}

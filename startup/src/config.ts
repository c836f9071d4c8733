/**
 * The start-up's settings, read from calico/node's environment variables (Calico's names and
 * meanings, so a calico-node manifest's env works unchanged). Every value is checked here,
 * before the datastore is touched: a bad one is a STARTUP_CONFIG error naming the variable.
 *
 *   NODENAME (else HOSTNAME, else the host name)      the node's name, lower-cased
 *   IP / IP6                    "autodetect", "none", or an address (with or without /prefix).
 *                               IP unset: autodetect unless the Node already has an IPv4 address;
 *                               IP6 unset: no IPv6 address is set or detected (Calico's defaults)
 *   IP_AUTODETECTION_METHOD / IP6_AUTODETECTION_METHOD   see autodetect.ts
 *   AS                          the node's AS number (else the Node's, else BGPConfiguration's)
 *   CALICO_NETWORKING_BACKEND   bird (default), vxlan, or none (policy only: no addresses written)
 *   CALICO_K8S_NODE_REF         the Kubernetes node name (default NODENAME), an orchRef on the Node
 *   DISABLE_NODE_IP_CHECK       true: skip the check that no other Node has this address
 *   NO_DEFAULT_POOLS            true: create no pool
 *   CALICO_IPV4POOL_CIDR        default 192.168.0.0/16; "none" for no IPv4 pool
 *   CALICO_IPV4POOL_BLOCK_SIZE  20-32, default 26
 *   CALICO_IPV4POOL_IPIP / _VXLAN   Never (default), Always, CrossSubnet
 *   CALICO_IPV4POOL_NAT_OUTGOING    default true
 *   CALICO_IPV4POOL_NODE_SELECTOR, CALICO_IPV4POOL_DISABLE_BGP_EXPORT
 *   CALICO_IPV6POOL_CIDR        default a random ULA /48 (RFC 4193); "none" for no IPv6 pool; an
 *                               IPv6 pool is only created where FELIX_IPV6SUPPORT is not false
 *   CALICO_IPV6POOL_BLOCK_SIZE  116-128, default 122; CALICO_IPV6POOL_VXLAN, _NAT_OUTGOING
 *                               (default false), _NODE_SELECTOR, _DISABLE_BGP_EXPORT
 *   CLUSTER_TYPE                appended to ClusterInformation's clusterType (e.g. k8s,bgp)
 *   CATTAIL_VAR_LIB_DIR         where the nodename file is written (default /var/lib/calico)
 *   CATTAIL_NETNS               detect addresses in this named network namespace instead of the
 *                               process's own (the lab and tests, like FELIX_NETNS; ours)
 *
 * Default pools are created only when no pool of that family exists at all (any name).
 */
import { hostname } from 'node:os';
import { parseCIDR, parseIP, parseSelector, type CIDR } from '@cattail/api';
import { parseAutodetectMethod, type AutodetectMethod } from './autodetect.js';
import { StartupError } from './errors.js';

export type AddressSetting =
  { kind: 'autodetect'; method: AutodetectMethod } | { kind: 'none' } | { kind: 'unset'; method: AutodetectMethod } | { kind: 'fixed'; value: string };

export type EncapMode = 'Never' | 'Always' | 'CrossSubnet';

export interface DefaultPoolSetting {
  /** Undefined for IPv6 with no CIDR given: a random ULA /48 is generated when it is needed. */
  cidr?: CIDR;
  blockSize: number;
  ipipMode: EncapMode;
  vxlanMode: EncapMode;
  natOutgoing: boolean;
  nodeSelector: string;
  disableBGPExport: boolean;
}

export interface StartupConfig {
  nodeName: string;
  k8sNodeName: string;
  ipv4: AddressSetting;
  ipv6: AddressSetting;
  asNumber?: number;
  backend: 'bird' | 'vxlan' | 'none';
  checkAddressConflicts: boolean;
  pools: { v4?: DefaultPoolSetting; v6?: DefaultPoolSetting };
  clusterType?: string;
  varLibDir: string;
  netns?: string;
}

type Env = Record<string, string | undefined>;

function bad(name: string, value: string, why: string): never {
  throw new StartupError('STARTUP_CONFIG', `${name}=${value}: ${why}`);
}

/** Go's strconv.ParseBool spellings, as Calico reads its booleans; unset: the default. */
function bool(env: Env, name: string, dflt: boolean): boolean {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  if (['1', 't', 'T', 'true', 'TRUE', 'True', 'yes', 'y'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False', 'no', 'n'].includes(v)) return false;
  return bad(name, v, 'not a boolean (true or false)');
}

function addressSetting(env: Env, name: 'IP' | 'IP6', methodName: string, version: 4 | 6): AddressSetting {
  const raw = (env[name] ?? '').trim();
  const method = (): AutodetectMethod => parseAutodetectMethod(env[methodName], methodName);
  if (raw === '') return version === 4 ? { kind: 'unset', method: method() } : { kind: 'none' };
  if (raw === 'autodetect') return { kind: 'autodetect', method: method() };
  if (raw === 'none') return { kind: 'none' };
  const slash = raw.indexOf('/');
  const ip = parseIP(slash < 0 ? raw : raw.slice(0, slash));
  if (!ip || ip.version !== version || (slash >= 0 && parseCIDR(raw) === undefined)) {
    return bad(name, raw, `not an IPv${version} address (or address/prefix), "autodetect" or "none"`);
  }
  return { kind: 'fixed', value: raw };
}

function asNumber(env: Env): number | undefined {
  const raw = (env.AS ?? '').trim();
  if (raw === '') return undefined;
  // Plain (1-4294967295) or dotted (high.low, each 0-65535), as Calico's numorstring.
  const dotted = /^(\d+)\.(\d+)$/.exec(raw);
  const n = dotted ? Number(dotted[1]) * 65536 + Number(dotted[2]) : /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (dotted && (Number(dotted[1]) > 65535 || Number(dotted[2]) > 65535)) bad('AS', raw, 'each half of a dotted AS number is at most 65535');
  if (!(n >= 1 && n <= 4294967295)) bad('AS', raw, 'not an AS number (1-4294967295, or dotted high.low)');
  return n;
}

function encap(env: Env, name: string): EncapMode {
  const v = (env[name] ?? '').trim().toLowerCase();
  if (v === '' || v === 'off' || v === 'never') return 'Never';
  if (v === 'always') return 'Always';
  if (v === 'crosssubnet' || v === 'cross-subnet') return 'CrossSubnet';
  return bad(name, env[name]!, 'use Always, CrossSubnet or Never');
}

function poolSetting(env: Env, version: 4 | 6): DefaultPoolSetting | undefined {
  const p = `CALICO_IPV${version}POOL_`;
  const cidrText = (env[`${p}CIDR`] ?? '').trim();
  if (cidrText === 'none') return undefined;
  const cidr = cidrText === '' ? (version === 4 ? parseCIDR('192.168.0.0/16') : undefined) : parseCIDR(cidrText);
  if (cidrText !== '' && (!cidr || cidr.version !== version)) bad(`${p}CIDR`, cidrText, `not an IPv${version} CIDR`);
  const sizeText = (env[`${p}BLOCK_SIZE`] ?? '').trim();
  const [min, max, dflt] = version === 4 ? [20, 32, 26] : [116, 128, 122];
  const blockSize = sizeText === '' ? dflt : /^\d+$/.test(sizeText) ? Number(sizeText) : NaN;
  if (!(blockSize >= min && blockSize <= max)) bad(`${p}BLOCK_SIZE`, sizeText, `an IPv${version} block size is ${min} to ${max}`);
  if (cidr && blockSize < cidr.prefix) bad(`${p}BLOCK_SIZE`, sizeText, `blocks of /${blockSize} do not fit in the pool's /${cidr.prefix}`);
  const nodeSelector = (env[`${p}NODE_SELECTOR`] ?? '').trim();
  if (nodeSelector !== '') {
    try {
      parseSelector(nodeSelector);
    } catch (err) {
      bad(`${p}NODE_SELECTOR`, nodeSelector, (err as Error).message);
    }
  }
  return {
    cidr,
    blockSize,
    ipipMode: version === 4 ? encap(env, `${p}IPIP`) : 'Never',
    vxlanMode: encap(env, `${p}VXLAN`),
    natOutgoing: bool(env, `${p}NAT_OUTGOING`, version === 4),
    nodeSelector,
    disableBGPExport: bool(env, `${p}DISABLE_BGP_EXPORT`, false),
  };
}

/** The node's name as calico/node determines it. */
export function nodeNameFrom(env: Env): string {
  return (env.NODENAME?.trim() || env.HOSTNAME?.trim() || hostname()).toLowerCase();
}

export function loadStartupConfig(env: Env): StartupConfig {
  const nodeName = nodeNameFrom(env);
  const backendText = (env.CALICO_NETWORKING_BACKEND ?? '').trim() || 'bird';
  if (backendText !== 'bird' && backendText !== 'vxlan' && backendText !== 'none') bad('CALICO_NETWORKING_BACKEND', backendText, 'use bird, vxlan or none');
  const noPools = bool(env, 'NO_DEFAULT_POOLS', false);
  if (noPools && ((env.CALICO_IPV4POOL_CIDR ?? '') !== '' || (env.CALICO_IPV6POOL_CIDR ?? '') !== '')) {
    bad('NO_DEFAULT_POOLS', env.NO_DEFAULT_POOLS!, 'contradicts CALICO_IPV4POOL_CIDR / CALICO_IPV6POOL_CIDR: set one or the other');
  }
  const ipv6Support = bool(env, 'FELIX_IPV6SUPPORT', true);
  return {
    nodeName,
    k8sNodeName: env.CALICO_K8S_NODE_REF?.trim() || nodeName,
    ipv4: addressSetting(env, 'IP', 'IP_AUTODETECTION_METHOD', 4),
    ipv6: addressSetting(env, 'IP6', 'IP6_AUTODETECTION_METHOD', 6),
    asNumber: asNumber(env),
    backend: backendText,
    checkAddressConflicts: !bool(env, 'DISABLE_NODE_IP_CHECK', false),
    pools: noPools ? {} : { v4: poolSetting(env, 4), v6: ipv6Support ? poolSetting(env, 6) : undefined },
    clusterType: env.CLUSTER_TYPE?.trim() || undefined,
    varLibDir: env.CATTAIL_VAR_LIB_DIR?.trim() || '/var/lib/calico',
    netns: env.CATTAIL_NETNS?.trim() || undefined,
  };
}

/**
 * The JSON the plugin prints, in the spec's shapes (CNI 1.0 "Success", "Error", "Version"):
 *
 *   ADD    { cniVersion, interfaces: [host veth, pod eth0 with sandbox], ips: [{address,
 *            gateway?, interface: <index into interfaces>}], routes: [{dst, gw}], dns: {} }
 *   error  { cniVersion, code, msg, details }
 *   VERSION { cniVersion, supportedVersions }
 *
 * For 0.3.x/0.4.0 configs the result is the same but each ip also carries `version` ("4"/"6"),
 * which those versions require. The pod's routes are reported as ADD made them: default via
 * 169.254.1.1 (IPv4) and via the host veth's link-local address (IPv6), both on-link.
 */
import type { CniError } from './errors.js';
import { SUPPORTED_VERSIONS } from './versions.js';

export const HOST_VETH_MAC = 'ee:ee:ee:ee:ee:ee';
export const IPV4_GATEWAY = '169.254.1.1';
/** The EUI-64 link-local address of a link with MAC ee:ee:ee:ee:ee:ee: the host veth's. */
export const IPV6_GATEWAY = 'fe80::ecee:eeff:feee:eeee';
export const LATEST_VERSION = '1.0.0';

/** Spec 1.0's interface: name, mac, sandbox (`mtu` arrived with 1.1, so it is not reported). */
export interface CniInterface {
  name: string;
  mac?: string;
  sandbox?: string;
}

export interface CniIPConfig {
  address: string;
  gateway?: string;
  interface?: number;
  version?: '4' | '6';
}

export interface CniRoute {
  dst: string;
  gw?: string;
}

export interface CniResult {
  cniVersion: string;
  interfaces: CniInterface[];
  ips: CniIPConfig[];
  routes: CniRoute[];
  dns: Record<string, unknown>;
}

export interface PodAddress {
  readonly address: string;
  readonly version: 4 | 6;
}

export interface AddResultInput {
  cniVersion: string;
  hostVeth: string;
  ifname: string;
  containerMac: string;
  netns: string;
  addresses: readonly PodAddress[];
}

export function addResult(input: AddResultInput): CniResult {
  const legacy = input.cniVersion !== '1.0.0';
  const ips: CniIPConfig[] = input.addresses.map((a) => {
    const ip: CniIPConfig = { address: `${a.address}/${a.version === 4 ? 32 : 128}`, interface: 1 };
    if (legacy) ip.version = a.version === 4 ? '4' : '6';
    return ip;
  });
  const routes: CniRoute[] = [];
  if (input.addresses.some((a) => a.version === 4)) routes.push({ dst: '0.0.0.0/0', gw: IPV4_GATEWAY });
  if (input.addresses.some((a) => a.version === 6)) routes.push({ dst: '::/0', gw: IPV6_GATEWAY });
  return {
    cniVersion: input.cniVersion,
    interfaces: [
      { name: input.hostVeth, mac: HOST_VETH_MAC },
      { name: input.ifname, mac: input.containerMac, sandbox: input.netns },
    ],
    ips,
    routes,
    dns: {},
  };
}

export function errorResult(cniVersion: string, err: CniError): Record<string, unknown> {
  const out: Record<string, unknown> = { cniVersion, code: err.code, msg: err.message };
  if (err.details) out.details = err.details;
  return out;
}

export function versionResult(): Record<string, unknown> {
  return { cniVersion: LATEST_VERSION, supportedVersions: [...SUPPORTED_VERSIONS] };
}

/** The pod addresses in a prevResult (CHECK, DEL), or undefined when it holds none we can read. */
export function prevResultAddresses(prev: unknown): PodAddress[] | undefined {
  if (typeof prev !== 'object' || prev === null) return undefined;
  const ips = (prev as { ips?: unknown }).ips;
  if (!Array.isArray(ips)) return undefined;
  const out: PodAddress[] = [];
  for (const ip of ips) {
    const text = typeof ip === 'object' && ip !== null ? (ip as { address?: unknown }).address : undefined;
    if (typeof text !== 'string') continue;
    const address = text.split('/')[0];
    out.push({ address, version: address.includes(':') ? 6 : 4 });
  }
  return out;
}

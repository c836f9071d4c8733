/**
 * With `datastore_type: kubernetes` the plugin asks the API server about the pod it wires, as
 * Calico's plugin does, instead of trusting `args.cni.labels`:
 *
 *   labels                 the Pod's (policy selects on them; the derived endpoint carries them)
 *   serviceAccountName     the Pod's spec
 *   IPv4/IPv6 pools        annotation `cni.projectcalico.org/ipv4pools` / `ipv6pools` (a JSON
 *                          list of pool names or CIDRs) on the Pod, else on its Namespace, else
 *                          the network configuration's ipam.ipv4_pools / ipv6_pools
 *   ipAddrsNoIpam          annotation `cni.projectcalico.org/ipAddrsNoIpam`: the pod gets exactly
 *                          these addresses and IPAM is not asked (Calico allows it only with
 *                          `feature_control.ip_addrs_no_ipam`, and so do we)
 *   ipAddrs                annotation `cni.projectcalico.org/ipAddrs`: these addresses, each
 *                          taken from IPAM (AssignIP: it must lie in an enabled pool and be free)
 *
 * A malformed annotation fails the ADD with a message naming it (error 7): starting the pod with
 * addresses it did not ask for would be worse than not starting it.
 */
import { isIP } from 'node:net';
import type * as kdd from '@cattail/datastore/kdd';
import { InvalidConfigError } from './errors.js';

export const ANNOTATION_IPV4_POOLS = 'cni.projectcalico.org/ipv4pools';
export const ANNOTATION_IPV6_POOLS = 'cni.projectcalico.org/ipv6pools';
export const ANNOTATION_IP_ADDRS = 'cni.projectcalico.org/ipAddrs';
export const ANNOTATION_IP_ADDRS_NO_IPAM = 'cni.projectcalico.org/ipAddrsNoIpam';

export interface PodInfo {
  labels: Record<string, string>;
  serviceAccountName: string;
  /** Undefined: no annotation on the pod or its namespace (the config's pools apply). */
  ipv4Pools?: string[];
  ipv6Pools?: string[];
  /** Addresses to use without IPAM (ipAddrsNoIpam). */
  noIpamAddresses?: string[];
  /** Addresses to take from IPAM (ipAddrs). */
  requestedAddresses?: string[];
}

interface KubeMeta {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { serviceAccountName?: string };
}

/** The pod's labels, service account and Calico annotations (and its namespace's pool annotations). */
export async function readPodInfo(api: Pick<kdd.KubeDatastore, 'request'>, namespace: string, name: string): Promise<PodInfo> {
  const ns = encodeURIComponent(namespace);
  const [pod, nsObj] = (await Promise.all([
    api.request('GET', `/api/v1/namespaces/${ns}/pods/${encodeURIComponent(name)}`),
    api.request('GET', `/api/v1/namespaces/${ns}`),
  ])) as [KubeMeta, KubeMeta];
  const annotations = pod.metadata?.annotations ?? {};
  const nsAnnotations = nsObj.metadata?.annotations ?? {};
  const where = `pod ${namespace}/${name}`;
  const info: PodInfo = { labels: { ...(pod.metadata?.labels ?? {}) }, serviceAccountName: pod.spec?.serviceAccountName ?? '' };
  // The pod's pool annotation wins over its namespace's.
  const pools = (key: string) =>
    annotations[key] !== undefined ? stringList(annotations, key, where) : stringList(nsAnnotations, key, `namespace ${namespace}`);
  const ipv4Pools = pools(ANNOTATION_IPV4_POOLS);
  const ipv6Pools = pools(ANNOTATION_IPV6_POOLS);
  if (ipv4Pools) info.ipv4Pools = ipv4Pools;
  if (ipv6Pools) info.ipv6Pools = ipv6Pools;
  const ipAddrs = stringList(annotations, ANNOTATION_IP_ADDRS, where);
  const noIpam = stringList(annotations, ANNOTATION_IP_ADDRS_NO_IPAM, where);
  if (ipAddrs && noIpam)
    throw new InvalidConfigError(`${where}: annotations ${ANNOTATION_IP_ADDRS} and ${ANNOTATION_IP_ADDRS_NO_IPAM} cannot be used together`);
  for (const [key, list] of [
    [ANNOTATION_IP_ADDRS, ipAddrs],
    [ANNOTATION_IP_ADDRS_NO_IPAM, noIpam],
  ] as const) {
    for (const a of list ?? []) if (isIP(a) === 0) throw new InvalidConfigError(`${where}: annotation ${key}: "${a}" is not an IP address`);
  }
  if (ipAddrs) info.requestedAddresses = ipAddrs;
  if (noIpam) info.noIpamAddresses = noIpam;
  return info;
}

/** A JSON list of non-empty strings, or undefined when the annotation is absent. */
function stringList(annotations: Record<string, string>, key: string, where: string): string[] | undefined {
  const text = annotations[key];
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidConfigError(`${where}: annotation ${key} is not JSON (expected a list such as ["10.65.0.0/16"]): ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v !== '')) {
    throw new InvalidConfigError(`${where}: annotation ${key} must be a JSON list of strings, not ${JSON.stringify(text.slice(0, 80))}`);
  }
  return value as string[];
}

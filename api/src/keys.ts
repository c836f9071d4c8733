/**
 * Calico's etcdv3 key layout, identical to libcalico-go's so Cattail and Calico tools can share
 * one etcd:
 *
 *   /calico/resources/v3/projectcalico.org/<plural>/<name>              cluster-scoped kinds
 *   /calico/resources/v3/projectcalico.org/<plural>/<namespace>/<name>  namespaced kinds
 *   /calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26                   IPAMBlock
 *   /calico/ipam/v2/host/<node>/ipv4/block/10.0.0.0-26                  BlockAffinity
 *   /calico/ipam/v2/handle/<handleID>                                   IPAMHandle
 *   /calico/ipam/v2/config                                              IPAMConfiguration
 *
 * Typha watches the single prefix `/calico/` and classifies every key with {@link parseKey}.
 */
import { UnknownKindError, ApiError } from './errors.js';
import { findKind, kindByPlural, type KindInfo } from './kinds.js';
import { cidrToName, formatCIDR, nameToCIDR, parseCIDR } from './net/ip.js';
import type { Resource, ResourceRef } from './resource.js';

export const CALICO_PREFIX = '/calico/';
export const RESOURCE_PREFIX = '/calico/resources/v3/projectcalico.org/';
export const IPAM_PREFIX = '/calico/ipam/v2/';
const BLOCK_PREFIX = `${IPAM_PREFIX}assignment/`;
const AFFINITY_PREFIX = `${IPAM_PREFIX}host/`;
const HANDLE_PREFIX = `${IPAM_PREFIX}handle/`;
const IPAM_CONFIG_KEY = `${IPAM_PREFIX}config`;

/** What a key names. For BlockAffinity the node and CIDR come from the key itself. */
export interface ParsedKey {
  kind: KindInfo;
  name: string;
  namespace?: string;
  node?: string;
  cidr?: string;
}

function kindInfo(kind: string): KindInfo {
  const k = findKind(kind);
  if (!k) throw new UnknownKindError(kind);
  return k;
}

function keyCIDR(cidrText: string): { version: number; text: string } {
  const c = parseCIDR(cidrText);
  if (!c) throw new ApiError('BAD_KEY', `"${cidrText}" is not a CIDR`);
  return { version: c.version, text: formatCIDR(c).replace('/', '-') };
}

/**
 * The key for a reference, or undefined when the name alone does not determine it (a
 * BlockAffinity's key holds its node and CIDR, which its name cannot be split back into): the
 * caller then scans {@link listPrefix} and matches on name.
 */
export function keyForRef(ref: ResourceRef): string | undefined {
  const k = kindInfo(ref.kind);
  if (k.storage === 'resource') {
    if (k.namespaced) {
      if (!ref.namespace) throw new ApiError('NAMESPACE_REQUIRED', `${k.kind} is namespaced: a namespace is required`);
      return `${RESOURCE_PREFIX}${k.plural}/${ref.namespace}/${ref.name}`;
    }
    return `${RESOURCE_PREFIX}${k.plural}/${ref.name}`;
  }
  switch (k.kind) {
    case 'IPAMBlock': {
      const c = nameToCIDR(ref.name);
      if (!c) throw new ApiError('BAD_NAME', `IPAMBlock name "${ref.name}" is not a CIDR name like 10-0-0-0-26`);
      const kc = keyCIDR(formatCIDR(c));
      return `${BLOCK_PREFIX}ipv${kc.version}/block/${kc.text}`;
    }
    case 'IPAMHandle':
      return `${HANDLE_PREFIX}${ref.name}`;
    case 'IPAMConfiguration':
      return IPAM_CONFIG_KEY;
    default:
      return undefined;
  }
}

/** The key a resource is stored under. */
export function keyFor(res: Resource): string {
  if (res.kind === 'BlockAffinity') {
    const spec = (res.spec ?? {}) as { node?: unknown; cidr?: unknown };
    if (typeof spec.node !== 'string' || typeof spec.cidr !== 'string') {
      throw new ApiError('BAD_NAME', 'BlockAffinity needs spec.node and spec.cidr to place it in etcd');
    }
    const kc = keyCIDR(spec.cidr);
    return `${AFFINITY_PREFIX}${spec.node}/ipv${kc.version}/block/${kc.text}`;
  }
  const key = keyForRef({ kind: res.kind, name: res.metadata.name, namespace: res.metadata.namespace });
  if (key === undefined) throw new ApiError('BAD_NAME', `no key for ${res.kind}`);
  return key;
}

/** The prefix under which every resource of a kind (optionally one namespace) lives. */
export function listPrefix(kind: string, namespace?: string): string {
  const k = kindInfo(kind);
  switch (k.storage === 'resource' ? 'resource' : k.kind) {
    case 'resource':
      return k.namespaced && namespace ? `${RESOURCE_PREFIX}${k.plural}/${namespace}/` : `${RESOURCE_PREFIX}${k.plural}/`;
    case 'IPAMBlock':
      return BLOCK_PREFIX;
    case 'BlockAffinity':
      return AFFINITY_PREFIX;
    case 'IPAMHandle':
      return HANDLE_PREFIX;
    default:
      return IPAM_CONFIG_KEY;
  }
}

/** The name a BlockAffinity gets, as Calico's Kubernetes backend names it: `<node>-<cidr name>`. */
export function blockAffinityName(node: string, cidr: string): string {
  return `${node}-${cidrToName(cidr)}`;
}

/** Classify a key; undefined for keys outside the layout (Felix status, other tools' data). */
export function parseKey(key: string): ParsedKey | undefined {
  if (key.startsWith(RESOURCE_PREFIX)) {
    const parts = key.slice(RESOURCE_PREFIX.length).split('/');
    const kind = kindByPlural(parts[0]);
    if (!kind || kind.storage !== 'resource') return undefined;
    if (kind.namespaced && parts.length === 3 && parts[1] && parts[2]) {
      return { kind, namespace: parts[1], name: parts[2] };
    }
    if (!kind.namespaced && parts.length === 2 && parts[1]) return { kind, name: parts[1] };
    return undefined;
  }
  if (key === IPAM_CONFIG_KEY) return { kind: kindInfo('IPAMConfiguration'), name: 'default' };
  let m = /^\/calico\/ipam\/v2\/assignment\/ipv[46]\/block\/([^/]+)$/.exec(key);
  if (m) {
    const cidr = parseCIDR(m[1].replace('-', '/'));
    if (!cidr) return undefined;
    const text = formatCIDR(cidr);
    return { kind: kindInfo('IPAMBlock'), name: cidrToName(text), cidr: text };
  }
  m = /^\/calico\/ipam\/v2\/host\/([^/]+)\/ipv[46]\/block\/([^/]+)$/.exec(key);
  if (m) {
    const cidr = parseCIDR(m[2].replace('-', '/'));
    if (!cidr) return undefined;
    const text = formatCIDR(cidr);
    return { kind: kindInfo('BlockAffinity'), name: blockAffinityName(m[1], text), node: m[1], cidr: text };
  }
  m = /^\/calico\/ipam\/v2\/handle\/([^/]+)$/.exec(key);
  if (m) return { kind: kindInfo('IPAMHandle'), name: m[1] };
  return undefined;
}

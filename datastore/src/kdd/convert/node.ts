/**
 * Kubernetes Node → Calico Node (libcalico-go `K8sNodeToCalico`). In Kubernetes-datastore mode
 * Calico has no Node objects of its own: calico/node writes its fields into annotations of the
 * Kubernetes Node (`node-annotations.ts`), and readers rebuild the Calico Node:
 *
 *   metadata     name, uid, creationTimestamp, resourceVersion of the Kubernetes Node; labels =
 *                the Calico labels kept in projectcalico.org/labels, overlaid by the Kubernetes
 *                labels (Kubernetes wins); annotations = those kept in
 *                projectcalico.org/annotations plus projectcalico.org/kube-labels, the
 *                Kubernetes labels as JSON, so a write can take them out again
 *   spec.bgp     ipv4Address, ipv6Address, asNumber, routeReflectorClusterID,
 *                ipv4IPIPTunnelAddr; left out when all are empty
 *   spec         ipv4VXLANTunnelAddr, vxlanTunnelMACAddr, ipv6VXLANTunnelAddr,
 *                vxlanTunnelMACAddrV6; wireguard interface addresses; orchRefs
 *                [{nodeName, orchestrator: k8s}]; addresses: the BGP addresses (CalicoNodeIP)
 *                then the Kubernetes InternalIP and ExternalIP addresses
 *   status       wireguardPublicKey(V6) from annotations, podCIDRs from spec.podCIDRs
 *   usePodCIDR   (host-local IPAM) the IPIP tunnel address is the pod CIDR's address + 1, and
 *                so is the WireGuard one when the node has a WireGuard key
 *
 * An annotation Calico's validator rejects is ignored by Calico; here it is ignored with a
 * warning. Which values are rejected is decided by `@cattail/api`'s Node validator: the fields
 * that come from annotations are built, the Node is validated, and each field with a problem is
 * dropped, so the rules live once, in `api`.
 */
import { API_VERSION, parseCIDR, formatIP, validateResource, type Resource } from '@cattail/api';
import type { K8sNode } from './k8s-types.js';
import { NODE_ANNOTATIONS as A, goJSONStringMap } from './node-annotations.js';
import { ORCHESTRATOR_K8S, describeInput } from './names.js';
import { list, obj, requiredName, str, strMap } from './read.js';
import { InputProblem, convert, finish, type ConversionResult } from './result.js';

export interface NodeConversionOptions {
  /** Calico's `usePodCIDR` (host-local IPAM, `CALICO_IPAM=false`): tunnel addresses from the pod CIDR. */
  readonly usePodCIDR?: boolean;
}

/** Where each annotation-derived field comes from, for the warning when it is dropped. */
const SOURCES: ReadonlyArray<readonly [path: string, source: string]> = [
  ['spec.bgp.ipv4Address', `annotation ${A.ipv4Address}`],
  ['spec.bgp.ipv6Address', `annotation ${A.ipv6Address}`],
  ['spec.bgp.asNumber', `annotation ${A.asNumber}`],
  ['spec.bgp.routeReflectorClusterID', `annotation ${A.routeReflectorClusterID}`],
  ['spec.bgp.ipv4IPIPTunnelAddr', `annotation ${A.ipv4IPIPTunnelAddr}`],
  ['spec.ipv4VXLANTunnelAddr', `annotation ${A.ipv4VXLANTunnelAddr}`],
  ['spec.vxlanTunnelMACAddr', `annotation ${A.vxlanTunnelMACAddr}`],
  ['spec.ipv6VXLANTunnelAddr', `annotation ${A.ipv6VXLANTunnelAddr}`],
  ['spec.vxlanTunnelMACAddrV6', `annotation ${A.vxlanTunnelMACAddrV6}`],
  ['spec.wireguard.interfaceIPv4Address', `annotation ${A.wireguardIPv4}`],
  ['spec.wireguard.interfaceIPv6Address', `annotation ${A.wireguardIPv6}`],
  ['status.wireguardPublicKey', `annotation ${A.wireguardPublicKey}`],
  ['status.wireguardPublicKeyV6', `annotation ${A.wireguardPublicKeyV6}`],
  ['status.podCIDRs', 'spec.podCIDRs of the Kubernetes Node'],
];

export function k8sNodeToCalico(node: K8sNode, options: NodeConversionOptions = {}): ConversionResult {
  return convert(describeInput('Node', node), () => {
    const meta = obj(node.metadata, 'metadata');
    const name = requiredName(meta);
    const k8sSpec = obj(node.spec, 'spec');
    const annotations = strMap(meta?.annotations, 'metadata.annotations');
    const warnings: string[] = [];
    const ann = (key: string): string | undefined => annotations[key] || undefined;

    const res: Resource = { apiVersion: API_VERSION, kind: 'Node', metadata: { name } };
    for (const key of ['uid', 'creationTimestamp', 'resourceVersion']) {
      const v = str(meta?.[key], `metadata.${key}`);
      if (v) res.metadata[key] = v;
    }
    const calicoLabels = jsonStringMap(annotations[A.labels], A.labels, warnings);
    const calicoAnnotations = jsonStringMap(annotations[A.annotations], A.annotations, warnings);
    const k8sLabels = meta?.labels === undefined || meta.labels === null ? undefined : strMap(meta.labels, 'metadata.labels');
    const labels = { ...calicoLabels, ...k8sLabels };
    if (Object.keys(labels).length > 0) res.metadata.labels = labels;
    res.metadata.annotations = { ...calicoAnnotations, [A.kubeLabels]: goJSONStringMap(k8sLabels) };

    const bgp: Record<string, unknown> = {};
    const wireguard: Record<string, unknown> = {};
    setIf(bgp, 'ipv4Address', ann(A.ipv4Address));
    setIf(bgp, 'ipv6Address', ann(A.ipv6Address));
    setIf(bgp, 'routeReflectorClusterID', ann(A.routeReflectorClusterID));
    const asn = ann(A.asNumber);
    if (asn !== undefined) {
      const n = asNumber(asn);
      if (n === undefined) warnings.push(`annotation ${A.asNumber} "${asn}" is not an AS number; ignored`);
      else bgp.asNumber = n;
    }
    const podCIDR = str(k8sSpec?.podCIDR, 'spec.podCIDR');
    if (options.usePodCIDR && podCIDR) {
      const tunnel = staticTunnelAddress(podCIDR);
      setIf(bgp, 'ipv4IPIPTunnelAddr', tunnel);
      if (ann(A.wireguardPublicKey)) setIf(wireguard, 'interfaceIPv4Address', tunnel);
    } else {
      setIf(bgp, 'ipv4IPIPTunnelAddr', ann(A.ipv4IPIPTunnelAddr));
      setIf(wireguard, 'interfaceIPv4Address', ann(A.wireguardIPv4));
      setIf(wireguard, 'interfaceIPv6Address', ann(A.wireguardIPv6));
    }
    const spec: Record<string, unknown> = { bgp, wireguard };
    setIf(spec, 'ipv4VXLANTunnelAddr', ann(A.ipv4VXLANTunnelAddr));
    setIf(spec, 'vxlanTunnelMACAddr', ann(A.vxlanTunnelMACAddr));
    setIf(spec, 'ipv6VXLANTunnelAddr', ann(A.ipv6VXLANTunnelAddr));
    setIf(spec, 'vxlanTunnelMACAddrV6', ann(A.vxlanTunnelMACAddrV6));
    const status: Record<string, unknown> = {};
    setIf(status, 'wireguardPublicKey', ann(A.wireguardPublicKey));
    setIf(status, 'wireguardPublicKeyV6', ann(A.wireguardPublicKeyV6));
    const podCIDRs = list(k8sSpec?.podCIDRs, 'spec.podCIDRs').map((c, i) => str(c, `spec.podCIDRs[${i}]`) ?? '');
    if (podCIDRs.length > 0) status.podCIDRs = podCIDRs;
    res.spec = spec;
    res.status = status;

    dropRejected(res, warnings);
    if (Object.keys(bgp).length === 0) delete spec.bgp;
    if (Object.keys(wireguard).length === 0) delete spec.wireguard;
    if (Object.keys(status).length === 0) delete res.status;

    spec.orchRefs = [{ nodeName: name, orchestrator: ORCHESTRATOR_K8S }];
    const addresses: Array<Record<string, string>> = [];
    for (const key of ['ipv4Address', 'ipv6Address']) {
      if (typeof bgp[key] === 'string') addresses.push({ address: bgp[key], type: 'CalicoNodeIP' });
    }
    list(obj(node.status, 'status')?.addresses, 'status.addresses').forEach((a, i) => {
      const entry = obj(a, `status.addresses[${i}]`);
      const type = str(entry?.type, `status.addresses[${i}].type`);
      const address = str(entry?.address, `status.addresses[${i}].address`) ?? '';
      if (type === 'InternalIP' || type === 'ExternalIP') addresses.push({ address, type });
    });
    if (addresses.length > 0) spec.addresses = addresses;
    return finish(res, warnings);
  });
}

function setIf(target: Record<string, unknown>, key: string, value: string | undefined): void {
  if (value) target[key] = value;
}

/** Calico's Node labels/annotations kept as JSON; unparseable is ignored with a warning, as Calico does. */
function jsonStringMap(text: string | undefined, annotation: string, warnings: string[]): Record<string, string> {
  if (text === undefined) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null) return {};
    if (typeof parsed === 'object' && !Array.isArray(parsed) && Object.values(parsed).every((v) => typeof v === 'string')) {
      return parsed as Record<string, string>;
    }
  } catch {
    // reported below
  }
  warnings.push(`annotation ${annotation} is not a JSON map of strings; ignored`);
  return {};
}

/** numorstring's `ASNumberFromString`: a 32-bit number, or dotted "a.b" of two 16-bit numbers. */
function asNumber(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text) <= 0xffffffff ? Number(text) : undefined;
  const dotted = /^(\d+)\.(\d+)$/.exec(text);
  if (!dotted || Number(dotted[1]) > 0xffff || Number(dotted[2]) > 0xffff) return undefined;
  return Number(dotted[1]) * 65536 + Number(dotted[2]);
}

/** Calico's `getStaticTunnelAddress`: the pod CIDR's address with its last byte + 1 (wrapping); none for IPv6. */
function staticTunnelAddress(podCIDR: string): string | undefined {
  const cidr = parseCIDR(podCIDR);
  if (!cidr) throw new InputProblem(`spec.podCIDR "${podCIDR}" is not a CIDR`);
  if (cidr.version !== 4) return undefined;
  const bytes = new Uint8Array(cidr.addr.bytes);
  bytes[3] = (bytes[3] + 1) & 0xff;
  return formatIP({ version: 4, bytes });
}

/** Drops each annotation-derived field the Node validator rejects, with a warning naming its source. */
function dropRejected(res: Resource, warnings: string[]): void {
  const rejected = new Set<string>();
  for (const issue of validateResource(res)) {
    const hit = SOURCES.find(([path]) => issue.path === path || issue.path.startsWith(`${path}[`) || issue.path.startsWith(`${path}.`));
    if (!hit || rejected.has(hit[0])) continue;
    rejected.add(hit[0]);
    warnings.push(`${hit[1]}: ${issue.message}; ignored`);
    const parts = hit[0].split('.');
    let target: unknown = res;
    for (const p of parts.slice(0, -1)) target = (target as Record<string, unknown> | undefined)?.[p];
    if (target && typeof target === 'object') delete (target as Record<string, unknown>)[parts[parts.length - 1]];
  }
}

/**
 * Calico Node → the annotations of its Kubernetes Node: what Calico's Kubernetes datastore
 * writes when a Calico Node is updated (libcalico-go `mergeCalicoNodeIntoK8sNode`), as a merge
 * patch of `metadata.annotations` in which `null` removes an annotation. Every annotation Calico
 * manages is in the patch, set or removed, so the patch alone makes the Kubernetes Node agree
 * with the Calico Node whatever it held before; the Kubernetes labels are never written.
 *
 * Labels and annotations of the Calico Node are stored as JSON in projectcalico.org/labels and
 * projectcalico.org/annotations, without what the read added: the labels named in
 * projectcalico.org/kube-labels (inherited from Kubernetes) and that annotation itself.
 */
import { describeRef, isPlainObject, type Resource } from '@cattail/api';
import { NODE_ANNOTATIONS as A, goJSONStringMap } from './node-annotations.js';
import { InputProblem, type Failed } from './result.js';

export interface NodeAnnotationPatch {
  readonly metadata: { readonly annotations: Readonly<Record<string, string | null>> };
}

export type NodePatchResult = { readonly outcome: 'converted'; readonly patch: NodeAnnotationPatch } | Failed;

export function calicoNodeToK8sAnnotationPatch(node: Resource): NodePatchResult {
  const what = describeRef({ kind: 'Node', name: node.metadata?.name ?? '<no name>' });
  try {
    return { outcome: 'converted', patch: { metadata: { annotations: annotationsFor(node) } } };
  } catch (err) {
    if (err instanceof InputProblem) return { outcome: 'failed', error: `${what}: ${err.message}` };
    throw err;
  }
}

function stringMap(v: unknown, path: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isPlainObject(v) || !Object.values(v).every((x) => typeof x === 'string')) throw new InputProblem(`${path} must be a map of strings`);
  return { ...(v as Record<string, string>) };
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return isPlainObject(v) ? v : undefined;
}

function text(v: unknown): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number') return String(v);
  return null;
}

function annotationsFor(node: Resource): Record<string, string | null> {
  const labels = stringMap(node.metadata.labels, 'metadata.labels');
  const annotations = stringMap(node.metadata.annotations, 'metadata.annotations');
  const kubeLabels = annotations[A.kubeLabels];
  if (kubeLabels) {
    let inherited: unknown;
    try {
      inherited = JSON.parse(kubeLabels);
    } catch {
      throw new InputProblem(`annotation ${A.kubeLabels} is not JSON: the labels inherited from Kubernetes cannot be told apart`);
    }
    if (inherited !== null && !isPlainObject(inherited)) throw new InputProblem(`annotation ${A.kubeLabels} is not a JSON map`);
    for (const key of Object.keys(inherited ?? {})) delete labels[key];
  }
  delete annotations[A.kubeLabels];

  const spec = asObject(node.spec) ?? {};
  const bgp = asObject(spec.bgp);
  const wireguard = asObject(spec.wireguard);
  const status = asObject(node.status) ?? {};
  return {
    [A.labels]: Object.keys(labels).length > 0 ? goJSONStringMap(labels) : null,
    [A.annotations]: Object.keys(annotations).length > 0 ? goJSONStringMap(annotations) : null,
    [A.ipv4VXLANTunnelAddr]: text(spec.ipv4VXLANTunnelAddr),
    [A.vxlanTunnelMACAddr]: text(spec.vxlanTunnelMACAddr),
    [A.ipv6VXLANTunnelAddr]: text(spec.ipv6VXLANTunnelAddr),
    [A.vxlanTunnelMACAddrV6]: text(spec.vxlanTunnelMACAddrV6),
    [A.ipv4Address]: text(bgp?.ipv4Address),
    [A.ipv4IPIPTunnelAddr]: text(bgp?.ipv4IPIPTunnelAddr),
    [A.ipv6Address]: text(bgp?.ipv6Address),
    [A.asNumber]: asNumberText(bgp?.asNumber),
    [A.routeReflectorClusterID]: text(bgp?.routeReflectorClusterID),
    [A.wireguardIPv4]: text(wireguard?.interfaceIPv4Address),
    [A.wireguardIPv6]: text(wireguard?.interfaceIPv6Address),
    [A.wireguardPublicKey]: text(status.wireguardPublicKey),
    [A.wireguardPublicKeyV6]: text(status.wireguardPublicKeyV6),
  };
}

/** `ASNumber.String()`: the decimal number, also for the dotted form. */
function asNumberText(v: unknown): string | null {
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'string' || v === '') return null;
  const dotted = /^(\d+)\.(\d+)$/.exec(v);
  return dotted ? String(Number(dotted[1]) * 65536 + Number(dotted[2])) : v;
}

/**
 * The Kubernetes Node annotations in which Calico keeps its Node's fields in Kubernetes-datastore
 * mode (libcalico-go `resources/node.go`, `resources/resources.go`), shared by the two
 * directions of the Node conversion.
 */

export const NODE_ANNOTATIONS = {
  ipv4Address: 'projectcalico.org/IPv4Address',
  ipv6Address: 'projectcalico.org/IPv6Address',
  asNumber: 'projectcalico.org/ASNumber',
  routeReflectorClusterID: 'projectcalico.org/RouteReflectorClusterID',
  ipv4IPIPTunnelAddr: 'projectcalico.org/IPv4IPIPTunnelAddr',
  ipv4VXLANTunnelAddr: 'projectcalico.org/IPv4VXLANTunnelAddr',
  vxlanTunnelMACAddr: 'projectcalico.org/VXLANTunnelMACAddr',
  ipv6VXLANTunnelAddr: 'projectcalico.org/IPv6VXLANTunnelAddr',
  vxlanTunnelMACAddrV6: 'projectcalico.org/VXLANTunnelMACAddrV6',
  wireguardIPv4: 'projectcalico.org/IPv4WireguardInterfaceAddr',
  wireguardIPv6: 'projectcalico.org/IPv6WireguardInterfaceAddr',
  wireguardPublicKey: 'projectcalico.org/WireguardPublicKey',
  wireguardPublicKeyV6: 'projectcalico.org/WireguardPublicKeyV6',
  /** The Calico Node's own labels, as JSON (a Kubernetes Node's labels are the cluster's). */
  labels: 'projectcalico.org/labels',
  /** The Calico Node's own annotations, as JSON. */
  annotations: 'projectcalico.org/annotations',
  /** Set on the Calico Node (not the Kubernetes one): the Kubernetes labels merged into its labels, as JSON. */
  kubeLabels: 'projectcalico.org/kube-labels',
} as const;

/**
 * A string map as Go's `encoding/json` writes it, so annotations we write are byte-identical to
 * Calico's: keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped, control characters as \u00XX
 * except \n, \r and \t. `null` for an absent map, as Go marshals a nil map.
 */
export function goJSONStringMap(map: Readonly<Record<string, string>> | undefined): string {
  if (map === undefined) return 'null';
  const keys = Object.keys(map).sort();
  return `{${keys.map((k) => `${goJSONString(k)}:${goJSONString(map[k])}`).join(',')}}`;
}

function goJSONString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

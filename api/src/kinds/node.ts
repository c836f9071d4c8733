/**
 * Node: Calico's record of a host (libcalico-go `lib/apis/v3`), written by calico/node. Its BGP
 * section, when present, must say something: an address (IPv4 as `address/prefix` of the
 * node's own interface, or a bare address), an AS number or a route-reflector cluster ID.
 */
import type { ValidationIssue } from '../errors.js';
import { asNumber, cidr, ip, mac, name } from '../validation/fields.js';
import { wireguardKey } from '../validation/formats.js';
import { asObject, type KindDef, type WithSpec } from '../validation/kind-def.js';
import { arr, obj, oneOf, str, test, type Infer } from '../validation/schema.js';

const spec = obj({
  bgp: obj({
    asNumber: asNumber(),
    ipv4Address: cidr({ version: 4, bareIP: true }),
    ipv6Address: cidr({ version: 6, bareIP: true }),
    ipv4IPIPTunnelAddr: ip(4),
    routeReflectorClusterID: ip(4),
  }),
  ipv4VXLANTunnelAddr: ip(4),
  vxlanTunnelMACAddr: mac(),
  ipv6VXLANTunnelAddr: ip(6),
  vxlanTunnelMACAddrV6: mac(),
  orchRefs: arr(obj({ nodeName: str(), orchestrator: str() }, { required: ['orchestrator'] })),
  wireguard: obj({ interfaceIPv4Address: ip(4), interfaceIPv6Address: ip(6) }),
  addresses: arr(obj({ address: cidr({ bareIP: true }), type: oneOf(['CalicoNodeIP', 'InternalIP', 'ExternalIP'] as const) }, { required: ['address'] })),
  interfaces: arr(obj({ name: name(), addresses: arr(str()) })),
});

const status = obj({
  wireguardPublicKey: str({ check: test(wireguardKey) }),
  wireguardPublicKeyV6: str({ check: test(wireguardKey) }),
  podCIDRs: arr(cidr()),
});

export type NodeSpec = Infer<typeof spec>;
export type NodeStatus = Infer<typeof status>;

function rules(res: WithSpec, issues: ValidationIssue[]): void {
  const bgp = asObject(res.spec.bgp);
  if (bgp && Object.keys(bgp).length === 0) {
    issues.push({ path: 'spec.bgp', message: 'must not be empty: set ipv4Address or ipv6Address, or remove bgp' });
  }
}

export const node: KindDef = { kind: 'Node', spec, status, rules };

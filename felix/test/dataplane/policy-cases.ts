/** A table of policy rules covering every rule feature, shared by the render and nft -c tests. */
import type { Rule } from '../../src/proto/messages.js';
import { applyMessages, emptyDesiredState, type DesiredState } from '../../src/dataplane/desired-state.js';

export const NET_SET = 's:netset';
export const PORT_SET = 'n:portset';

export interface PolicyCase {
  name: string;
  inbound: Rule[];
  outbound: Rule[];
  /** Substrings the rendered pi-/po- chains must contain. */
  expect: string[];
}

export const POLICY_CASES: PolicyCase[] = [
  { name: 'allow all', inbound: [{ action: 'Allow', position: 0 }], outbound: [], expect: ['meta mark set meta mark | 0x10000 return'] },
  { name: 'deny tcp', inbound: [{ action: 'Deny', position: 0, protocol: 'tcp' }], outbound: [], expect: ['meta l4proto tcp drop'] },
  { name: 'pass', inbound: [{ action: 'Pass', position: 0 }], outbound: [], expect: ['meta mark set meta mark | 0x20000 return'] },
  {
    name: 'log',
    inbound: [{ action: 'Log', position: 0, protocol: 'udp' }],
    outbound: [],
    expect: ['meta l4proto udp log prefix "calico-packet: " level info'],
  },
  {
    name: 'ports and ranges',
    inbound: [
      {
        action: 'Allow',
        position: 0,
        protocol: 'tcp',
        dstPorts: [
          { first: 80, last: 80 },
          { first: 8080, last: 8090 },
        ],
      },
    ],
    outbound: [],
    expect: ['meta l4proto tcp th dport { 80, 8080-8090 } meta mark set'],
  },
  {
    name: 'not ports and source ports',
    inbound: [{ action: 'Deny', position: 0, protocol: 'udp', srcPorts: [{ first: 53, last: 53 }], notDstPorts: [{ first: 1, last: 1023 }] }],
    outbound: [],
    expect: ['meta l4proto udp th dport != { 1-1023 } th sport { 53 } drop'],
  },
  {
    name: 'named ports',
    inbound: [{ action: 'Allow', position: 0, protocol: 'tcp', dstNamedPortIpSetIds: [PORT_SET] }],
    outbound: [{ action: 'Deny', position: 0, protocol: 'tcp', notDstNamedPortIpSetIds: [PORT_SET] }],
    expect: ['ip daddr . meta l4proto . th dport @s4-', 'ip6 daddr . meta l4proto . th dport != @s6-'],
  },
  {
    name: 'icmp type and code',
    inbound: [{ action: 'Allow', position: 0, protocol: 'icmp', icmp: { type: 8, code: 0 } }],
    outbound: [{ action: 'Deny', position: 0, protocol: 'icmpv6', notIcmp: { type: 128, code: 0 } }],
    expect: ['meta l4proto icmp icmp type 8 icmp code 0', 'icmpv6 type . icmpv6 code != { 128 . 0 } drop'],
  },
  {
    name: 'nets and notNets',
    inbound: [{ action: 'Allow', position: 0, srcNets: ['10.0.0.0/8', 'fd00::/8'], notSrcNets: ['10.1.0.0/16'] }],
    outbound: [{ action: 'Allow', position: 0, dstNets: ['192.168.0.0/16'] }],
    expect: ['ip saddr { 10.0.0.0/8 } ip saddr != { 10.1.0.0/16 }', 'ip6 saddr { fd00::/8 }', 'ip daddr { 192.168.0.0/16 }'],
  },
  {
    name: 'ip sets and not ip sets',
    inbound: [{ action: 'Allow', position: 0, srcIpSetIds: [NET_SET], notDstIpSetIds: [NET_SET] }],
    outbound: [],
    expect: ['ip saddr @s4-', 'ip daddr != @s4-', 'ip6 saddr @s6-'],
  },
  {
    name: 'ipVersion and notProtocol',
    inbound: [{ action: 'Allow', position: 0, ipVersion: 6, notProtocol: 'udp' }],
    outbound: [],
    expect: ['meta nfproto ipv6 meta l4proto != udp meta mark set'],
  },
];

/** A state with the two IP sets, one policy `default/p` with the given rules and one endpoint using it. */
export function stateWithPolicy(inbound: Rule[], outbound: Rule[]): DesiredState {
  const state = emptyDesiredState();
  applyMessages(state, [
    { kind: 'IPSetUpdate', id: NET_SET, type: 'net', members: ['10.0.0.0/8', '10.1.0.0/16', 'fd00::1/128'] },
    { kind: 'IPSetUpdate', id: PORT_SET, type: 'ip-port', members: ['10.0.0.5,tcp:8080', 'fd00::5,udp:53'] },
    { kind: 'ActivePolicyUpdate', id: { tier: 'default', name: 'p' }, policy: { inboundRules: inbound, outboundRules: outbound } },
    {
      kind: 'ActiveProfileUpdate',
      id: { name: 'kns.default' },
      profile: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    {
      kind: 'WorkloadEndpointUpdate',
      id: { namespace: 'default', name: 'a' },
      endpoint: {
        name: 'cali1',
        ipv4Nets: ['10.65.0.1/32'],
        ipv6Nets: [],
        profileIds: ['kns.default'],
        tiers: [
          { name: 'default', defaultAction: 'Deny', ingressPolicies: [{ tier: 'default', name: 'p' }], egressPolicies: [{ tier: 'default', name: 'p' }] },
        ],
      },
    },
    { kind: 'InSync' },
  ]);
  return state;
}

/** `stateWithPolicy` plus a host endpoint on eth0 using policy `default/p` in every tier kind it renders. */
export function stateWithHostEndpoint(inbound: Rule[], outbound: Rule[]): DesiredState {
  const state = stateWithPolicy(inbound, outbound);
  const tier = {
    name: 'default',
    defaultAction: 'Deny' as const,
    ingressPolicies: [{ tier: 'default', name: 'p' }],
    egressPolicies: [{ tier: 'default', name: 'p' }],
  };
  applyMessages(state, [
    {
      kind: 'HostEndpointUpdate',
      id: { name: 'node1-eth0' },
      endpoint: {
        name: 'eth0',
        expectedIpv4Addrs: ['192.168.0.1'],
        expectedIpv6Addrs: [],
        profileIds: ['kns.default'],
        tiers: [tier],
        untrackedTiers: [],
        preDnatTiers: [],
        forwardTiers: [tier],
      },
    },
  ]);
  return state;
}

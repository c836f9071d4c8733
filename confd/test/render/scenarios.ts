// The golden-file scenarios: each is a small datastore and the node whose BIRD configuration is
// rendered from it. One file per scenario in test/fixtures/golden/<name>.conf.
import type { Resource } from '@cattail/api';
import type { SecretReader } from '../../src/index.js';
import { affinity, bgpConfig, block, node, peer, pool } from '../helpers/resources.js';

export interface Scenario {
  name: string;
  node: string;
  resources: Resource[];
  secrets?: Record<string, string>;
}

export function secretsFrom(values: Record<string, string> = {}): SecretReader {
  return (ref) => {
    const v = values[`${ref.name}/${ref.key}`];
    return v === undefined ? { error: `no secret ${ref.name}/${ref.key}` } : { value: v };
  };
}

const threeNodes = [
  node('node-a', { ipv4: '172.31.0.1/24' }),
  node('node-b', { ipv4: '172.31.0.2/24' }),
  node('node-c', { ipv4: '172.31.0.3/24' }),
  pool('default-ipv4-ippool', '10.65.0.0/16'),
  block('10.65.1.0/26', 'node-a'),
  block('10.65.2.0/26', 'node-b'),
  block('10.65.3.0/26', 'node-c'),
];

export const SCENARIOS: readonly Scenario[] = [
  {
    // The default: no BGPConfiguration, full mesh, AS 64512; node-b has one lower and one higher neighbour.
    name: 'mesh',
    node: 'node-b',
    resources: threeNodes,
  },
  {
    name: 'peers',
    node: 'node-b',
    resources: [
      ...threeNodes.map((r) => (r.metadata.name === 'node-b' ? node('node-b', { ipv4: '172.31.0.2/24', labels: { rack: 'r1', edge: 'true' } }) : r)),
      bgpConfig('default', { nodeMeshPassword: { secretKeyRef: { name: 'bgp-secrets', key: 'mesh' } } }),
      // Global eBGP peer (every node) with a password and timers.
      peer('tor-global', {
        peerIP: '192.0.2.1',
        asNumber: 65001,
        password: { secretKeyRef: { name: 'bgp-secrets', key: 'tor' } },
        keepaliveTime: '20s',
        maxRestartTime: '2m',
      }),
      // Node-specific peer by name, keeping the original next hop, on a non-default port.
      peer('rack-router', { node: 'node-b', peerIP: '192.0.2.9:1179', asNumber: 65002, keepOriginalNextHop: true }),
      // Node-specific by selector, with TTL security, allowed local AS and no source address.
      peer('edge', {
        nodeSelector: "edge == 'true'",
        peerIP: '198.51.100.7',
        asNumber: 65003,
        ttlSecurity: 2,
        numAllowedLocalASNumbers: 1,
        sourceAddress: 'None',
        localASNumber: 64600,
      }),
      // Not for node-b: its nodeSelector does not match.
      peer('other-rack', { nodeSelector: "rack == 'r2'", peerIP: '192.0.2.50', asNumber: 65004 }),
      // Names a mesh neighbour explicitly: the node-specific session wins over the mesh one.
      peer('to-node-c', { node: 'node-b', peerIP: '172.31.0.3', asNumber: 64512, nextHopMode: 'Self' }),
      // Not supported: a comment, no session.
      peer('workloads', { localWorkloadSelector: "app == 'bgp'", asNumber: 65100 }),
    ],
    secrets: { 'bgp-secrets/mesh': 'mesh-pass', 'bgp-secrets/tor': 'tor pass #1' },
  },
  {
    name: 'route-reflector',
    node: 'node-rr',
    resources: [
      bgpConfig('default', { nodeToNodeMeshEnabled: false, asNumber: 64512 }),
      node('node-rr', { ipv4: '172.31.0.10/24', rr: '244.0.0.1', labels: { 'route-reflector': 'true' } }),
      node('node-a', { ipv4: '172.31.0.1/24' }),
      node('node-b', { ipv4: '172.31.0.2/24' }),
      node('node-rr2', { ipv4: '172.31.0.11/24', rr: '244.0.0.1', labels: { 'route-reflector': 'true' } }),
      node('node-x', { ipv4: '172.31.0.20/24', as: 65010 }),
      peer('peer-with-rr', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" }),
      pool('default-ipv4-ippool', '10.65.0.0/16'),
      block('10.65.1.0/26', 'node-a'),
      block('10.65.10.0/26', 'node-rr'),
    ],
  },
  {
    name: 'route-reflector-client',
    node: 'node-a',
    resources: [
      bgpConfig('default', { nodeToNodeMeshEnabled: false }),
      node('node-rr', { ipv4: '172.31.0.10/24', rr: '244.0.0.1', labels: { 'route-reflector': 'true' } }),
      node('node-a', { ipv4: '172.31.0.1/24' }),
      node('node-b', { ipv4: '172.31.0.2/24' }),
      peer('peer-with-rr', { nodeSelector: 'all()', peerSelector: "route-reflector == 'true'" }),
      pool('default-ipv4-ippool', '10.65.0.0/16'),
      block('10.65.1.0/26', 'node-a'),
    ],
  },
  {
    name: 'blocks',
    node: 'node-a',
    resources: [
      node('node-a', { ipv4: '172.31.0.1/24' }),
      node('node-b', { ipv4: '172.31.0.2/24' }),
      pool('pool-a', '10.65.0.0/16'),
      pool('pool-small-blocks', '10.70.0.0/16', { blockSize: 28 }),
      pool('pool-private', '10.80.0.0/16', { disableBGPExport: true }),
      pool('pool-v6', 'fd00:10::/64'),
      block('10.65.1.0/26', 'node-a'),
      block('10.65.1.64/26', 'node-a'),
      affinity('node-a', '10.65.7.0/26'), // affinity only, block not written yet
      affinity('node-a', '10.65.8.0/26', 'pending'), // not confirmed: no route
      affinity('node-a', '10.65.9.0/26', 'confirmed', true), // deleted: no route
      block('10.70.0.16/28', 'node-a'),
      block('10.80.0.0/26', 'node-a'),
      block('10.90.0.0/26', 'node-a'), // in no pool: blackholed, not exported
      block('10.65.2.0/26', 'node-b'),
      block('10.65.3.0/26', undefined),
      block('fd00:10::/122', 'node-a'), // IPv6 block on an IPv4-only node: left out
    ],
  },
  {
    name: 'ipv6',
    node: 'node-a',
    resources: [
      node('node-a', { ipv4: '172.31.0.1/24', ipv6: 'fd00:31::1/64' }),
      node('node-b', { ipv4: '172.31.0.2/24', ipv6: 'fd00:31::2/64' }),
      node('node-v6', { ipv6: 'fd00:31::3/64' }),
      pool('default-ipv4-ippool', '10.65.0.0/16'),
      pool('default-ipv6-ippool', 'fd00:10::/64'),
      block('10.65.1.0/26', 'node-a'),
      block('fd00:10::/122', 'node-a'),
      block('fd00:10::40/122', 'node-a'),
      block('fd00:10::80/122', 'node-b'),
      peer('v6-tor', { peerIP: '[fd00:31::fe]:1179', asNumber: 65001 }),
    ],
  },
  {
    name: 'ipv6-only',
    node: 'node-v6',
    resources: [
      node('node-a', { ipv4: '172.31.0.1/24', ipv6: 'fd00:31::1/64' }),
      node('node-v6', { ipv6: 'fd00:31::3/64' }),
      pool('default-ipv6-ippool', 'fd00:10::/64'),
      block('fd00:10::c0/122', 'node-v6'),
    ],
  },
  {
    name: 'as-overrides',
    node: 'node-a',
    resources: [
      bgpConfig('default', { asNumber: 65000, listenPort: 1790, logSeverityScreen: 'Warning', nodeMeshMaxRestartTime: '90s' }),
      bgpConfig('node.node-a', { logSeverityScreen: 'Debug', bindMode: 'NodeIP', ignoredInterfaces: ['docker*'] }),
      node('node-a', { ipv4: '172.31.0.1/24', as: 65101 }),
      node('node-b', { ipv4: '172.31.0.2/24' }),
      node('node-c', { ipv4: '172.31.0.3/24', as: '1.10' }),
      peer('upstream', { peerIP: '192.0.2.1', asNumber: 65101, localASNumber: 65200 }),
      pool('default-ipv4-ippool', '10.65.0.0/16'),
      block('10.65.1.0/26', 'node-a'),
    ],
  },
];

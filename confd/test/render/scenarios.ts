// The golden-file scenarios: each is a small datastore and the node whose BIRD configuration is
// rendered from it. One file per scenario in test/fixtures/golden/<name>.conf.
import type { Resource } from '@cattail/api';
import type { SecretReader } from '../../src/index.js';
import { affinity, bgpConfig, bgpFilter, block, endpointSlice, node, peer, pool, service, workload } from '../helpers/resources.js';

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
  {
    // BGPFilters on peers, v4 and v6, every match and operation; a missing filter; communities.
    name: 'filters',
    node: 'node-a',
    resources: [
      node('node-a', { ipv4: '172.31.0.1/24', ipv6: 'fd00:31::1/64' }),
      node('node-b', { ipv4: '172.31.0.2/24', ipv6: 'fd00:31::2/64' }),
      pool('default-ipv4-ippool', '10.65.0.0/16'),
      pool('default-ipv6-ippool', 'fd00:10::/64'),
      block('10.65.1.0/26', 'node-a'),
      block('fd00:10::/122', 'node-a'),
      bgpFilter('edge-v4', {
        exportV4: [
          { action: 'Reject', matchOperator: 'Equal', cidr: '10.65.1.64/26' },
          { action: 'Accept', matchOperator: 'In', cidr: '10.66.0.0/16', prefixLength: { min: 24, max: 28 } },
          { action: 'Reject', source: 'RemotePeers', interface: 'eth*' },
          { action: 'Accept', matchOperator: 'NotEqual', cidr: '10.67.0.0/16', prefixLength: { max: 8 } },
          { action: 'Accept', matchOperator: 'Equal', cidr: '10.68.0.0/16', prefixLength: { min: 20 } },
        ],
        importV4: [
          { action: 'Reject', matchOperator: 'In', cidr: '10.98.0.0/16', prefixLength: { min: 24 } },
          { action: 'Accept', matchOperator: 'NotIn', cidr: '10.0.0.0/8', peerType: 'eBGP' },
          {
            action: 'Accept',
            communities: { values: ['65000:7'] },
            asPathPrefix: [65000, 65001],
            priority: 512,
            operations: [{ addCommunity: { value: '65000:8:9' } }, { prependASPath: { prefix: [65010, 65011] } }, { setPriority: { value: 256 } }],
          },
        ],
      }),
      bgpFilter('v6-only', {
        importV6: [{ action: 'Reject', matchOperator: 'NotIn', cidr: 'fd00:10::/64' }],
        exportV6: [{ action: 'Accept', matchOperator: 'In', cidr: 'fd00:99::/48', prefixLength: { min: 56, max: 64 } }],
      }),
      bgpFilter('a-very-long-filter-name-that-does-not-fit-in-a-bird-symbol-of-64', { importV4: [{ action: 'Reject' }] }),
      peer('tor', {
        node: 'node-a',
        peerIP: '192.0.2.1',
        asNumber: 65000,
        filters: ['edge-v4', 'a-very-long-filter-name-that-does-not-fit-in-a-bird-symbol-of-64'],
      }),
      peer('tor-v6', { node: 'node-a', peerIP: 'fd00:31::fe', asNumber: 65000, filters: ['v6-only', 'edge-v4'] }),
      peer('ibgp-rr', { node: 'node-a', peerIP: '192.0.2.2', asNumber: 64512, filters: ['edge-v4', 'gone'] }),
      bgpConfig('default', {
        communities: [
          { name: 'edge', value: '65000:100' },
          { name: 'big', value: '65000:1:2' },
        ],
        prefixAdvertisements: [
          { cidr: '10.65.0.0/16', communities: ['edge', '65000:101'] },
          { cidr: '10.65.1.0/26', communities: ['big'] },
          { cidr: 'fd00:10::/64', communities: ['65000:600:1'] },
        ],
      }),
    ],
  },
  {
    // A node's own prefix advertisements replace the default's; names resolve there, then in default.
    name: 'node-communities',
    node: 'node-a',
    resources: [
      node('node-a', { ipv4: '172.31.0.1/24' }),
      pool('default-ipv4-ippool', '10.65.0.0/16'),
      block('10.65.1.0/26', 'node-a'),
      bgpConfig('default', { communities: [{ name: 'edge', value: '65000:100' }], prefixAdvertisements: [{ cidr: '10.65.0.0/16', communities: ['edge'] }] }),
      bgpConfig('node.node-a', {
        communities: [{ name: 'rack', value: '65000:200' }],
        prefixAdvertisements: [{ cidr: '10.65.1.0/26', communities: ['rack', '65000:201'] }],
      }),
      peer('tor', { peerIP: '192.0.2.1', asNumber: 65000 }),
    ],
  },
  {
    // reachableBy: a static route to the peer through its gateway; local workload peerings.
    name: 'reachable-and-workloads',
    node: 'node-a',
    resources: [
      bgpConfig('default', { nodeToNodeMeshEnabled: false }),
      node('node-a', { ipv4: '172.31.0.1/24', ipv6: 'fd00:31::1/64' }),
      node('node-b', { ipv4: '172.31.0.2/24' }),
      pool('default-ipv4-ippool', '10.65.0.0/16'),
      block('10.65.1.0/26', 'node-a'),
      peer('far-tor', { peerIP: '198.51.100.1', asNumber: 65000, reachableBy: '172.31.0.254' }),
      peer('far-tor-v6', { node: 'node-a', peerIP: 'fd00:99::1', asNumber: 65000, reachableBy: 'fd00:31::fe' }),
      peer('children', { localWorkloadSelector: "app == 'bird'", asNumber: 65100, localASNumber: 65001, filters: ['from-children'] }),
      bgpFilter('from-children', { importV4: [{ action: 'Accept', matchOperator: 'In', cidr: '10.200.0.0/16' }, { action: 'Reject' }] }),
      workload('node-a', 'bird-1', ['10.65.1.5/32', 'fd00:10::5/128'], { app: 'bird' }),
      workload('node-a', 'web-1', ['10.65.1.6/32'], { app: 'web' }),
      workload('node-b', 'bird-2', ['10.65.2.5/32'], { app: 'bird' }),
    ],
  },
  {
    // Service ranges: advertised by every node with the communities that cover them, kept out of the kernel.
    name: 'services',
    node: 'node-a',
    resources: [
      node('node-a', { ipv4: '172.31.0.1/24', ipv6: 'fd00:31::1/64' }),
      node('node-b', { ipv4: '172.31.0.2/24' }),
      pool('default-ipv4-ippool', '10.65.0.0/16'),
      block('10.65.1.0/26', 'node-a'),
      bgpConfig('default', {
        serviceClusterIPs: [{ cidr: '10.96.0.0/12' }, { cidr: 'fd00:96::/112' }],
        serviceExternalIPs: [{ cidr: '192.0.2.64/28' }, { cidr: '10.96.0.0/12' }],
        serviceLoadBalancerIPs: [{ cidr: '198.51.100.0/28' }],
        prefixAdvertisements: [{ cidr: '10.96.0.0/12', communities: ['65000:96'] }],
      }),
    ],
  },
  {
    // Per-service routes: externalTrafficPolicy Local services with a ready endpoint here get a
    // /32 (/128) per address inside the advertised ranges; elsewhere, not ready, Cluster or out of
    // range: none (the range covers them).
    name: 'service-routes',
    node: 'node-a',
    resources: [
      node('node-a', { ipv4: '172.31.0.1/24', ipv6: 'fd00:31::1/64' }),
      node('node-b', { ipv4: '172.31.0.2/24' }),
      pool('default-ipv4-ippool', '10.65.0.0/16'),
      bgpConfig('default', {
        serviceClusterIPs: [{ cidr: '10.96.0.0/12' }, { cidr: 'fd00:96::/112' }],
        serviceExternalIPs: [{ cidr: '192.0.2.64/28' }],
        serviceLoadBalancerIPs: [{ cidr: '198.51.100.0/28' }],
      }),
      service('shop', 'web', {
        type: 'LoadBalancer',
        clusterIPs: ['10.96.0.10', 'fd00:96::10'],
        externalIPs: ['192.0.2.70', '203.0.113.9'],
        loadBalancerIPs: ['198.51.100.5'],
        externalTrafficPolicy: 'Local',
      }),
      endpointSlice('shop', 'web-1', 'web', [
        ['10.65.1.4', 'node-a', true],
        ['10.65.2.4', 'node-b', true],
      ]),
      endpointSlice('shop', 'web-2', 'web', [['fd00:65::4', 'node-a', true]]),
      service('shop', 'api', { clusterIPs: ['10.96.0.11'], externalTrafficPolicy: 'Local', type: 'NodePort' }),
      endpointSlice('shop', 'api-1', 'api', [['10.65.2.5', 'node-b', true]]),
      service('shop', 'starting', { clusterIPs: ['10.96.0.12'], externalTrafficPolicy: 'Local', type: 'NodePort' }),
      endpointSlice('shop', 'starting-1', 'starting', [['10.65.1.6', 'node-a', false]]),
      service('shop', 'cluster', { clusterIPs: ['10.96.0.13'], loadBalancerIPs: ['198.51.100.6'], externalTrafficPolicy: 'Cluster', type: 'LoadBalancer' }),
      endpointSlice('shop', 'cluster-1', 'cluster', [['10.65.1.7', 'node-a', true]]),
      service('shop', 'outside', { clusterIPs: ['10.200.0.1'], externalTrafficPolicy: 'Local', type: 'NodePort' }),
      endpointSlice('shop', 'outside-1', 'outside', [['10.65.1.8', 'node-a', true]]),
    ],
  },
  {
    // serviceLoadBalancerAggregation Disabled: every node advertises each LoadBalancer IP as a /32.
    name: 'service-lb-per-address',
    node: 'node-b',
    resources: [
      node('node-a', { ipv4: '172.31.0.1/24' }),
      node('node-b', { ipv4: '172.31.0.2/24' }),
      bgpConfig('default', { serviceLoadBalancerIPs: [{ cidr: '198.51.100.0/28' }], serviceLoadBalancerAggregation: 'Disabled' }),
      service('shop', 'cluster', { clusterIPs: ['10.96.0.13'], loadBalancerIPs: ['198.51.100.6'], externalTrafficPolicy: 'Cluster', type: 'LoadBalancer' }),
      endpointSlice('shop', 'cluster-1', 'cluster', [['10.65.1.7', 'node-a', true]]),
    ],
  },
];

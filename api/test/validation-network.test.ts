import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, expectIssue, expectValid, fixture, issuesOf, runTable } from './validation-helpers.js';
import { checkResource } from '../src/validation/index.js';

const pool = (spec: unknown) => doc('IPPool', spec, 'pool-a');

test('IPPool defaults, as libcalico-go fills them on create', () => {
  const v4 = expectValid(pool({ cidr: '10.0.0.0/16' })).spec;
  assert.deepEqual(v4, {
    cidr: '10.0.0.0/16',
    blockSize: 26,
    ipipMode: 'Never',
    vxlanMode: 'Never',
    nodeSelector: 'all()',
    allowedUses: ['Workload', 'Tunnel'],
    assignmentMode: 'Automatic',
  });
  const v6 = expectValid(pool({ cidr: 'FD00:0:0:0::/64' })).spec;
  assert.equal(v6.blockSize, 122);
  assert.equal(v6.cidr, 'fd00::/64', 'the CIDR is stored in canonical form');
  const kept = expectValid(pool({ cidr: '10.0.0.0/16', blockSize: 24, vxlanMode: 'Always', allowedUses: ['Workload'], nodeSelector: "zone == 'a'" })).spec;
  assert.equal(kept.blockSize, 24);
  assert.equal(kept.vxlanMode, 'Always');
  assert.deepEqual(kept.allowedUses, ['Workload']);
  assert.equal(kept.nodeSelector, "zone == 'a'");
  assert.equal(expectValid(pool({ cidr: '10.0.0.0/16', blockSize: 0 })).spec.blockSize, 26, 'blockSize 0 means unset');
});

test('IPPool validation', () => {
  runTable([
    { name: 'docs sample', doc: fixture('ippool.json') },
    { name: 'v6 vxlan', doc: pool({ cidr: 'fd00:10::/64', vxlanMode: 'CrossSubnet', blockSize: 116 }) },
    { name: 'disabled small pool', doc: pool({ cidr: '10.0.0.0/28', disabled: true }) },
    { name: 'load balancer pool', doc: pool({ cidr: '192.0.2.0/24', allowedUses: ['LoadBalancer'], assignmentMode: 'Manual' }) },
    { name: 'cidr required', doc: pool({ natOutgoing: true }), path: 'spec.cidr', message: 'is required' },
    { name: 'cidr garbage', doc: pool({ cidr: '10.0.0/16' }), path: 'spec.cidr', message: 'is not a CIDR' },
    { name: 'host bits', doc: pool({ cidr: '10.0.0.1/16' }), path: 'spec.cidr', message: 'has host bits set: use 10.0.0.0/16' },
    { name: 'v4 link local', doc: pool({ cidr: '169.254.0.0/16' }), path: 'spec.cidr', message: 'link-local range 169.254.0.0/16' },
    { name: 'v6 link local', doc: pool({ cidr: 'fe80::/64' }), path: 'spec.cidr', message: 'link-local range fe80::/10' },
    { name: 'covers link local', doc: pool({ cidr: '128.0.0.0/1' }), path: 'spec.cidr', message: 'link-local' },
    {
      name: 'blockSize too big v4',
      doc: pool({ cidr: '10.0.0.0/16', blockSize: 33 }),
      path: 'spec.blockSize',
      message: '33 is outside 20..32 for an IPv4 pool',
    },
    { name: 'blockSize too small v4', doc: pool({ cidr: '10.0.0.0/8', blockSize: 19 }), path: 'spec.blockSize', message: '19 is outside 20..32' },
    { name: 'blockSize v6 range', doc: pool({ cidr: 'fd00::/64', blockSize: 26 }), path: 'spec.blockSize', message: '26 is outside 116..128 for an IPv6 pool' },
    { name: 'pool smaller than block', doc: pool({ cidr: '10.0.0.0/28' }), path: 'spec.blockSize', message: 'blockSize must be ≥ 28' },
    { name: 'blockSize string', doc: pool({ cidr: '10.0.0.0/16', blockSize: '26' }), path: 'spec.blockSize', message: 'expected an integer, got string "26"' },
    {
      name: 'ipipMode enum',
      doc: pool({ cidr: '10.0.0.0/16', ipipMode: 'Sometimes' }),
      path: 'spec.ipipMode',
      message: '"Sometimes" is not one of Never, Always, CrossSubnet',
    },
    { name: 'vxlanMode lower case', doc: pool({ cidr: '10.0.0.0/16', vxlanMode: 'always' }), path: 'spec.vxlanMode', message: 'is not one of' },
    { name: 'ipip on v6', doc: pool({ cidr: 'fd00::/64', ipipMode: 'Always' }), path: 'spec.ipipMode', message: 'IPIP is IPv4 only' },
    {
      name: 'both encaps',
      doc: pool({ cidr: '10.0.0.0/16', ipipMode: 'CrossSubnet', vxlanMode: 'Always' }),
      path: 'spec.vxlanMode',
      message: 'cannot enable both VXLAN and IPIP',
    },
    {
      name: 'natOutgoing string',
      doc: pool({ cidr: '10.0.0.0/16', natOutgoing: 'true' }),
      path: 'spec.natOutgoing',
      message: 'expected true or false, got string "true"',
    },
    { name: 'bad nodeSelector', doc: pool({ cidr: '10.0.0.0/16', nodeSelector: 'zone =' }), path: 'spec.nodeSelector', message: 'invalid selector' },
    { name: 'bad namespaceSelector', doc: pool({ cidr: '10.0.0.0/16', namespaceSelector: '(' }), path: 'spec.namespaceSelector', message: 'invalid selector' },
    {
      name: 'allowedUses enum',
      doc: pool({ cidr: '10.0.0.0/16', allowedUses: ['Pods'] }),
      path: 'spec.allowedUses[0]',
      message: 'is not one of Workload, Tunnel, LoadBalancer',
    },
    {
      name: 'allowedUses repeat',
      doc: pool({ cidr: '10.0.0.0/16', allowedUses: ['Workload', 'Workload'] }),
      path: 'spec.allowedUses[1]',
      message: 'duplicate entry',
    },
    {
      name: 'LB mixed uses',
      doc: pool({ cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer', 'Workload'] }),
      path: 'spec.allowedUses',
      message: 'LoadBalancer cannot be combined with Workload',
    },
    {
      name: 'LB encap',
      doc: pool({ cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], vxlanMode: 'Always' }),
      path: 'spec.allowedUses',
      message: 'cannot use IPIP or VXLAN',
    },
    {
      name: 'LB not exported',
      doc: pool({ cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], disableBGPExport: true }),
      path: 'spec.disableBGPExport',
      message: 'must be false for a LoadBalancer pool',
    },
    {
      name: 'LB node selector',
      doc: pool({ cidr: '10.0.0.0/16', allowedUses: ['LoadBalancer'], nodeSelector: "a == 'b'" }),
      path: 'spec.nodeSelector',
      message: 'must be all()',
    },
    {
      name: 'assignmentMode',
      doc: pool({ cidr: '10.0.0.0/16', assignmentMode: 'Auto' }),
      path: 'spec.assignmentMode',
      message: 'is not one of Automatic, Manual',
    },
    { name: 'v1 field', doc: pool({ cidr: '10.0.0.0/16', 'nat-outgoing': true }), path: 'spec.nat-outgoing', message: 'unknown field' },
  ]);
});

test('IPReservation: CIDRs or addresses, no repeats', () => {
  const r = (reservedCIDRs: unknown) => doc('IPReservation', { reservedCIDRs }, 'reserved');
  runTable([
    { name: 'docs sample', doc: fixture('ipreservation.json') },
    { name: 'host bits allowed', doc: r(['10.0.0.5/24']) },
    { name: 'garbage', doc: r(['10.0.0.300']), path: 'spec.reservedCIDRs[0]', message: 'is not a CIDR or address' },
    { name: 'repeat', doc: r(['10.0.0.1', '10.0.0.1']), path: 'spec.reservedCIDRs[1]', message: 'duplicate entry' },
    { name: 'not a list', doc: r('10.0.0.1'), path: 'spec.reservedCIDRs', message: 'expected a list' },
  ]);
});

const bgpConfig = (spec: unknown, name = 'default') => doc('BGPConfiguration', spec, name);

test('BGPConfiguration validation', () => {
  runTable([
    { name: 'docs sample', doc: fixture('bgpconfiguration.json') },
    { name: 'dotted AS', doc: bgpConfig({ asNumber: '1.10' }) },
    { name: 'AS string digits', doc: bgpConfig({ asNumber: '64512' }) },
    {
      name: 'per-node override',
      doc: bgpConfig(
        { logSeverityScreen: 'Debug', listenPort: 1179, prefixAdvertisements: [{ cidr: '10.0.0.0/24', communities: ['65000:100'] }] },
        'node.rack1-host1',
      ),
    },
    { name: 'AS too big', doc: bgpConfig({ asNumber: 4294967296 }), path: 'spec.asNumber', message: 'outside 0..4294967295' },
    { name: 'AS dotted too big', doc: bgpConfig({ asNumber: '70000.1' }), path: 'spec.asNumber', message: 'dotted form a.b' },
    { name: 'AS negative', doc: bgpConfig({ asNumber: -1 }), path: 'spec.asNumber', message: 'is not an AS number' },
    {
      name: 'log level',
      doc: bgpConfig({ logSeverityScreen: 'Verbose' }),
      path: 'spec.logSeverityScreen',
      message: 'is not one of Trace, Debug, Info, Warning, Error, Fatal',
    },
    { name: 'listenPort', doc: bgpConfig({ listenPort: 0 }), path: 'spec.listenPort', message: '0 is outside 1..65535' },
    { name: 'bindMode', doc: bgpConfig({ bindMode: 'All' }), path: 'spec.bindMode', message: 'is not one of None, NodeIP' },
    {
      name: 'service CIDR host bits',
      doc: bgpConfig({ serviceClusterIPs: [{ cidr: '10.96.0.1/12' }] }),
      path: 'spec.serviceClusterIPs[0].cidr',
      message: 'host bits',
    },
    { name: 'service CIDR required', doc: bgpConfig({ serviceExternalIPs: [{}] }), path: 'spec.serviceExternalIPs[0].cidr', message: 'is required' },
    {
      name: 'community value',
      doc: bgpConfig({ communities: [{ name: 'c', value: '65536:1' }], prefixAdvertisements: [{ cidr: '10.0.0.0/24', communities: ['c'] }] }),
      path: 'spec.communities[0].value',
      message: 'must be in 0..65535',
    },
    {
      name: 'community format',
      doc: bgpConfig({ communities: [{ name: 'c', value: 'x:1' }], prefixAdvertisements: [{ cidr: '10.0.0.0/24', communities: ['c'] }] }),
      path: 'spec.communities[0].value',
      message: 'use aa:nn (standard) or aa:nn:mm (large)',
    },
    { name: 'community unused', doc: bgpConfig({ communities: [{ name: 'c', value: '1:1' }] }), path: 'spec.communities', message: 'not used' },
    {
      name: 'undefined community name',
      doc: bgpConfig({ prefixAdvertisements: [{ cidr: '10.0.0.0/24', communities: ['nope'] }] }),
      path: 'spec.prefixAdvertisements[0].communities[0]',
      message: 'nor a name defined',
    },
    {
      name: 'large community range',
      doc: bgpConfig({ prefixAdvertisements: [{ cidr: '10.0.0.0/24', communities: ['1:2:4294967296'] }] }),
      path: 'spec.prefixAdvertisements[0].communities[0]',
      message: 'must be in 0..4294967295',
    },
    {
      name: 'password without mesh',
      doc: bgpConfig({ nodeToNodeMeshEnabled: false, nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k' } } }),
      path: 'spec.nodeMeshPassword',
      message: 'nodeToNodeMeshEnabled is false',
    },
    {
      name: 'restart time without mesh',
      doc: bgpConfig({ nodeToNodeMeshEnabled: false, nodeMeshMaxRestartTime: '120s' }),
      path: 'spec.nodeMeshMaxRestartTime',
      message: 'nodeToNodeMeshEnabled is false',
    },
    {
      name: 'secretKeyRef needs key',
      doc: bgpConfig({ nodeMeshPassword: { secretKeyRef: { name: 's' } } }),
      path: 'spec.nodeMeshPassword.secretKeyRef.key',
      message: 'is required',
    },
    {
      name: 'secretKeyRef shape',
      doc: bgpConfig({ nodeMeshPassword: { secretKeyRef: { name: 's', key: 'k', namespace: 'x' } } }),
      path: 'spec.nodeMeshPassword.secretKeyRef.namespace',
      message: 'unknown field',
    },
    { name: 'restart time format', doc: bgpConfig({ nodeMeshMaxRestartTime: '2 minutes' }), path: 'spec.nodeMeshMaxRestartTime', message: 'is not a duration' },
    {
      name: 'mesh on a node config',
      doc: bgpConfig({ nodeToNodeMeshEnabled: false }, 'node.n1'),
      path: 'spec.nodeToNodeMeshEnabled',
      message: 'only be set on the BGPConfiguration named "default"',
    },
    { name: 'AS on a node config', doc: bgpConfig({ asNumber: 65000 }, 'node.n1'), path: 'spec.asNumber', message: 'named "default"' },
    {
      name: 'service IPs on a node config',
      doc: bgpConfig({ serviceClusterIPs: [{ cidr: '10.96.0.0/12' }] }, 'node.n1'),
      path: 'spec.serviceClusterIPs',
      message: 'named "default"',
    },
    { name: 'ignored interfaces', doc: bgpConfig({ ignoredInterfaces: ['docker*', 'veth1'] }) },
    { name: 'ignored interface star', doc: bgpConfig({ ignoredInterfaces: ['*'] }), path: 'spec.ignoredInterfaces[0]', message: 'not "*" alone' },
    { name: 'workload peering IPs', doc: bgpConfig({ localWorkloadPeeringIPV4: '169.254.0.1', localWorkloadPeeringIPV6: 'fe80::1' }) },
    {
      name: 'workload peering family',
      doc: bgpConfig({ localWorkloadPeeringIPV4: 'fe80::1' }),
      path: 'spec.localWorkloadPeeringIPV4',
      message: 'is not an IPv4 address',
    },
  ]);
});

const peer = (spec: unknown) => doc('BGPPeer', spec, 'peer-a');

test('BGPPeer validation', () => {
  runTable([
    { name: 'docs sample', doc: fixture('bgppeer.json') },
    { name: 'peer selector', doc: fixture('bgppeer-selector.json') },
    { name: 'v4 with port', doc: peer({ peerIP: '192.168.1.1:1179', asNumber: 64512 }) },
    { name: 'v6 with port', doc: peer({ peerIP: '[2001:db8::1]:1179', asNumber: '1.1' }) },
    { name: 'v6 bare', doc: peer({ peerIP: '2001:db8::1', asNumber: 64512, password: { secretKeyRef: { name: 'bgp-passwords', key: 'peer_a_pw' } } }) },
    { name: 'local workloads', doc: peer({ localWorkloadSelector: "color == 'red'", asNumber: 65001 }) },
    {
      name: 'all the knobs',
      doc: peer({
        nodeSelector: 'rack == "1"',
        peerIP: '10.0.0.1',
        asNumber: 65000,
        localASNumber: 64999,
        sourceAddress: 'None',
        maxRestartTime: '2m',
        keepaliveTime: '20s',
        numAllowedLocalASNumbers: 1,
        ttlSecurity: 1,
        nextHopMode: 'Self',
        reachableBy: '10.0.0.254',
        filters: ['export-only'],
        reversePeering: 'Manual',
      }),
    },
    { name: 'peerIP garbage', doc: peer({ peerIP: '10.0.0.256', asNumber: 1 }), path: 'spec.peerIP', message: 'is not a peer address' },
    { name: 'v6 port without brackets', doc: peer({ peerIP: '2001:db8::1:179x', asNumber: 1 }), path: 'spec.peerIP', message: 'is not a peer address' },
    { name: 'port 0', doc: peer({ peerIP: '10.0.0.1:0', asNumber: 1 }), path: 'spec.peerIP', message: 'port 0 is outside 1..65535' },
    {
      name: 'node and nodeSelector',
      doc: peer({ node: 'n1', nodeSelector: 'all()', peerIP: '10.0.0.1', asNumber: 1 }),
      path: 'spec.node',
      message: 'together with nodeSelector',
    },
    { name: 'peerIP and peerSelector', doc: peer({ peerIP: '10.0.0.1', peerSelector: 'all()' }), path: 'spec.peerIP', message: 'together with peerSelector' },
    {
      name: 'AS with peerSelector',
      doc: peer({ peerSelector: 'all()', asNumber: 65000 }),
      path: 'spec.asNumber',
      message: 'must be empty when peerSelector is set',
    },
    { name: 'peerIP needs AS', doc: peer({ peerIP: '10.0.0.1' }), path: 'spec.asNumber', message: 'is required when peerIP is set' },
    {
      name: 'workloads need AS',
      doc: peer({ localWorkloadSelector: 'all()' }),
      path: 'spec.asNumber',
      message: 'is required when localWorkloadSelector is set',
    },
    {
      name: 'workloads and peerIP',
      doc: peer({ localWorkloadSelector: 'all()', asNumber: 1, peerIP: '10.0.0.1' }),
      path: 'spec.peerIP',
      message: 'must be empty when localWorkloadSelector',
    },
    { name: 'reachableBy without peerIP', doc: peer({ peerSelector: 'all()', reachableBy: '10.0.0.1' }), path: 'spec.reachableBy', message: 'needs peerIP' },
    { name: 'reachableBy family', doc: peer({ peerIP: '10.0.0.1', asNumber: 1, reachableBy: 'fd00::1' }), path: 'spec.reachableBy', message: 'same IP family' },
    {
      name: 'keepOriginalNextHop with mode',
      doc: peer({ peerIP: '10.0.0.1', asNumber: 1, keepOriginalNextHop: true, nextHopMode: 'Keep' }),
      path: 'spec.keepOriginalNextHop',
      message: 'use nextHopMode: Keep',
    },
    { name: 'ttlSecurity range', doc: peer({ peerIP: '10.0.0.1', asNumber: 1, ttlSecurity: 256 }), path: 'spec.ttlSecurity', message: '256 is outside 0..255' },
    {
      name: 'sourceAddress enum',
      doc: peer({ peerIP: '10.0.0.1', asNumber: 1, sourceAddress: 'NodeIP' }),
      path: 'spec.sourceAddress',
      message: 'is not one of UseNodeIP, None',
    },
    { name: 'password shape', doc: peer({ peerIP: '10.0.0.1', asNumber: 1, password: 'hunter2' }), path: 'spec.password', message: 'expected an object' },
    { name: 'bad node selector', doc: peer({ nodeSelector: '!' }), path: 'spec.nodeSelector', message: 'invalid selector' },
    { name: 'bad filter name', doc: peer({ filters: ['Bad Filter'] }), path: 'spec.filters[0]', message: 'lower case' },
  ]);
});

test('Node validation', () => {
  const node = (spec: unknown) => doc('Node', spec, 'node-hostname');
  runTable([
    { name: 'docs sample', doc: fixture('node.json') },
    { name: 'bare address', doc: node({ bgp: { ipv4Address: '10.0.0.5' } }) },
    {
      name: 'tunnels and addresses',
      doc: node({
        ipv4VXLANTunnelAddr: '10.244.1.0',
        vxlanTunnelMACAddr: '66:3c:9b:2e:5f:01',
        orchRefs: [{ nodeName: 'n1', orchestrator: 'k8s' }],
        addresses: [
          { address: '172.18.0.2/16', type: 'CalicoNodeIP' },
          { address: '172.18.0.2', type: 'InternalIP' },
        ],
        wireguard: { interfaceIPv4Address: '10.244.1.1' },
      }),
    },
    { name: 'empty bgp', doc: node({ bgp: {} }), path: 'spec.bgp', message: 'must not be empty' },
    { name: 'v6 in ipv4Address', doc: node({ bgp: { ipv4Address: 'fd00::1/64' } }), path: 'spec.bgp.ipv4Address', message: 'an IPv4 one is required' },
    { name: 'ipv6Address garbage', doc: node({ bgp: { ipv6Address: 'nope' } }), path: 'spec.bgp.ipv6Address', message: 'is not an IPv6 CIDR or address' },
    { name: 'RR cluster id', doc: node({ bgp: { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: '224.0.0.1' } }) },
    {
      name: 'RR cluster id v6',
      doc: node({ bgp: { ipv4Address: '10.0.0.1/24', routeReflectorClusterID: 'fd00::1' } }),
      path: 'spec.bgp.routeReflectorClusterID',
      message: 'is not an IPv4 address',
    },
    { name: 'bad AS', doc: node({ bgp: { ipv4Address: '10.0.0.1/24', asNumber: 'sixty' } }), path: 'spec.bgp.asNumber', message: 'is not an AS number' },
    { name: 'bad mac', doc: node({ vxlanTunnelMACAddr: 'zz:zz' }), path: 'spec.vxlanTunnelMACAddr', message: 'is not a MAC address' },
    {
      name: 'address type',
      doc: node({ addresses: [{ address: '10.0.0.1', type: 'Public' }] }),
      path: 'spec.addresses[0].type',
      message: 'is not one of CalicoNodeIP, InternalIP, ExternalIP',
    },
    { name: 'orchRef needs orchestrator', doc: node({ orchRefs: [{ nodeName: 'n1' }] }), path: 'spec.orchRefs[0].orchestrator', message: 'is required' },
    {
      name: 'wireguard key',
      doc: { ...node({}), status: { wireguardPublicKey: 'not-a-key' } },
      path: 'status.wireguardPublicKey',
      message: 'is not a WireGuard public key',
    },
    { name: 'wireguard key ok', doc: { ...node({}), status: { wireguardPublicKey: 'jlkVyQYooZYzI2wFfNhSZez5eWh44yfq1wKVjLvSXgY=' } } },
  ]);
});

test('several network problems in one document are all reported', () => {
  const issues = issuesOf(checkResource(peer({ node: 'n1', nodeSelector: 'all()', peerIP: '10.0.0.1', peerSelector: 'x ==', ttlSecurity: -1 })));
  const paths = issues.map((i) => i.path).sort();
  assert.deepEqual(paths, ['spec.asNumber', 'spec.node', 'spec.peerIP', 'spec.peerSelector', 'spec.ttlSecurity']);
  expectIssue(pool({ cidr: 'fd00::1/64', ipipMode: 'Always', blockSize: 64 }), 'spec.cidr', 'host bits');
});

test('an IPPool with a namespaceSelector cannot be used for tunnel addresses', () => {
  runTable([
    { name: 'workload only', doc: pool({ cidr: '10.0.0.0/16', namespaceSelector: "team == 'a'", allowedUses: ['Workload'] }) },
    {
      name: 'default uses include Tunnel',
      doc: pool({ cidr: '10.0.0.0/16', namespaceSelector: "team == 'a'" }),
      path: 'spec.namespaceSelector',
      message: 'an IP pool with allowed use Tunnel cannot have a namespaceSelector: set allowedUses to [Workload]',
    },
  ]);
});

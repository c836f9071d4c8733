import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, expectIssue, expectValid, fixture, runTable } from './validation-helpers.js';

const hep = (spec: unknown) => doc('HostEndpoint', spec, 'some.name');

test('HostEndpoint validation', () => {
  runTable([
    { name: 'docs sample', doc: fixture('hostendpoint.json') },
    { name: 'all interfaces', doc: hep({ node: 'myhost', interfaceName: '*' }) },
    { name: 'by expected IPs only', doc: hep({ node: 'myhost', expectedIPs: ['10.0.0.1', 'fd00::1'] }) },
    { name: 'node required', doc: hep({ interfaceName: 'eth0' }), path: 'spec.node', message: 'is required' },
    { name: 'interface or IPs', doc: hep({ node: 'myhost' }), path: 'spec.interfaceName', message: 'set interfaceName or expectedIPs' },
    {
      name: 'interface name too long',
      doc: hep({ node: 'h', interfaceName: 'a-very-long-interface' }),
      path: 'spec.interfaceName',
      message: 'is not an interface name',
    },
    { name: 'expected IP garbage', doc: hep({ node: 'h', expectedIPs: ['10.0.0.0/24'] }), path: 'spec.expectedIPs[0]', message: 'is not an IP address' },
    { name: 'profile names', doc: hep({ node: 'h', interfaceName: 'eth0', profiles: ['Not Valid'] }), path: 'spec.profiles[0]', message: 'lower case' },
    {
      name: 'port needs protocol with ports',
      doc: hep({ node: 'h', interfaceName: 'eth0', ports: [{ name: 'ping', protocol: 'ICMP', port: 1 }] }),
      path: 'spec.ports[0].protocol',
      message: 'ICMP has no ports',
    },
    {
      name: 'port 0',
      doc: hep({ node: 'h', interfaceName: 'eth0', ports: [{ name: 'p', protocol: 'TCP', port: 0 }] }),
      path: 'spec.ports[0].port',
      message: '0 is outside 1..65535',
    },
    {
      name: 'port name required',
      doc: hep({ node: 'h', interfaceName: 'eth0', ports: [{ protocol: 'TCP', port: 80 }] }),
      path: 'spec.ports[0].name',
      message: 'is required',
    },
    {
      name: 'port name format',
      doc: hep({ node: 'h', interfaceName: 'eth0', ports: [{ name: 'HTTP', protocol: 'TCP', port: 80 }] }),
      path: 'spec.ports[0].name',
      message: 'port name "HTTP"',
    },
  ]);
});

const wepSpec = { node: 'node1', orchestrator: 'k8s', pod: 'my-nginx-b1337a', endpoint: 'eth0', interfaceName: 'cali0ef24ba', ipNetworks: ['192.168.0.5/32'] };
const wep = (spec: unknown, name = 'node1-k8s-my--nginx--b1337a-eth0') => doc('WorkloadEndpoint', spec, name, 'default');

test('WorkloadEndpoint names are derived from the spec, as Calico does', () => {
  const filled = expectValid({ ...wep(wepSpec), metadata: { namespace: 'prod' } });
  assert.equal(filled.metadata.name, 'node1-k8s-my--nginx--b1337a-eth0');
  assert.deepEqual(filled.metadata.labels, { 'projectcalico.org/namespace': 'prod', 'projectcalico.org/orchestrator': 'k8s' });
  const cni = expectValid({ ...wep({ ...wepSpec, orchestrator: 'cni', pod: undefined, containerID: 'abc-123' }), metadata: {} });
  assert.equal(cni.metadata.name, 'node1-cni-abc--123-eth0');
  assert.equal(cni.metadata.namespace, 'default');
  const other = expectValid({ ...wep({ ...wepSpec, orchestrator: 'openstack', pod: undefined, workload: 'vm-1' }), metadata: {} });
  assert.equal(other.metadata.name, 'node1-openstack-vm--1-eth0');
  const libnetwork = expectValid({ ...wep({ ...wepSpec, orchestrator: 'libnetwork', pod: undefined }), metadata: {} });
  assert.equal(libnetwork.metadata.name, 'node1-libnetwork-libnetwork-eth0');
  const labels = expectValid({
    ...wep(wepSpec),
    metadata: { name: 'node1-k8s-my--nginx--b1337a-eth0', namespace: 'default', labels: { app: 'web', 'projectcalico.org/namespace': 'wrong' } },
  }).metadata.labels;
  assert.deepEqual(labels, { app: 'web', 'projectcalico.org/namespace': 'default', 'projectcalico.org/orchestrator': 'k8s' });
});

test('WorkloadEndpoint validation', () => {
  runTable([
    { name: 'docs sample', doc: fixture('workloadendpoint.json') },
    {
      name: 'v6 and NAT',
      doc: wep({
        ...wepSpec,
        ipNetworks: ['192.168.0.5/32', 'fd00::5/128'],
        ipNATs: [{ internalIP: '192.168.0.5', externalIP: '172.16.0.9' }],
        ipv4Gateway: '169.254.1.1',
        ipv6Gateway: 'fe80::1',
      }),
    },
    { name: 'host port without name', doc: wep({ ...wepSpec, ports: [{ protocol: 'TCP', port: 80, hostPort: 8080, hostIP: '0.0.0.0' }] }) },
    { name: 'wrong name', doc: wep(wepSpec, 'my-pod'), path: 'metadata.name', message: 'must be "node1-k8s-my--nginx--b1337a-eth0"' },
    { name: 'missing pod', doc: wep({ ...wepSpec, pod: undefined }, 'x'), path: 'spec.pod', message: 'is required' },
    { name: 'missing node', doc: wep({ ...wepSpec, node: undefined }, 'x'), path: 'spec.node', message: 'is required' },
    { name: 'segment ends with dash', doc: wep({ ...wepSpec, endpoint: 'eth0-' }, 'x'), path: 'spec.endpoint', message: "must not begin or end with '-'" },
    { name: 'interface required', doc: wep({ ...wepSpec, interfaceName: undefined }), path: 'spec.interfaceName', message: 'is required' },
    {
      name: 'network of many addresses',
      doc: wep({ ...wepSpec, ipNetworks: ['192.168.0.0/24'] }),
      path: 'spec.ipNetworks[0]',
      message: 'single addresses (/32 or /128)',
    },
    { name: 'network host bits', doc: wep({ ...wepSpec, ipNetworks: ['192.168.0.5/24'] }), path: 'spec.ipNetworks[0]', message: 'host bits' },
    {
      name: 'NAT outside networks',
      doc: wep({ ...wepSpec, ipNATs: [{ internalIP: '10.9.9.9', externalIP: '172.16.0.9' }] }),
      path: 'spec.ipNATs[0].internalIP',
      message: "not one of the endpoint's ipNetworks",
    },
    {
      name: 'NAT family mismatch',
      doc: wep({ ...wepSpec, ipNATs: [{ internalIP: '192.168.0.5', externalIP: 'fd00::9' }] }),
      path: 'spec.ipNATs[0].externalIP',
      message: 'same IP version',
    },
    { name: 'gateway family', doc: wep({ ...wepSpec, ipv4Gateway: 'fe80::1' }), path: 'spec.ipv4Gateway', message: 'is not an IPv4 address' },
    { name: 'mac', doc: wep({ ...wepSpec, mac: 'ca:fe:1d:52:bb' }), path: 'spec.mac', message: 'is not a MAC address' },
    {
      name: 'port without name or hostPort',
      doc: wep({ ...wepSpec, ports: [{ protocol: 'TCP', port: 80 }] }),
      path: 'spec.ports[0].name',
      message: 'unless hostPort is set',
    },
    {
      name: 'port protocol',
      doc: wep({ ...wepSpec, ports: [{ name: 'p', protocol: 'ICMPv6', port: 80 }] }),
      path: 'spec.ports[0].protocol',
      message: 'has no ports',
    },
    { name: 'containerID format', doc: wep({ ...wepSpec, containerID: 'abc_def' }), path: 'spec.containerID', message: 'is not a container ID' },
  ]);
});

test('NetworkSet and GlobalNetworkSet', () => {
  const ns = (spec: unknown) => doc('NetworkSet', spec, 'external-database', 'staging');
  const gns = (spec: unknown, labels?: Record<string, string>) => ({ ...doc('GlobalNetworkSet', spec, 'set'), metadata: { name: 'set', labels } });
  runTable([
    { name: 'docs NetworkSet', doc: fixture('networkset.json') },
    { name: 'docs GlobalNetworkSet', doc: fixture('globalnetworkset.json') },
    { name: 'addresses and host bits', doc: gns({ nets: ['10.0.0.1', '10.0.0.1/24', '2001:db8::/32'] }) },
    { name: 'garbage net', doc: ns({ nets: ['example.com'] }), path: 'spec.nets[0]', message: 'is not a CIDR or address' },
    {
      name: 'reserved label',
      doc: gns({ nets: [] }, { 'projectcalico.org/namespace': 'x' }),
      path: 'metadata.labels["projectcalico.org/namespace"]',
      message: 'reserved for Calico',
    },
    { name: 'enterprise field', doc: gns({ allowedEgressDomains: ['example.com'] }), path: 'spec.allowedEgressDomains', message: 'unknown field' },
  ]);
});

test('Tier: built-in tiers keep their order and action; others default to Deny', () => {
  const tier = (spec: unknown, name = 'security') => doc('Tier', spec, name);
  assert.deepEqual(expectValid(tier({ order: 100 })).spec, { order: 100, defaultAction: 'Deny' });
  assert.deepEqual(expectValid(tier({}, 'default')).spec, { order: 1_000_000, defaultAction: 'Deny' });
  assert.deepEqual(expectValid(tier({}, 'kube-admin')).spec, { order: 1000, defaultAction: 'Pass' });
  assert.deepEqual(expectValid(tier({}, 'kube-baseline')).spec, { order: 10_000_000, defaultAction: 'Pass' });
  assert.equal(expectValid({ ...tier({}), spec: undefined }).spec.defaultAction, 'Deny');
  runTable([
    { name: 'docs sample', doc: fixture('tier.json') },
    { name: 'Pass tier', doc: tier({ order: 50, defaultAction: 'Pass' }) },
    { name: 'dotted name', doc: tier({}, 'a.b'), path: 'metadata.name', message: 'lower case letters, digits or' },
    { name: 'long name', doc: tier({}, 'a'.repeat(64)), path: 'metadata.name', message: 'at most 63' },
    { name: 'action enum', doc: tier({ defaultAction: 'Allow' }), path: 'spec.defaultAction', message: '"Allow" is not one of Deny, Pass' },
    { name: 'default order', doc: tier({ order: 5 }, 'default'), path: 'spec.order', message: "default tier's order must be 1000000" },
    { name: 'kube-admin action', doc: tier({ defaultAction: 'Deny' }, 'kube-admin'), path: 'spec.defaultAction', message: 'must be Pass' },
    { name: 'order string', doc: tier({ order: 'first' }), path: 'spec.order', message: 'expected a number' },
  ]);
});

test('ClusterInformation is a singleton named default', () => {
  expectValid(fixture('clusterinformation.json'));
  expectIssue({ ...fixture('clusterinformation.json'), metadata: { name: 'other' } }, 'metadata.name', 'the only ClusterInformation is named "default"');
  expectIssue({ ...fixture('clusterinformation.json'), spec: { datastoreReady: 'yes' } }, 'spec.datastoreReady', 'expected true or false');
});

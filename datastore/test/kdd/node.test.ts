// Kubernetes Node ⇄ Calico Node, pinned to libcalico-go's resources/node.go (K8sNodeToCalico,
// mergeCalicoNodeIntoK8sNode, restoreCalicoLabels) and resources.go (the labels/annotations
// annotations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { kdd } from '../../src/index.js';
import { assertConverted, assertFailed } from './helpers.js';

const KEY = 'bhMnAI5RaNtfJqVJ9ASr2c8mF4KiQaOlChPcIb1qOXE=';

function k8sNode(annotations: Record<string, string> = {}, extra: Partial<kdd.K8sNode> = {}): kdd.K8sNode {
  return {
    metadata: {
      name: 'node-1',
      uid: 'b2a5c3e4-1111-4222-8333-444455556666',
      resourceVersion: '42',
      creationTimestamp: '2024-05-01T10:00:00Z',
      labels: { 'kubernetes.io/hostname': 'node-1', zone: 'a' },
      annotations,
    },
    spec: { podCIDR: '10.244.1.0/24', podCIDRs: ['10.244.1.0/24', 'fd00:1::/64'] },
    status: {
      addresses: [
        { type: 'InternalIP', address: '192.168.1.10' },
        { type: 'Hostname', address: 'node-1' },
        { type: 'ExternalIP', address: '203.0.113.10' },
      ],
    },
    ...extra,
  };
}

const KUBE_LABELS = '{"kubernetes.io/hostname":"node-1","zone":"a"}';

test('annotations → BGP, tunnels, WireGuard, status; labels merged; addresses; orchRefs', () => {
  const result = kdd.k8sNodeToCalico(
    k8sNode({
      'projectcalico.org/IPv4Address': '192.168.1.10/24',
      'projectcalico.org/IPv6Address': 'fd00::10/64',
      'projectcalico.org/ASNumber': '64512',
      'projectcalico.org/RouteReflectorClusterID': '224.0.0.1',
      'projectcalico.org/IPv4IPIPTunnelAddr': '10.244.1.1',
      'projectcalico.org/IPv4VXLANTunnelAddr': '10.244.1.2',
      'projectcalico.org/VXLANTunnelMACAddr': '66:2f:3c:4d:5e:6f',
      'projectcalico.org/IPv6VXLANTunnelAddr': 'fd00:1::2',
      'projectcalico.org/VXLANTunnelMACAddrV6': '66:2f:3c:4d:5e:70',
      'projectcalico.org/IPv4WireguardInterfaceAddr': '10.244.1.3',
      'projectcalico.org/WireguardPublicKey': KEY,
      // Calico's own labels and annotations; a Kubernetes label of the same key wins.
      'projectcalico.org/labels': '{"rack":"r1","zone":"calico"}',
      'projectcalico.org/annotations': '{"note":"x"}',
      unrelated: 'not carried',
    }),
  );
  assertConverted(result, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Node',
    metadata: {
      name: 'node-1',
      uid: 'b2a5c3e4-1111-4222-8333-444455556666',
      resourceVersion: '42',
      creationTimestamp: '2024-05-01T10:00:00Z',
      labels: { rack: 'r1', zone: 'a', 'kubernetes.io/hostname': 'node-1' },
      annotations: { note: 'x', 'projectcalico.org/kube-labels': KUBE_LABELS },
    },
    spec: {
      bgp: {
        ipv4Address: '192.168.1.10/24',
        ipv6Address: 'fd00::10/64',
        asNumber: 64512,
        routeReflectorClusterID: '224.0.0.1',
        ipv4IPIPTunnelAddr: '10.244.1.1',
      },
      wireguard: { interfaceIPv4Address: '10.244.1.3' },
      ipv4VXLANTunnelAddr: '10.244.1.2',
      vxlanTunnelMACAddr: '66:2f:3c:4d:5e:6f',
      ipv6VXLANTunnelAddr: 'fd00:1::2',
      vxlanTunnelMACAddrV6: '66:2f:3c:4d:5e:70',
      orchRefs: [{ nodeName: 'node-1', orchestrator: 'k8s' }],
      // fillAllAddresses: BGP addresses first, then InternalIP/ExternalIP; Hostname is skipped.
      addresses: [
        { address: '192.168.1.10/24', type: 'CalicoNodeIP' },
        { address: 'fd00::10/64', type: 'CalicoNodeIP' },
        { address: '192.168.1.10', type: 'InternalIP' },
        { address: '203.0.113.10', type: 'ExternalIP' },
      ],
    },
    status: { wireguardPublicKey: KEY, podCIDRs: ['10.244.1.0/24', 'fd00:1::/64'] },
  });
});

test('a bare Kubernetes Node: no bgp, no wireguard; kube-labels "null" when the node has no labels (Go marshals a nil map so)', () => {
  const result = kdd.k8sNodeToCalico({ metadata: { name: 'bare', resourceVersion: '1' } });
  assertConverted(result, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Node',
    metadata: { name: 'bare', resourceVersion: '1', annotations: { 'projectcalico.org/kube-labels': 'null' } },
    spec: { orchRefs: [{ nodeName: 'bare', orchestrator: 'k8s' }] },
  });
});

test('dotted AS numbers; rejected annotations are ignored with a warning, as Calico ignores them', () => {
  const result = kdd.k8sNodeToCalico(
    k8sNode({
      'projectcalico.org/IPv4Address': '192.168.1.300',
      'projectcalico.org/IPv6Address': '192.168.1.10', // not IPv6
      'projectcalico.org/ASNumber': '1.10',
      'projectcalico.org/IPv4VXLANTunnelAddr': 'fd00::1', // not IPv4
      'projectcalico.org/VXLANTunnelMACAddr': 'not-a-mac',
      'projectcalico.org/WireguardPublicKey': 'short',
      'projectcalico.org/labels': '{not json',
    }),
  );
  assert.equal(result.outcome, 'converted', JSON.stringify(result));
  if (result.outcome !== 'converted') return;
  assert.deepEqual(result.resource.spec, {
    bgp: { asNumber: 65546 },
    orchRefs: [{ nodeName: 'node-1', orchestrator: 'k8s' }],
    addresses: [
      { address: '192.168.1.10', type: 'InternalIP' },
      { address: '203.0.113.10', type: 'ExternalIP' },
    ],
  });
  assert.deepEqual(result.resource.status, { podCIDRs: ['10.244.1.0/24', 'fd00:1::/64'] });
  assert.deepEqual(
    result.warnings.map((w) => w.split(':')[0]),
    [
      'annotation projectcalico.org/labels is not a JSON map of strings; ignored',
      'annotation projectcalico.org/IPv4Address',
      'annotation projectcalico.org/IPv6Address',
      'annotation projectcalico.org/IPv4VXLANTunnelAddr',
      'annotation projectcalico.org/VXLANTunnelMACAddr',
      'annotation projectcalico.org/WireguardPublicKey',
    ],
  );
});

test('an AS number out of range is ignored with a warning', () => {
  const result = kdd.k8sNodeToCalico(k8sNode({ 'projectcalico.org/ASNumber': '4294967296' }));
  assert.equal(result.outcome, 'converted');
  if (result.outcome === 'converted') {
    assert.equal((result.resource.spec as { bgp?: unknown }).bgp, undefined);
    assert.deepEqual(result.warnings, ['annotation projectcalico.org/ASNumber "4294967296" is not an AS number; ignored']);
  }
});

test('usePodCIDR (host-local IPAM): IPIP tunnel = pod CIDR address + 1, WireGuard too when keyed; IPv6 pod CIDR gives none', () => {
  const keyed = kdd.k8sNodeToCalico(k8sNode({ 'projectcalico.org/WireguardPublicKey': KEY, 'projectcalico.org/IPv4IPIPTunnelAddr': '10.9.9.9' }), {
    usePodCIDR: true,
  });
  assert.equal(keyed.outcome, 'converted');
  if (keyed.outcome === 'converted') {
    const spec = keyed.resource.spec as Record<string, unknown>;
    assert.deepEqual(spec.bgp, { ipv4IPIPTunnelAddr: '10.244.1.1' });
    assert.deepEqual(spec.wireguard, { interfaceIPv4Address: '10.244.1.1' });
  }
  const v6 = kdd.k8sNodeToCalico(k8sNode({}, { spec: { podCIDR: 'fd00:1::/64' } }), { usePodCIDR: true });
  assert.equal(v6.outcome, 'converted');
  if (v6.outcome === 'converted') assert.equal((v6.resource.spec as Record<string, unknown>).bgp, undefined);
  assertFailed(kdd.k8sNodeToCalico(k8sNode({}, { spec: { podCIDR: 'garbage' } }), { usePodCIDR: true }), /^Node node-1: spec.podCIDR "garbage" is not a CIDR$/);
});

test('Calico Node → annotation patch: every managed annotation set or removed, inherited labels taken out', () => {
  const calicoNode: Resource = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'Node',
    metadata: {
      name: 'node-1',
      labels: { rack: 'r1', zone: 'a', 'kubernetes.io/hostname': 'node-1' },
      annotations: { note: 'a<b', 'projectcalico.org/kube-labels': KUBE_LABELS },
    },
    spec: {
      bgp: { ipv4Address: '192.168.1.10/24', asNumber: '1.10' },
      ipv4VXLANTunnelAddr: '10.244.1.2',
      vxlanTunnelMACAddr: '66:2f:3c:4d:5e:6f',
      orchRefs: [{ nodeName: 'node-1', orchestrator: 'k8s' }],
    },
    status: { wireguardPublicKey: KEY },
  };
  const result = kdd.calicoNodeToK8sAnnotationPatch(calicoNode);
  assert.deepEqual(result, {
    outcome: 'converted',
    patch: {
      metadata: {
        annotations: {
          // restoreCalicoLabels drops zone and kubernetes.io/hostname (inherited), whatever their values.
          'projectcalico.org/labels': '{"rack":"r1"}',
          // Go's encoding/json escapes '<'.
          'projectcalico.org/annotations': '{"note":"a\\u003cb"}',
          'projectcalico.org/IPv4VXLANTunnelAddr': '10.244.1.2',
          'projectcalico.org/VXLANTunnelMACAddr': '66:2f:3c:4d:5e:6f',
          'projectcalico.org/IPv6VXLANTunnelAddr': null,
          'projectcalico.org/VXLANTunnelMACAddrV6': null,
          'projectcalico.org/IPv4Address': '192.168.1.10/24',
          'projectcalico.org/IPv4IPIPTunnelAddr': null,
          'projectcalico.org/IPv6Address': null,
          'projectcalico.org/ASNumber': '65546',
          'projectcalico.org/RouteReflectorClusterID': null,
          'projectcalico.org/IPv4WireguardInterfaceAddr': null,
          'projectcalico.org/IPv6WireguardInterfaceAddr': null,
          'projectcalico.org/WireguardPublicKey': KEY,
          'projectcalico.org/WireguardPublicKeyV6': null,
        },
      },
    },
  });
});

test('round trip: a converted Node written back gives the annotations it was read from', () => {
  const annotations = {
    'projectcalico.org/IPv4Address': '192.168.1.10/24',
    'projectcalico.org/ASNumber': '64512',
    'projectcalico.org/IPv4VXLANTunnelAddr': '10.244.1.2',
    'projectcalico.org/labels': '{"rack":"r1"}',
  };
  const read = kdd.k8sNodeToCalico(k8sNode(annotations));
  assert.equal(read.outcome, 'converted');
  if (read.outcome !== 'converted') return;
  const written = kdd.calicoNodeToK8sAnnotationPatch(read.resource);
  assert.equal(written.outcome, 'converted');
  if (written.outcome !== 'converted') return;
  const set = Object.fromEntries(Object.entries(written.patch.metadata.annotations).filter(([, v]) => v !== null));
  assert.deepEqual(set, annotations);
});

test('a kube-labels annotation that is not JSON fails the write (Calico returns the error)', () => {
  const result = kdd.calicoNodeToK8sAnnotationPatch({
    apiVersion: 'projectcalico.org/v3',
    kind: 'Node',
    metadata: { name: 'node-1', annotations: { 'projectcalico.org/kube-labels': '{' } },
    spec: {},
  });
  assert.equal(result.outcome, 'failed');
  if (result.outcome === 'failed') assert.match(result.error, /^Node\(node-1\): annotation projectcalico.org\/kube-labels is not JSON/);
});

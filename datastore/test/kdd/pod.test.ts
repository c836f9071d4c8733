// Pod → WorkloadEndpoint, each case pinned to libcalico-go's workload_endpoint_default.go,
// conversion.go (getPodIPs, IsFinished) and the pod filter of resources/workloadendpoint.go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { kdd } from '../../src/index.js';
import { assertConverted, assertFailed, assertSkipped } from './helpers.js';

const IFACE = kdd.workloadInterfaceName('shop', 'web-0');

function pod(over: { metadata?: object; spec?: object; status?: object } = {}): kdd.K8sPod {
  return {
    metadata: {
      name: 'web-0',
      namespace: 'shop',
      uid: 'b2a5c3e4-1111-4222-8333-444455556666',
      resourceVersion: '1234',
      creationTimestamp: '2024-05-01T10:00:00Z',
      ...over.metadata,
    },
    spec: { nodeName: 'node-1', ...over.spec },
    status: { phase: 'Running', podIP: '10.65.0.7', ...over.status },
  };
}

function wep(spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Resource {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'WorkloadEndpoint',
    metadata: {
      name: 'node--1-k8s-web--0-eth0',
      namespace: 'shop',
      uid: 'b2a5c3e4-1111-4222-8333-444455556666',
      resourceVersion: '1234',
      creationTimestamp: '2024-05-01T10:00:00Z',
      labels: { 'projectcalico.org/namespace': 'shop', 'projectcalico.org/orchestrator': 'k8s' },
      ...meta,
    },
    spec: {
      orchestrator: 'k8s',
      node: 'node-1',
      pod: 'web-0',
      endpoint: 'eth0',
      interfaceName: IFACE,
      profiles: ['kns.shop'],
      ipNetworks: ['10.65.0.7/32'],
      ...spec,
    },
  };
}

test('a running pod: name with doubled dashes, /32, profiles, labels, pod metadata (Calico: "should parse a Pod with an IP")', () => {
  // The pod UID is carried unchanged (podToDefaultWorkloadEndpoint sets UID: pod.UID), the
  // resourceVersion is the pod's (KVPair Revision).
  assertConverted(kdd.podToWorkloadEndpoint(pod()), wep());
});

test('labels, service account, container ID, generateName, network-status', () => {
  const result = kdd.podToWorkloadEndpoint(
    pod({
      metadata: {
        generateName: 'web-',
        labels: { app: 'web', 'projectcalico.org/namespace': 'spoofed' },
        annotations: {
          'cni.projectcalico.org/containerID': '4a7e0c1f9b2d',
          'k8s.v1.cni.cncf.io/network-status': '[{"name":"k8s-pod-network"}]',
          unrelated: 'dropped',
        },
      },
      spec: { serviceAccountName: 'web-sa' },
    }),
  );
  assertConverted(
    result,
    wep(
      { profiles: ['kns.shop', 'ksa.shop.web-sa'], serviceAccountName: 'web-sa', containerID: '4a7e0c1f9b2d' },
      {
        generateName: 'web-',
        // Calico overwrites the namespace label whatever the pod says.
        labels: { app: 'web', 'projectcalico.org/namespace': 'shop', 'projectcalico.org/orchestrator': 'k8s', 'projectcalico.org/serviceaccount': 'web-sa' },
        annotations: { 'k8s.v1.cni.cncf.io/network-status': '[{"name":"k8s-pod-network"}]' },
      },
    ),
  );
});

test('a service account of 63 characters or more gets its profile but not the label (Calico: "< 63" for compatibility)', () => {
  const sa = 'a'.repeat(63);
  const result = kdd.podToWorkloadEndpoint(pod({ spec: { serviceAccountName: sa } }));
  assertConverted(result, wep({ profiles: ['kns.shop', `ksa.shop.${sa}`], serviceAccountName: sa }));
});

test('IP sources in Calico getPodIPs order', async (t) => {
  const cases: Array<{ name: string; status: object; annotations?: Record<string, string>; want: string[] }> = [
    {
      name: 'status.podIPs (dual stack) first',
      status: { podIP: '10.65.0.7', podIPs: [{ ip: '10.65.0.7' }, { ip: 'fd5f:8067::1' }] },
      want: ['10.65.0.7/32', 'fd5f:8067::1/128'],
    },
    {
      name: 'status.podIPs wins over the annotations',
      status: { podIPs: [{ ip: '10.65.0.7' }] },
      annotations: { 'cni.projectcalico.org/podIP': '10.65.0.99' },
      want: ['10.65.0.7/32'],
    },
    { name: 'status.podIP without podIPs', status: { podIP: '10.65.0.7' }, want: ['10.65.0.7/32'] },
    {
      name: 'the plural annotation before the singular, when the status has none',
      status: { podIP: '' },
      annotations: { 'cni.projectcalico.org/podIP': '10.65.0.9/32', 'cni.projectcalico.org/podIPs': '10.65.0.9/32,fd5f:8067::9/128' },
      want: ['10.65.0.9/32', 'fd5f:8067::9/128'],
    },
    { name: 'the singular annotation', status: { podIP: '' }, annotations: { 'cni.projectcalico.org/podIP': '10.65.0.9' }, want: ['10.65.0.9/32'] },
    { name: "the AWS VPC CNI's annotation last", status: { podIP: '' }, annotations: { 'vpc.amazonaws.com/pod-ips': '10.65.0.10' }, want: ['10.65.0.10/32'] },
    { name: 'IPv6 in Go form', status: { podIPs: [{ ip: 'FD5F:8067:0:0:0:0:0:0001' }] }, want: ['fd5f:8067::1/128'] },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const result = kdd.podToWorkloadEndpoint(pod({ status: { podIP: undefined, ...c.status }, metadata: { annotations: c.annotations } }));
      assert.equal(result.outcome, 'converted', JSON.stringify(result));
      if (result.outcome === 'converted') assert.deepEqual((result.resource.spec as { ipNetworks: string[] }).ipNetworks, c.want);
    });
  }
});

test('no workload endpoint: host network, unscheduled, finished, no IP', async (t) => {
  const cases: Array<{ name: string; input: kdd.K8sPod; skip: kdd.SkipReason }> = [
    // IsValidCalicoWorkloadEndpoint: host-networked and unscheduled pods are never shown.
    { name: 'hostNetwork', input: pod({ spec: { hostNetwork: true } }), skip: 'host-network' },
    { name: 'no nodeName', input: pod({ spec: { nodeName: '' } }), skip: 'unscheduled' },
    // IsFinished: these phases, whatever the IPs.
    { name: 'Succeeded', input: pod({ status: { phase: 'Succeeded' } }), skip: 'finished' },
    { name: 'Failed', input: pod({ status: { phase: 'Failed' } }), skip: 'finished' },
    { name: 'Completed', input: pod({ status: { phase: 'Completed' } }), skip: 'finished' },
    // IsFinished: terminating, and the CNI plugin has blanked its podIP annotation (IP released).
    {
      name: 'terminating with a blank podIP annotation',
      input: pod({ metadata: { deletionTimestamp: '2024-05-01T11:00:00Z', annotations: { 'cni.projectcalico.org/podIP': '' } } }),
      skip: 'finished',
    },
    {
      name: 'terminating with a blank AWS annotation',
      input: pod({ metadata: { deletionTimestamp: '2024-05-01T11:00:00Z', annotations: { 'vpc.amazonaws.com/pod-ips': '' } } }),
      skip: 'finished',
    },
    // No IP from any source: Felix's syncer drops a WorkloadEndpoint without ipNetworks.
    { name: 'no IP yet', input: pod({ status: { phase: 'Pending', podIP: undefined } }), skip: 'no-ip' },
  ];
  for (const c of cases) await t.test(c.name, () => assertSkipped(kdd.podToWorkloadEndpoint(c.input), c.skip));

  await t.test('terminating but still holding its IP keeps its endpoint', () => {
    const input = pod({ metadata: { deletionTimestamp: '2024-05-01T11:00:00Z', annotations: { 'cni.projectcalico.org/podIP': '10.65.0.7/32' } } });
    assert.equal(kdd.podToWorkloadEndpoint(input).outcome, 'converted');
  });
});

test('named ports: TCP when unset, UDP, SCTP, host ports; unnamed without hostPort and unknown protocols left out', () => {
  // Mirrors Calico's "should parse a Pod with an IP" port table.
  const result = kdd.podToWorkloadEndpoint(
    pod({
      spec: {
        containers: [
          { name: 'a', ports: [{ containerPort: 5678 }, { name: 'no-proto', containerPort: 1234 }] },
          {
            name: 'b',
            ports: [
              { name: 'tcp-proto', protocol: 'TCP', containerPort: 1024 },
              { name: 'tcp-host', protocol: 'TCP', containerPort: 8080, hostPort: 5678 },
              { name: 'tcp-host-ip', protocol: 'TCP', containerPort: 8081, hostPort: 6789, hostIP: '1.2.3.4' },
              { protocol: 'TCP', containerPort: 500, hostPort: 5000 },
              { name: 'udp-proto', protocol: 'UDP', containerPort: 432 },
              { name: 'sctp-proto', protocol: 'SCTP', containerPort: 891 },
              { name: 'unkn-proto', protocol: 'unknown', containerPort: 567 },
            ],
          },
        ],
        initContainers: [{ name: 'init', ports: [{ name: 'metrics', containerPort: 9090 }] }],
      },
    }),
  );
  assertConverted(
    result,
    wep({
      ports: [
        { name: 'no-proto', protocol: 'TCP', port: 1234 },
        { name: 'tcp-proto', protocol: 'TCP', port: 1024 },
        { name: 'tcp-host', protocol: 'TCP', port: 8080, hostPort: 5678 },
        { name: 'tcp-host-ip', protocol: 'TCP', port: 8081, hostPort: 6789, hostIP: '1.2.3.4' },
        { protocol: 'TCP', port: 500, hostPort: 5000 },
        { name: 'udp-proto', protocol: 'UDP', port: 432 },
        { name: 'sctp-proto', protocol: 'SCTP', port: 891 },
        { name: 'metrics', protocol: 'TCP', port: 9090 },
      ],
    }),
    ['spec.containers[1].ports[6]: protocol "unknown" is not TCP, UDP or SCTP; the port is left out'],
  );
});

test('floating IPs pair with the pod address of their family; allowed source prefixes are normalised', () => {
  const result = kdd.podToWorkloadEndpoint(
    pod({
      metadata: {
        annotations: {
          'cni.projectcalico.org/floatingIPs': '["1.1.1.1", "2001:db8::5", "1.1.1.2"]',
          'cni.projectcalico.org/allowedSourcePrefixes': '["172.16.1.5/24"]',
        },
      },
    }),
  );
  // Only an IPv4 pod address: the IPv6 floating IP has nothing to NAT to and is left out.
  assertConverted(
    result,
    wep({
      ipNATs: [
        { internalIP: '10.65.0.7', externalIP: '1.1.1.1' },
        { internalIP: '10.65.0.7', externalIP: '1.1.1.2' },
      ],
      allowSpoofedSourcePrefixes: ['172.16.1.0/24'],
    }),
  );
});

test('malformed pods fail with a message naming the pod and the field', async (t) => {
  const cases: Array<{ name: string; input: unknown; error: RegExp }> = [
    {
      name: 'bad annotation IP',
      input: pod({ status: { podIP: '' }, metadata: { annotations: { 'cni.projectcalico.org/podIP': '10.65.0.300' } } }),
      error: /^Pod shop\/web-0: annotation cni.projectcalico.org\/podIP: "10.65.0.300" is not an IP address$/,
    },
    {
      name: 'empty entry in podIPs annotation',
      input: pod({ status: { podIP: '' }, metadata: { annotations: { 'cni.projectcalico.org/podIPs': '10.65.0.9,' } } }),
      error: /"" is not an IP address/,
    },
    { name: 'a network as pod IP', input: pod({ status: { podIP: '10.65.0.0/24' } }), error: /is a network; a pod address is a single IP/ },
    // Calico parses the IPs before checking IsFinished, so this is an error, not a skip.
    { name: 'bad IP on a finished pod', input: pod({ status: { phase: 'Succeeded', podIP: 'nope' } }), error: /status.podIP: "nope" is not an IP address/ },
    {
      name: 'floatingIPs not JSON',
      input: pod({ metadata: { annotations: { 'cni.projectcalico.org/floatingIPs': '1.1.1.1' } } }),
      error: /floatingIPs: "1.1.1.1" is not JSON/,
    },
    {
      name: 'allowedSourcePrefixes not a CIDR',
      input: pod({ metadata: { annotations: { 'cni.projectcalico.org/allowedSourcePrefixes': '["10.0.0.1"]' } } }),
      error: /"10.0.0.1" is not a CIDR/,
    },
    {
      name: 'containerPort not a number',
      input: pod({ spec: { containers: [{ ports: [{ name: 'http', containerPort: '80' }] }] } }),
      error: /spec.containers\[0\].ports\[0\].containerPort must be an integer/,
    },
    {
      name: 'containerPort out of range',
      input: pod({ spec: { containers: [{ ports: [{ name: 'http', containerPort: 70000 }] }] } }),
      error: /containerPort 70000 is outside 1..65535/,
    },
    { name: 'labels not strings', input: pod({ metadata: { labels: { app: 7 } } }), error: /metadata.labels\["app"\] must be a string/ },
    { name: 'no namespace', input: { metadata: { name: 'web-0' }, spec: { nodeName: 'n' } }, error: /^Pod web-0: metadata.namespace is missing$/ },
    { name: 'not an object at all', input: { metadata: 'x' }, error: /^Pod <no name>: metadata must be an object, not a string$/ },
    {
      name: 'name not valid for Calico',
      input: pod({ metadata: { name: 'Web_0' } }),
      error: /the converted WorkloadEndpoint\(shop\/node--1-k8s-Web_0-eth0\) is not valid: metadata.name/,
    },
  ];
  for (const c of cases) await t.test(c.name, () => assertFailed(kdd.podToWorkloadEndpoint(c.input as kdd.K8sPod), c.error));
});

test('the interface prefix option (Felix InterfacePrefix)', () => {
  const result = kdd.podToWorkloadEndpoint(pod(), { interfacePrefix: 'eni' });
  assertConverted(result, wep({ interfaceName: kdd.workloadInterfaceName('shop', 'web-0', 'eni') }));
});

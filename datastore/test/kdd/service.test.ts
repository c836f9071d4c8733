// Service → KubernetesService and EndpointSlice → KubernetesEndpointSlice: the fields Felix and
// confd read, nothing else (no resourceVersion: a status-only change converts to the same value
// and Typha's dedupe drops it), and clear failures for values the API server never returns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kdd } from '../../src/index.js';
import { assertConverted, assertFailed } from './helpers.js';

test('a LoadBalancer Service keeps its IPs, ports and traffic policy, and nothing else', () => {
  const result = kdd.serviceToCalico({
    metadata: { name: 'web', namespace: 'shop', resourceVersion: '42', labels: { app: 'web' }, annotations: { a: 'b' } },
    spec: {
      type: 'LoadBalancer',
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10', 'fd00:96::10'],
      externalIPs: ['192.0.2.7'],
      ports: [
        { name: 'http', protocol: 'TCP', port: 80 },
        { port: 53, protocol: 'UDP' },
      ],
      externalTrafficPolicy: 'Local',
    },
    status: { loadBalancer: { ingress: [{ ip: '198.51.100.4' }, { hostname: 'lb.example' }] } },
  });
  assertConverted(result, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'KubernetesService',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      type: 'LoadBalancer',
      clusterIPs: ['10.96.0.10', 'fd00:96::10'],
      externalIPs: ['192.0.2.7'],
      loadBalancerIPs: ['198.51.100.4'],
      ports: [
        { name: 'http', protocol: 'TCP', port: 80 },
        { protocol: 'UDP', port: 53 },
      ],
      externalTrafficPolicy: 'Local',
    },
  });
});

test('a headless Service has no cluster IP; a Service with only clusterIP keeps it', () => {
  assertConverted(kdd.serviceToCalico({ metadata: { name: 'h', namespace: 'n' }, spec: { clusterIP: 'None', clusterIPs: ['None'] } }), {
    apiVersion: 'projectcalico.org/v3',
    kind: 'KubernetesService',
    metadata: { name: 'h', namespace: 'n' },
    spec: {},
  });
  const old = kdd.serviceToCalico({ metadata: { name: 'o', namespace: 'n' }, spec: { clusterIP: '10.96.1.1', ports: [{ port: 443 }] } });
  assert.equal(old.outcome, 'converted');
  if (old.outcome === 'converted') assert.deepEqual(old.resource.spec, { clusterIPs: ['10.96.1.1'], ports: [{ protocol: 'TCP', port: 443 }] });
});

test('a Service with a bad value fails with the field named', () => {
  assertFailed(kdd.serviceToCalico({ metadata: { name: 'w', namespace: 'n' }, spec: { clusterIPs: ['10.96.0.300'] } }), /spec\.clusterIPs\[0\]/);
  assertFailed(kdd.serviceToCalico({ metadata: { name: 'w', namespace: 'n' }, spec: { ports: [{ port: 70000 }] } }), /spec\.ports\[0\]\.port/);
  assertFailed(kdd.serviceToCalico({ metadata: { name: 'w', namespace: 'n' }, spec: { ports: 'x' as never } }), /spec\.ports must be a list/);
});

test('an EndpointSlice keeps its Service, addresses with node and readiness (unset is ready), and ports', () => {
  const result = kdd.endpointSliceToCalico({
    metadata: { name: 'web-abc12', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'x' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.65.0.4'], nodeName: 'node-a', conditions: { ready: true } },
      { addresses: ['10.65.1.9'], nodeName: 'node-b', conditions: { ready: false } },
      { addresses: ['10.65.2.1'] },
    ],
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  });
  assertConverted(result, {
    apiVersion: 'projectcalico.org/v3',
    kind: 'KubernetesEndpointSlice',
    metadata: { name: 'web-abc12', namespace: 'shop' },
    spec: {
      serviceName: 'web',
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.65.0.4'], nodeName: 'node-a', ready: true },
        { addresses: ['10.65.1.9'], nodeName: 'node-b', ready: false },
        { addresses: ['10.65.2.1'], ready: true },
      ],
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    },
  });
});

test('an EndpointSlice of no Service is skipped; a bad address fails', () => {
  const r = kdd.endpointSliceToCalico({ metadata: { name: 's', namespace: 'n' }, addressType: 'IPv4', endpoints: [] });
  assert.equal(r.outcome, 'skipped');
  if (r.outcome === 'skipped') assert.equal(r.skip, 'no-service');
  assertFailed(
    kdd.endpointSliceToCalico({
      metadata: { name: 's', namespace: 'n', labels: { 'kubernetes.io/service-name': 'x' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['not-an-ip'] }],
    }),
    /endpoints\[0\]\.addresses\[0\]/,
  );
});

test('sourcesForKinds follows services and endpointslices only when asked for their kinds', () => {
  const paths = kdd.sourcesForKinds(['KubernetesService', 'KubernetesEndpointSlice']).map((s) => s.path());
  assert.deepEqual(paths, ['/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices']);
  assert.equal(kdd.serviceSource().path('shop', 'web'), '/api/v1/namespaces/shop/services/web');
  assert.ok(!kdd.sourcesForKinds(['Node', 'IPPool']).some((s) => s.name === 'services' || s.name === 'endpointslices'));
});

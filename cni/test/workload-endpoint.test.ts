// The endpoint record: Calico's labels, profiles and fields, and valid by the api's own rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateResource } from '@cattail/api';
import { buildWorkloadEndpoint } from '../src/workload-endpoint.js';
import { workloadIdentity } from '../src/names.js';
import { parseCniEnv } from '../src/env.js';

const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/x', CNI_IFNAME: 'eth0' };

test('a pod endpoint: labels from args.cni plus Calico’s, profiles from namespace and service account', () => {
  const identity = workloadIdentity(parseCniEnv({ ...env, CNI_ARGS: 'K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0' }), 'node-1');
  const wep = buildWorkloadEndpoint({
    identity,
    addresses: [{ address: '10.66.0.5', version: 4 }],
    containerMac: '0a:58:0a:42:00:05',
    labels: { app: 'web', 'projectcalico.org/namespace': 'spoofed' },
    serviceAccountName: 'builder',
  });
  assert.deepEqual(wep.metadata, {
    name: 'node--1-k8s-web--0-eth0',
    namespace: 'shop',
    labels: {
      app: 'web',
      'projectcalico.org/namespace': 'shop',
      'projectcalico.org/orchestrator': 'k8s',
      'projectcalico.org/serviceaccount': 'builder',
    },
  });
  assert.deepEqual((wep.spec as { profiles: string[] }).profiles, ['kns.shop', 'ksa.shop.builder']);
  assert.deepEqual(validateResource(wep), []);
});

test('without a service account there is no ksa profile; a bare container is orchestrator cni', () => {
  const identity = workloadIdentity(parseCniEnv(env), 'node-1');
  const wep = buildWorkloadEndpoint({ identity, addresses: [{ address: 'fd00::5', version: 6 }], containerMac: '', labels: {}, serviceAccountName: '' });
  assert.equal(wep.metadata.name, 'node--1-cni-c0ffee-eth0');
  assert.deepEqual((wep.spec as { profiles: string[] }).profiles, ['kns.default']);
  assert.deepEqual((wep.spec as { ipNetworks: string[] }).ipNetworks, ['fd00::5/128']);
  assert.equal((wep.spec as { workload?: string }).workload, 'c0ffee');
  assert.equal(wep.metadata.labels?.['projectcalico.org/serviceaccount'], undefined);
  assert.deepEqual(validateResource(wep), []);
});

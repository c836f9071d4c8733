// Derived names: Calico's veth name, handle ID and endpoint name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workloadEndpointName } from '@cattail/api';
import { handleId, vethName, workloadIdentity } from '../src/names.js';
import { parseCniEnv } from '../src/env.js';

test('veth: cali + 11 hex digits of SHA-1("<namespace>.<pod>"), 15 characters', () => {
  assert.equal(vethName('shop', 'web-0'), 'calia4fc3c48bd8');
  assert.equal(vethName('default', 'nginx'), 'calic440f455693');
  assert.equal(vethName('default', 'nginx').length, 15);
  assert.notEqual(vethName('a', 'b.c'), vethName('a.b', 'd'));
});

test('handle and endpoint names', () => {
  assert.equal(handleId('k8s-pod-network', 'abc'), 'k8s-pod-network.abc');
  assert.equal(workloadEndpointName({ node: 'node-1', orchestrator: 'k8s', pod: 'web-0', endpoint: 'eth0' }), 'node--1-k8s-web--0-eth0');
  assert.equal(workloadEndpointName({ node: 'n', orchestrator: 'cni', containerID: 'abc-1', endpoint: 'eth0' }), 'n-cni-abc--1-eth0');
  assert.equal(workloadEndpointName({ node: 'n', orchestrator: 'k8s', pod: '-bad', endpoint: 'eth0' }), undefined);
});

test('identity of a pod and of a bare container', () => {
  const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c0ffee', CNI_NETNS: '/x', CNI_IFNAME: 'eth0' };
  const pod = workloadIdentity(parseCniEnv({ ...env, CNI_ARGS: 'K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0' }), 'node-1');
  assert.deepEqual(pod, {
    orchestrator: 'k8s',
    namespace: 'shop',
    workload: 'web-0',
    pod: 'web-0',
    containerId: 'c0ffee',
    endpoint: 'eth0',
    node: 'node-1',
    hostVeth: 'calia4fc3c48bd8',
    wepName: 'node--1-k8s-web--0-eth0',
  });
  const bare = workloadIdentity(parseCniEnv(env), 'node-1');
  assert.equal(bare.orchestrator, 'cni');
  assert.equal(bare.wepName, 'node--1-cni-c0ffee-eth0');
  assert.match(bare.hostVeth, /^cali[0-9a-f]{11}$/);
});

// Agents find Typha through the Kubernetes Service's EndpointSlices on a real kube-apiserver, as
// they do in a pod: KUBERNETES_SERVICE_HOST/PORT, a service-account token and CA from the
// service-account directory, RBAC that allows exactly listing EndpointSlices. Ready endpoints
// only, with their node names; a token without the RBAC gets a clear 403; with the API down the
// last known list is kept.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeApiServer, startTcpProxy, type KubeApiServer, type TcpProxy } from '@cattail/datastore/testing';
import { agentDiscovery } from '../../src/client/agent-discovery.js';
import { DiscoveryError } from '../../src/client/errors.js';

let kube: KubeApiServer;
let proxy: TcpProxy;
let dir: string;

const objects = [
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cattail-node', namespace: 'kube-system' } },
  { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nobody', namespace: 'kube-system' } },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'cattail-typha-discovery', namespace: 'kube-system' },
    rules: [{ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'cattail-typha-discovery', namespace: 'kube-system' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cattail-typha-discovery' },
    subjects: [{ kind: 'ServiceAccount', name: 'cattail-node', namespace: 'kube-system' }],
  },
  {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'cattail-typha', namespace: 'kube-system' },
    spec: { ports: [{ name: 'cattail-typha', port: 5473, protocol: 'TCP' }] },
  },
  {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'cattail-typha-abc', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'cattail-typha' } },
    addressType: 'IPv4',
    ports: [{ name: 'cattail-typha', port: 5473, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n1' },
      { addresses: ['10.0.0.2'], conditions: { ready: true }, nodeName: 'n2' },
      { addresses: ['10.0.0.3'], conditions: { ready: false }, nodeName: 'n3' },
    ],
  },
];

before(async () => {
  kube = await startKubeApiServer();
  await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
  proxy = await startTcpProxy('127.0.0.1', Number(new URL(kube.url).port));
  dir = await mkdtemp(join(tmpdir(), 'cattail-sa-'));
});

after(async () => {
  await proxy?.close();
  await kube?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function serviceAccountDir(name: string): Promise<string> {
  const saDir = join(dir, name);
  await rm(saDir, { recursive: true, force: true });
  await mkdir(saDir);
  await writeFile(join(saDir, 'token'), (await kube.kubectl(['create', 'token', name, '-n', 'kube-system'])).trim());
  await writeFile(join(saDir, 'ca.crt'), kube.ca);
  return saDir;
}

const env = () => ({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(proxy.port) });

test('ready endpoints of the Service, with node names, through the pod service account', async () => {
  const discovery = agentDiscovery({
    k8sServiceName: 'cattail-typha',
    k8sNamespace: 'kube-system',
    env: env(),
    serviceAccountDir: await serviceAccountDir('cattail-node'),
  });
  const found = await discovery.endpoints();
  assert.deepEqual(found.map((e) => `${e.url} ${e.node ?? ''}`).sort(), ['ws://10.0.0.1:5473/sync n1', 'ws://10.0.0.2:5473/sync n2']);

  // The API server unreachable: the last known replicas are kept.
  proxy.cut();
  try {
    const kept = await discovery.endpoints();
    assert.equal(kept.length, 2);
  } finally {
    proxy.heal();
  }
});

test('a service account without the RBAC gets a 403 that says what to grant', async () => {
  const discovery = agentDiscovery({ k8sServiceName: 'cattail-typha', env: env(), serviceAccountDir: await serviceAccountDir('nobody') });
  await assert.rejects(
    discovery.endpoints(),
    (err: unknown) => err instanceof DiscoveryError && /HTTP 403/.test(err.message) && /list endpointslices in kube-system/.test(err.message),
  );
});

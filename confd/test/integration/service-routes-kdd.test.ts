// Per-service /32 advertisement end to end on the Kubernetes datastore: a real kube-apiserver,
// a real in-process Typha in KDD mode (Services and EndpointSlices through its stream), and two
// real confds rendering BIRD configuration checked by the real `bird -p`. No BIRD runs: the
// configuration's kernel protocol must not touch this host's tables, and what BIRD would
// announce is exactly the static routes the file holds (the golden tests and bgp-mesh test cover
// BIRD's side). The `externalTrafficPolicy: Local` Service's cluster and external IPs are
// advertised as /32 only by the node with its ready endpoint, follow the endpoint to another
// node, and are withdrawn when the policy becomes Cluster; the ranges stay on every node.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kdd } from '@cattail/datastore';
import { applyCalicoCrds, startKubeApiServer, until, type KubeApiServer } from '@cattail/datastore/testing';
import { TyphaDaemon, loadTyphaConfig } from '@cattail/typha';
import { silentLogger } from '@cattail/typha/common';
import { ConfdDaemon, birdCommands, loadConfdConfig } from '../../src/index.js';
import { requireBinary } from '../helpers/binaries.js';

let kube: KubeApiServer;
let ds: kdd.KubeDatastore;
let typha: TyphaDaemon | undefined;
const confds: ConfdDaemon[] = [];
let dir: string;

const CLUSTER_IP = '10.96.0.50';
const EXTERNAL_IP = '203.0.113.5';

function k8sNode(name: string, ip: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, annotations: { 'projectcalico.org/IPv4Address': `${ip}/24` } } });
}

function webService(policy: 'Local' | 'Cluster'): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      type: 'LoadBalancer',
      clusterIP: CLUSTER_IP,
      externalIPs: [EXTERNAL_IP],
      externalTrafficPolicy: policy,
      selector: { app: 'web' },
      ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
  });
}

function webSlice(nodeName: string, ready: boolean): string {
  return JSON.stringify({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.65.1.4'], nodeName, conditions: { ready } }],
    ports: [{ port: 8080, protocol: 'TCP' }],
  });
}

before(async () => {
  requireBinary('bird');
  dir = await mkdtemp(join(tmpdir(), 'ctcd-svc-'));
  kube = await startKubeApiServer();
  await applyCalicoCrds(kube);
  ds = new kdd.KubeDatastore({ kubeconfigPath: kube.kubeconfigPath });
});

after(async () => {
  for (const c of confds) await c.stop();
  await typha?.stop();
  await ds?.close();
  await kube?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function startConfd(name: string, typhaPort: number): Promise<string> {
  const configFile = join(dir, `${name}.cfg`);
  const config = loadConfdConfig({
    NODENAME: name,
    FELIX_TYPHAADDR: `127.0.0.1:${typhaPort}`,
    CONFD_BIRDCONFIGFILE: configFile,
    CONFD_SECRETSDIR: join(dir, 'secrets'),
    CONFD_DEBOUNCEMS: '20',
    CONFD_RECONCILEINTERVALSECS: '0',
  });
  // The real `bird -p` check; the reload has no BIRD to talk to (see the module comment).
  const real = birdCommands({ bird: requireBinary('bird'), birdc: 'birdc', socket: join(dir, `${name}.ctl`), timeoutMs: 20_000 });
  const confd = new ConfdDaemon(config, { logger: silentLogger, bird: { check: (file) => real.check(file), configure: async () => 'no BIRD in this test' } });
  confds.push(confd);
  await confd.start();
  return configFile;
}

async function installed(file: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => '');
}

test("an externalTrafficPolicy Local Service's IPs are advertised as /32 from the node with its ready endpoint only, and follow it", async () => {
  await kube.ensureNamespace('shop');
  await kube.kubectl(['apply', '-f', '-'], { input: k8sNode('node-a', '192.0.2.10') });
  await kube.kubectl(['apply', '-f', '-'], { input: k8sNode('node-b', '192.0.2.11') });
  await ds.create({
    apiVersion: 'projectcalico.org/v3',
    kind: 'BGPConfiguration',
    metadata: { name: 'default' },
    spec: { serviceClusterIPs: [{ cidr: '10.96.0.0/16' }], serviceExternalIPs: [{ cidr: '203.0.113.0/28' }] },
  });
  await kube.kubectl(['apply', '-f', '-'], { input: webService('Local') });
  await kube.kubectl(['apply', '-f', '-'], { input: webSlice('node-b', true) });

  const config = loadTyphaConfig({
    TYPHA_DATASTORETYPE: 'kubernetes',
    TYPHA_KUBECONFIG: kube.kubeconfigPath,
    TYPHA_SERVERHOST: '127.0.0.1',
    TYPHA_SERVERPORT: '0',
    TYPHA_SERVERBATCHWINDOWMS: '5',
  });
  typha = new TyphaDaemon(config, { logger: silentLogger });
  const { syncPort } = await typha.start();
  await until(() => typha!.ready, 'Typha in sync with the API server', 60_000);
  const files = { a: await startConfd('node-a', syncPort), b: await startConfd('node-b', syncPort) };

  const hostRoute = (ip: string) => `route ${ip}/32 blackhole; # shop/web`;
  const advertises = async (file: string, ip: string) => (await installed(file)).includes(hostRoute(ip));
  const state = async () => ({
    a: [await advertises(files.a, CLUSTER_IP), await advertises(files.a, EXTERNAL_IP)],
    b: [await advertises(files.b, CLUSTER_IP), await advertises(files.b, EXTERNAL_IP)],
  });
  const expect = async (want: { a: boolean; b: boolean }, what: string) => {
    const target = JSON.stringify({ a: [want.a, want.a], b: [want.b, want.b] });
    let last = '';
    await until(
      async () => (last = JSON.stringify(await state())) === target,
      () => `${what}: want ${target}, have ${last}`,
      60_000,
    );
  };

  await expect({ a: false, b: true }, 'the /32s from node-b, which has the endpoint');
  for (const f of [files.a, files.b]) {
    const text = await installed(f);
    assert.match(text, /route 10\.96\.0\.0\/16 blackhole; # serviceClusterIPs/, 'the range from every node');
    assert.match(text, /route 203\.0\.113\.0\/28 blackhole; # serviceExternalIPs/);
  }
  assert.match(
    await installed(files.b),
    /if net ~ \[ 10\.96\.0\.0\/16, 203\.0\.113\.0\/28, 10\.96\.0\.50\/32, 203\.0\.113\.5\/32 \] then reject;/,
    'kept out of the kernel',
  );

  await kube.kubectl(['apply', '-f', '-'], { input: webSlice('node-b', false) });
  await expect({ a: false, b: false }, 'withdrawn when the endpoint is not ready');

  await kube.kubectl(['apply', '-f', '-'], { input: webSlice('node-a', true) });
  await expect({ a: true, b: false }, 'the /32s follow the endpoint to node-a');

  await kube.kubectl(['apply', '-f', '-'], { input: webService('Cluster') });
  await expect({ a: false, b: false }, 'withdrawn when the Service turns to Cluster (the range covers it)');

  for (const c of confds) {
    const s = c.agent.status();
    assert.equal(s.lastError, undefined, `confd: ${JSON.stringify(s.lastError)}`);
    // node-a: first, gained, withdrawn; node-b: first, withdrawn (the later changes are not its own).
    assert.ok(s.counters.installs >= 2, `every change was checked by bird -p and installed: ${s.counters.installs}`);
  }
});

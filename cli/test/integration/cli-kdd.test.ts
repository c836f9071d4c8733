/**
 * The real `cattail` binary with DATASTORE_TYPE=kubernetes against a real kube-apiserver with
 * Calico's CRDs: apply/get/delete of CRD kinds (after which ClusterInformation and the built-in
 * tiers exist, as calicoctl's first write leaves them), get of the kinds derived from Kubernetes
 * objects, the refusal to write them, the ways to name the API server (KUBECONFIG, --kubeconfig,
 * K8S_API_ENDPOINT with K8S_* files), and a clear error without any or when the server is not there.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Resource } from '@cattail/api';
import { applyCalicoCrds, startKubeApiServer, type KubeApiServer } from '@cattail/datastore/testing';
import { parse } from 'yaml';
import { runCattail, type CattailResult } from './cattail-process.js';

const NS = 'shop';

let kube: KubeApiServer;
let dir: string;

before(async () => {
  kube = await startKubeApiServer();
  await applyCalicoCrds(kube);
  await kube.ensureNamespace(NS);
  const objects = [
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-0', namespace: NS, labels: { app: 'web' }, annotations: { 'cni.projectcalico.org/podIP': '10.65.0.5/32' } },
      spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'registry.invalid/web:1' }] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-web', namespace: NS },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{}] },
    },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', annotations: { 'projectcalico.org/IPv4Address': '192.0.2.10/24' } } },
  ];
  await kube.kubectl(['create', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
  dir = await mkdtemp(join(tmpdir(), 'cattail-cli-kdd-'));
});

after(async () => {
  await kube?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The binary in Kubernetes-datastore mode, with KUBECONFIG pointing at our API server unless `env` says otherwise. */
function cattail(args: string[], env: NodeJS.ProcessEnv = { KUBECONFIG: kube.kubeconfigPath }, stdin = ''): Promise<CattailResult> {
  return runCattail(args, { cwd: dir, env: { DATASTORE_TYPE: 'kubernetes', ...env } }, stdin);
}

async function file(name: string, text: string): Promise<string> {
  await writeFile(join(dir, name), text);
  return name;
}

const POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: kdd-pool
spec:
  cidr: 10.60.0.0/16
  natOutgoing: true
`;

const GNP = `apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: kdd-deny-db
spec:
  selector: role == 'db'
  types:
    - Ingress
  ingress:
    - action: Deny
`;

test('apply, get and delete of CRD kinds; the first write initializes the datastore', async () => {
  const applied = await cattail(['apply', '-f', await file('pool.yaml', POOL)]);
  assert.equal(applied.stdout, "Successfully applied 1 'IPPool' resource(s)\n", applied.stderr);
  assert.equal(applied.code, 0);
  const gnp = await cattail(['apply', '-f', '-'], undefined, GNP);
  assert.equal(gnp.stdout, "Successfully applied 1 'GlobalNetworkPolicy' resource(s)\n", gnp.stderr);

  const pool = parse((await cattail(['get', 'ippool', 'kdd-pool', '-o', 'yaml'])).stdout) as Resource;
  assert.equal(pool.spec?.cidr, '10.60.0.0/16');
  assert.equal(pool.spec?.natOutgoing, true);
  assert.match(String(pool.metadata.resourceVersion), /^\d+$/);
  const policy = JSON.parse((await cattail(['get', 'globalnetworkpolicy', 'kdd-deny-db', '-o', 'json'])).stdout) as Resource;
  assert.equal(policy.spec?.selector, "role == 'db'");
  // What the API server holds: Calico's CRD objects (the policy as default.<name>), and ensureInitialized's.
  assert.equal((await kube.kubectl(['get', 'ippools.crd.projectcalico.org', '-o', 'name'])).trim(), 'ippool.crd.projectcalico.org/kdd-pool');
  assert.match(await kube.kubectl(['get', 'globalnetworkpolicies.crd.projectcalico.org', '-o', 'name']), /default\.kdd-deny-db/);
  assert.equal(
    (await kube.kubectl(['get', 'clusterinformations.crd.projectcalico.org', '-o', 'name'])).trim(),
    'clusterinformation.crd.projectcalico.org/default',
  );
  assert.deepEqual((await kube.kubectl(['get', 'tiers.crd.projectcalico.org', '-o', 'name'])).trim().split('\n').sort(), [
    'tier.crd.projectcalico.org/default',
    'tier.crd.projectcalico.org/kube-admin',
    'tier.crd.projectcalico.org/kube-baseline',
  ]);

  const del = await cattail(['delete', '-f', 'pool.yaml']);
  assert.equal(del.stdout, "Successfully deleted 1 'IPPool' resource(s)\n", del.stderr);
  assert.equal((await cattail(['delete', 'globalnetworkpolicy', 'kdd-deny-db'])).code, 0);
  const gone = await cattail(['get', 'ippool', 'kdd-pool']);
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr, 'resource does not exist: IPPool(kdd-pool) with error: <nil>\n');
  assert.equal((await cattail(['get', 'globalnetworkpolicy', 'kdd-deny-db'])).code, 1);
});

test('get shows the kinds derived from Kubernetes objects', async () => {
  const weps = await cattail(['get', 'workloadendpoints', '-n', NS]);
  assert.equal(weps.code, 0, weps.stderr);
  assert.match(weps.stdout, /^NAMESPACE +WORKLOAD +NODE +NETWORKS +INTERFACE +\nshop +web-0 +node-1 +10\.65\.0\.5\/32 +cali[0-9a-f]{11} +\n\n$/);

  const profiles = await cattail(['get', 'profiles', '-o', 'json']);
  assert.equal(profiles.code, 0, profiles.stderr);
  const names = (JSON.parse(profiles.stdout) as { items: Resource[] }).items.map((r) => r.metadata.name);
  for (const name of ['projectcalico-default-allow', `kns.${NS}`, `ksa.${NS}.default`]) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);

  const policies = await cattail(['get', 'networkpolicies', '-n', NS]);
  assert.equal(policies.code, 0, policies.stderr);
  assert.match(policies.stdout, /knp\.default\.allow-web/);
  const knp = parse((await cattail(['get', 'networkpolicy', 'knp.default.allow-web', '-n', NS, '-o', 'yaml'])).stdout) as Resource;
  assert.equal(knp.spec?.order, 1000);

  const nodes = await cattail(['get', 'nodes', '-o', 'yaml']);
  assert.equal(nodes.code, 0, nodes.stderr);
  assert.match(nodes.stdout, /name: node-1/);
  assert.match(nodes.stdout, /ipv4Address: 192\.0\.2\.10\/24/);
});

test('writing a derived resource is refused with calicoctl-style words, and nothing is written', async () => {
  const profile = `apiVersion: projectcalico.org/v3
kind: Profile
metadata:
  name: kns.${NS}
spec: {}
`;
  const r = await cattail(['apply', '-f', '-'], undefined, profile);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /operation (Update|Create) is not supported on Profile\(kns\.shop\): the Kubernetes datastore derives it from the Namespace shop/);
  const del = await cattail(['delete', 'networkpolicy', 'knp.default.allow-web', '-n', NS]);
  assert.equal(del.code, 1);
  assert.match(del.stderr, /operation Delete is not supported on NetworkPolicy\(shop\/knp\.default\.allow-web\)/);
  await kube.kubectl(['get', 'networkpolicies.networking.k8s.io', 'allow-web', '-n', NS]);
});

test('--kubeconfig, and K8S_API_ENDPOINT with the K8S_* credential files, name the API server too', async () => {
  const byFlag = await cattail(['get', 'nodes', '--kubeconfig', kube.kubeconfigPath], {});
  assert.equal(byFlag.code, 0, byFlag.stderr);
  assert.match(byFlag.stdout, /node-1/);
  const byEndpoint = await cattail(['get', 'nodes'], {
    K8S_API_ENDPOINT: kube.url,
    K8S_CA_FILE: kube.caFile,
    K8S_CERT_FILE: kube.clientCertFile,
    K8S_KEY_FILE: kube.clientKeyFile,
  });
  assert.equal(byEndpoint.code, 0, byEndpoint.stderr);
  assert.match(byEndpoint.stdout, /node-1/);
});

test('without a kubeconfig, with one that is not there, or with no API server there, the error says what to set', async () => {
  const none = await cattail(['get', 'ippools'], {});
  assert.equal(none.code, 1);
  assert.equal(
    none.stderr,
    'DATASTORE_TYPE=kubernetes needs a kubeconfig: set KUBECONFIG or pass --kubeconfig (or set K8S_API_ENDPOINT, or run in a pod with a service account)\n',
  );
  const missing = await cattail(['get', 'ippools'], { KUBECONFIG: join(dir, 'no-such-kubeconfig') });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^cannot configure the Kubernetes client: cannot read kubeconfig .*no-such-kubeconfig/);

  // An API server that is not there: one line naming it and what sets it.
  const port = await closedPort();
  const unreachable = await cattail(['get', 'ippools'], { K8S_API_ENDPOINT: `https://127.0.0.1:${port}`, K8S_CA_FILE: kube.caFile });
  assert.equal(unreachable.code, 1);
  const lines = unreachable.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, unreachable.stderr);
  assert.match(
    lines[0],
    new RegExp(`^cannot reach the Kubernetes API server at https://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*; check --kubeconfig or KUBECONFIG`),
  );
});

/** A loopback port nothing listens on: bind port 0, note it, close. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

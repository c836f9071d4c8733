// The CNI kubeconfig token against a real kube-apiserver: the node's ServiceAccount, with the
// chart's one extra rule (create serviceaccounts/token on itself), gets a token of itself that
// is bound to no pod and lives the validity asked for; the refresher writes it into a kubeconfig
// the API server then accepts as that ServiceAccount. Without the rule the request is refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeClient, KubeHttpError, loadKubeConfig } from '@cattail/datastore/kdd';
import { startKubeApiServer, whoAmI, type KubeApiServer } from '@cattail/datastore/testing';
import { CniTokenRefresher, requestServiceAccountToken, serviceAccountOfToken } from '../../src/cni-token.js';
import { silentLogger } from '../../src/log.js';

const NS = 'cattail-system';
let kube: KubeApiServer;
let dir: string;

/** A token of ServiceAccount `name`, as the kubelet would mount it into the node pod. */
async function podToken(name: string): Promise<string> {
  return (await kube.kubectl(['create', 'token', name, '-n', NS, '--duration', '1h'])).trim();
}

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;

before(async () => {
  kube = await startKubeApiServer();
  dir = await mkdtemp(join(tmpdir(), 'cattail-cni-token-kdd-'));
  await kube.ensureNamespace(NS);
  // The chart's node ServiceAccount and its rule (helm/cattail/templates/rbac.yaml), and one without it.
  const objects = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'cattail-node', namespace: NS } },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'no-rule', namespace: NS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'cattail-node', namespace: NS },
      rules: [{ apiGroups: [''], resources: ['serviceaccounts/token'], resourceNames: ['cattail-node'], verbs: ['create'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'cattail-node', namespace: NS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cattail-node' },
      subjects: [{ kind: 'ServiceAccount', name: 'cattail-node', namespace: NS }],
    },
  ];
  await kube.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) });
});

after(async () => {
  await kube?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the node ServiceAccount gets a token of itself, bound to no pod, valid as asked; a ServiceAccount without the rule is refused', async () => {
  const own = await podToken('cattail-node');
  const sa = serviceAccountOfToken(own);
  assert.deepEqual(sa, { namespace: NS, name: 'cattail-node' });
  const asPod = new KubeClient({ server: kube.url, ca: kube.ca, token: own });
  const before = Date.now();
  const issued = await requestServiceAccountToken(asPod, sa, 7200);
  assert.notEqual(issued.token, own);
  const c = claims(issued.token);
  assert.equal(c.sub, `system:serviceaccount:${NS}:cattail-node`);
  assert.equal((c['kubernetes.io'] as { pod?: unknown } | undefined)?.pod, undefined, 'bound to no pod');
  const lifetimeS = (issued.expiresAtMs - before) / 1000;
  assert.ok(lifetimeS > 7100 && lifetimeS <= 7200 + 5, `expires ${lifetimeS} s after the request`);
  assert.equal(await whoAmI(new KubeClient({ server: kube.url, ca: kube.ca, token: issued.token })), `system:serviceaccount:${NS}:cattail-node`);

  const stranger = new KubeClient({ server: kube.url, ca: kube.ca, token: await podToken('no-rule') });
  await assert.rejects(
    requestServiceAccountToken(stranger, { namespace: NS, name: 'no-rule' }, 7200),
    (err: unknown) => err instanceof KubeHttpError && err.statusCode === 403,
  );
  // Nor may the node account mint tokens of another account.
  await assert.rejects(
    requestServiceAccountToken(asPod, { namespace: NS, name: 'no-rule' }, 7200),
    (err: unknown) => err instanceof KubeHttpError && err.statusCode === 403,
  );
});

test('the refresher writes a kubeconfig the API server accepts as the node ServiceAccount', async () => {
  const path = join(dir, 'cattail-kubeconfig');
  const refreshed: string[] = [];
  const refresher = new CniTokenRefresher({
    kubeconfigPath: path,
    validitySecs: 3600,
    logger: silentLogger,
    // No file yet: server and CA as a pod has them in-cluster.
    clusterFallback: () => ({ server: kube.url, ca: kube.ca }),
    issue: async (secs) => {
      const own = await podToken('cattail-node');
      return requestServiceAccountToken(new KubeClient({ server: kube.url, ca: kube.ca, token: own }), serviceAccountOfToken(own), secs);
    },
    onRefreshed: () => refreshed.push(loadKubeConfig(path).token ?? ''),
  });
  await refresher.start();
  await refresher.stop();
  assert.equal(refreshed.length, 1);
  assert.equal(refresher.status().failures, 0);
  const written = loadKubeConfig(path);
  assert.equal(written.server, kube.url);
  assert.equal(await whoAmI(new KubeClient(written)), `system:serviceaccount:${NS}:cattail-node`);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliHarness } from './cli-harness.js';

test('--help lists every command and exits 0; no command prints the same to stderr and exits 1', async (t) => {
  const h = await CliHarness.create(t);
  const help = await h.run(['--help']);
  assert.equal(help.code, 0);
  for (const name of ['create', 'replace', 'apply', 'delete', 'get', 'selector', 'version']) {
    assert.match(help.stdout, new RegExp(`\\n {4}${name} +\\S`), name);
  }
  const none = await h.run([]);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, help.stdout);
});

test('each command has its own --help', async (t) => {
  const h = await CliHarness.create(t);
  const r = await h.run(['apply', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Usage:\n {2}cattail apply --filename=<FILENAME>/);
  assert.match(r.stdout, /\nOptions:\n {2}-h --help +Show this screen\.\n {2}-f --filename=<FILENAME> +/);
  assert.equal(h.connects, 0);
});

test('an unknown command or flag is an error with usage text', async (t) => {
  const h = await CliHarness.create(t);
  const cmd = await h.run(['frobnicate']);
  assert.equal(cmd.code, 1);
  assert.match(cmd.stderr, /^unknown command "frobnicate"\n\nUsage:\n {2}cattail \[options\] <command>/);

  const flag = await h.run(['get', 'ippool', '--bogus']);
  assert.equal(flag.code, 1);
  assert.match(flag.stderr, /^unknown flag --bogus\n\nUsage:\n {2}cattail get /);
  assert.match(flag.stderr, /Run 'cattail get --help' for more information\.\n$/);

  const missing = await h.run(['get', 'ippool', '-o']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^flag -o needs a value \(OUTPUT\)\n/);
  assert.equal(h.connects, 0);
});

test('version prints the client and the cluster version from ClusterInformation', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed({
    apiVersion: 'projectcalico.org/v3',
    kind: 'ClusterInformation',
    metadata: { name: 'default' },
    spec: { calicoVersion: 'v3.28.0', clusterType: 'k8s,bgp' },
  });
  const r = await h.run(['version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Client Version: {4}v\d+\.\d+\.\d+\nCluster Version: {3}v3\.28\.0\nCluster Type: {6}k8s,bgp\n$/);
});

test('version without ClusterInformation still prints the client version, then fails', async (t) => {
  const h = await CliHarness.create(t, { initialized: false });
  const r = await h.run(['version']);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /^Client Version: {4}v/);
  assert.equal(r.stderr, 'Unable to retrieve Cluster Version or Type: resource does not exist: ClusterInformation(default) with error: <nil>\n');
});

test("endpoints come from --etcd-endpoints, else ETCD_ENDPOINTS, else calicoctl's default", async (t) => {
  const h = await CliHarness.create(t);
  await h.run(['get', 'ippool']);
  assert.deepEqual(h.lastFactoryArgs?.location, { type: 'etcdv3', endpoints: ['http://127.0.0.1:2379'] });
  const env = { ETCD_ENDPOINTS: 'http://etcd-1:2379,http://etcd-2:2379', ETCD_CA_CERT_FILE: '/ca.pem' };
  await h.run(['get', 'ippool'], { env });
  assert.deepEqual(h.lastFactoryArgs?.location, { type: 'etcdv3', endpoints: ['http://etcd-1:2379', 'http://etcd-2:2379'] });
  assert.equal(h.lastFactoryArgs?.env.ETCD_CA_CERT_FILE, '/ca.pem', 'TLS settings reach the factory');
  await h.run(['get', 'ippool', '--etcd-endpoints', 'http://10.0.0.9:2379'], { env });
  assert.deepEqual(h.lastFactoryArgs?.location, { type: 'etcdv3', endpoints: ['http://10.0.0.9:2379'] });
  assert.ok(h.ds.closed, 'the datastore is closed when the command ends');
});

test('a datastore that never answers fails within the request timeout, naming the endpoints', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.hang = true;
  const r = await h.run(['get', 'ippool', '--etcd-endpoints', 'http://10.0.0.1:2379'], { requestTimeoutMs: 20 });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    'cannot reach etcd at http://10.0.0.1:2379: no answer within 20ms; check --etcd-endpoints or ETCD_ENDPOINTS (and the ETCD_* TLS settings)\n',
  );
});

test('an unavailable datastore is one line naming the endpoints, and stops a batch at once', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.failWith = Object.assign(new Error('etcd Range failed: No connection established\nlast error: ECONNREFUSED'), {
    code: 'ETCD_UNAVAILABLE',
  });
  const env = { ETCD_ENDPOINTS: 'http://127.0.0.1:1' };
  const r = await h.run(['apply', '-f', '-'], {
    env,
    stdin:
      'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: a}\nspec: {cidr: 10.0.0.0/16}\n---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: b}\nspec: {cidr: 10.1.0.0/16}\n',
  });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^cannot reach etcd at http:\/\/127\.0\.0\.1:1: etcd Range failed: No connection established; check /);
});

test('SIGINT while waiting on the datastore ends the command with 130', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.hang = true;
  const controller = new AbortController();
  const pending = h.run(['get', 'ippool'], { signal: controller.signal, requestTimeoutMs: 60_000 });
  controller.abort();
  const r = await pending;
  assert.equal(r.code, 130);
  assert.equal(r.stderr, 'interrupted\n');
});

test('SIGINT while waiting for stdin ends the command with 130', async (t) => {
  const h = await CliHarness.create(t);
  const silentTerminal: AsyncIterable<string> = {
    [Symbol.asyncIterator]: () => ({ next: () => new Promise<IteratorResult<string>>(() => undefined) }),
  };
  const controller = new AbortController();
  const pending = h.run(['apply', '-f', '-'], { stdin: silentTerminal, signal: controller.signal });
  controller.abort();
  const r = await pending;
  assert.equal(r.code, 130);
  assert.equal(h.connects, 0);
});

test('an unsupported DATASTORE_TYPE is refused before connecting', async (t) => {
  const h = await CliHarness.create(t);
  const r = await h.run(['get', 'ippool'], { env: { DATASTORE_TYPE: 'consul' } });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'DATASTORE_TYPE "consul" is not supported: set it to etcdv3 (the default) or kubernetes\n');
  assert.equal(h.connects, 0);
});

test('DATASTORE_TYPE=kubernetes: the kubeconfig from --kubeconfig, else KUBECONFIG; none is refused before connecting', async (t) => {
  const h = await CliHarness.create(t);
  const none = await h.run(['get', 'ippool'], { env: { DATASTORE_TYPE: 'kubernetes' } });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^DATASTORE_TYPE=kubernetes needs a kubeconfig: set KUBECONFIG or pass --kubeconfig/);
  assert.equal(h.connects, 0);
  const env = { DATASTORE_TYPE: 'kubernetes', KUBECONFIG: '/etc/a.conf:/etc/b.conf' };
  await h.run(['get', 'ippool'], { env });
  assert.deepEqual(h.lastFactoryArgs?.location, { type: 'kubernetes', kubeconfig: '/etc/a.conf' });
  await h.run(['get', 'ippool', '--kubeconfig', '/etc/c.conf'], { env: { ...env, K8S_API_ENDPOINT: 'https://10.0.0.1:6443' } });
  assert.deepEqual(h.lastFactoryArgs?.location, { type: 'kubernetes', kubeconfig: '/etc/c.conf', apiEndpoint: 'https://10.0.0.1:6443' });
  await h.run(['get', 'ippool'], { env: { DATASTORE_TYPE: 'kubernetes', KUBERNETES_SERVICE_HOST: '10.96.0.1' } });
  assert.deepEqual(h.lastFactoryArgs?.location, { type: 'kubernetes' }, 'in a pod: its service account');
});

test('the global --log-level is checked', async (t) => {
  const h = await CliHarness.create(t);
  const r = await h.run(['--log-level', 'loud', 'version']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^unknown log level "loud"\n/);
});

test('kube-controllers: --help names Calico’s variables; a bad configuration lists every problem and exits 1 before connecting', async (t) => {
  const h = await CliHarness.create(t);
  const help = await h.run(['kube-controllers', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--enabled-controllers=<VALUE> +.*\[ENABLED_CONTROLLERS, /);
  assert.match(help.stdout, /--leak-grace-period=<VALUE> +.*\[LEAK_GRACE_PERIOD, /);
  const bad = await h.run(['kube-controllers', '--leak-grace-period=soon'], { env: { ENABLED_CONTROLLERS: 'node,policy' } });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid kube-controllers configuration:\n/);
  assert.match(bad.stderr, /"policy" does not apply to the Kubernetes datastore/);
  assert.match(bad.stderr, /LeakGracePeriod: "soon" is not a duration/);
  assert.equal(h.connects, 0);
});

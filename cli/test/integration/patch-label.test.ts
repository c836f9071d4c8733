/**
 * `cattail patch`, `cattail label`, the version-mismatch guard and `version --poll`, in-process against a real
 * etcd: what each writes (read back through the datastore), what each refuses (etcd's revision
 * does not move), that their input is checked before any connection (an endpoint nothing
 * listens on), and that a write racing another writer is retried on the newer version.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { API_VERSION, type Resource } from '@cattail/api';
import type { Datastore } from '@cattail/datastore';
import { sharedEtcd, until } from '@cattail/datastore/testing';
import type { RunOptions } from '../../src/io.js';
import { run } from '../../src/run.js';
import { clientVersion } from '../../src/version-info.js';

const fx = sharedEtcd({ wipe: '/calico/' });
let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cattail-patch-it-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Nothing listens here: a command that connects fails with "cannot reach etcd". */
const DEAD_ENDPOINT = 'http://127.0.0.1:9';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cattail(argv: string[], factory?: RunOptions['datastoreFactory']): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const options: RunOptions = {
    stdout: { write: (s) => void (stdout += s) },
    stderr: { write: (s) => void (stderr += s) },
    env: { ETCD_ENDPOINTS: fx.etcd.endpoints.join(',') },
    cwd: dir,
    requestTimeoutMs: 3000,
  };
  if (factory) options.datastoreFactory = factory;
  const code = await run(argv, options);
  return { code, stdout, stderr };
}

function res(kind: string, name: string, spec: Record<string, unknown>, extra: Partial<Resource['metadata']> = {}): Resource {
  return { apiVersion: API_VERSION, kind, metadata: { name, ...extra }, spec };
}

async function revision(): Promise<number> {
  return (await fx.ds.list('IPPool')).revision;
}

beforeEach(async () => {
  await fx.ds.create(res('IPPool', 'pool-a', { cidr: '10.5.0.0/16', ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true }, { labels: { tier: 'gold' } }));
  await fx.ds.create(res('NetworkPolicy', 'web', { selector: "app == 'web'", types: ['Ingress'], ingress: [{ action: 'Allow' }] }, { namespace: 'prod' }));
});

const pool = (): Promise<Resource> => fx.ds.get({ kind: 'IPPool', name: 'pool-a' });

test('patch (strategic, the default): objects merge, null removes a key, lists are replaced', async () => {
  const before = await pool();
  const r = await cattail(['patch', 'ippool', 'pool-a', '--patch', '{"spec":{"disabled":true,"natOutgoing":null,"allowedUses":["Workload"]}}']);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, "Successfully patched 1 'IPPool' resource\n");
  assert.equal(r.code, 0);
  const after = await pool();
  assert.equal(after.spec?.disabled, true);
  assert.equal(after.spec?.natOutgoing, undefined, 'null removed it');
  assert.deepEqual(after.spec?.allowedUses, ['Workload']);
  assert.equal(after.spec?.cidr, '10.5.0.0/16', 'fields the patch does not name are kept');
  assert.deepEqual(after.metadata.labels, { tier: 'gold' });
  assert.equal(after.metadata.uid, before.metadata.uid);
  assert.notEqual(after.metadata.resourceVersion, before.metadata.resourceVersion);
});

test('patch -t merge and -t json; a namespaced resource by -n', async () => {
  const merge = await cattail(['patch', 'pool', 'pool-a', '-t', 'merge', '-p', '{"metadata":{"labels":{"tier":null,"zone":"a"}}}']);
  assert.equal(merge.stdout, "Successfully patched 1 'IPPool' resource\n");
  assert.deepEqual((await pool()).metadata.labels, { zone: 'a' });

  const json = await cattail([
    'patch',
    'ippools',
    'pool-a',
    '--type=json',
    '--patch=[{"op":"test","path":"/spec/cidr","value":"10.5.0.0/16"},{"op":"replace","path":"/spec/ipipMode","value":"Always"},{"op":"add","path":"/metadata/labels/b~1c","value":"d"}]',
  ]);
  assert.equal(json.stderr, '');
  assert.equal(json.code, 0);
  const p = await pool();
  assert.equal(p.spec?.ipipMode, 'Always');
  assert.deepEqual(p.metadata.labels, { zone: 'a', 'b/c': 'd' });

  const np = await cattail(['patch', 'networkpolicy', 'web', '-n', 'prod', '-p', '{"spec":{"order":10}}']);
  assert.equal(np.stdout, "Successfully patched 1 'NetworkPolicy' resource\n");
  assert.equal((await fx.ds.get({ kind: 'NetworkPolicy', name: 'web', namespace: 'prod' })).spec?.order, 10);
  const wrongNs = await cattail(['patch', 'networkpolicy', 'web', '-p', '{"spec":{"order":11}}']);
  assert.equal(wrongNs.stderr, 'Hit error: resource does not exist: NetworkPolicy(default/web) with error: <nil>\n');
  assert.equal(wrongNs.code, 1);
});

test('patch writes nothing when the result is invalid, changes identity, or the resource is absent', async () => {
  const rev = await revision();
  const invalid = await cattail(['patch', 'ippool', 'pool-a', '-p', '{"spec":{"cidr":"10.5.0.0/33","blockSize":12}}']);
  assert.equal(invalid.code, 1);
  assert.match(invalid.stderr, /^Hit error: the patched IPPool\(pool-a\) is not valid; nothing was written:\n {2}spec\.cidr: .+\n/);

  const rename = await cattail(['patch', 'ippool', 'pool-a', '-p', '{"metadata":{"name":"pool-b"}}']);
  assert.equal(rename.stderr, 'Hit error: the patch may not change metadata.name of IPPool(pool-a)\n');

  const failedTest = await cattail(['patch', 'ippool', 'pool-a', '-t', 'json', '-p', '[{"op":"test","path":"/spec/cidr","value":"10.6.0.0/16"}]']);
  assert.equal(failedTest.stderr, 'Hit error: patch operation 1 (test /spec/cidr): the value is not "10.6.0.0/16"\n');

  const missingPath = await cattail(['patch', 'ippool', 'pool-a', '-t', 'json', '-p', '[{"op":"remove","path":"/spec/nodeSelector/x"}]']);
  assert.match(missingPath.stderr, /^Hit error: patch operation 1 \(remove \/spec\/nodeSelector\/x\): /);

  const absent = await cattail(['patch', 'ippool', 'nope', '-p', '{"spec":{"disabled":true}}']);
  assert.equal(absent.stderr, 'Hit error: resource does not exist: IPPool(nope) with error: <nil>\n');
  assert.equal(absent.code, 1);

  const readOnly = await cattail(['patch', 'clusterinformation', 'default', '-p', '{"spec":{"clusterType":"x"}}']);
  assert.match(readOnly.stderr, /^Hit error: operation update is not supported on ClusterInformation/);
  assert.equal(await revision(), rev, 'nothing was written');
});

test('patch checks its flags, the patch document and KIND before connecting', async () => {
  const cases: [string[], RegExp][] = [
    [['patch', 'ippool', 'pool-a'], /^--patch is required\n/],
    [['patch', 'ippool', '-p', '{}'], /^KIND and NAME are required\n/],
    [['patch', 'ippool', 'pool-a', '-p', '{}', '-t', 'yaml'], /^unknown patch type "yaml": use strategic, merge, json\n/],
    [['patch', 'ippool', 'pool-a', '-p', '{spec:'], /^the patch is not valid JSON: /],
    [['patch', 'ippool', 'pool-a', '-p', '[1]'], /^a strategic patch must be a JSON object/],
    [['patch', 'ippool', 'pool-a', '-t', 'json', '-p', '{"spec":{}}'], /^a json patch \(RFC 6902\) must be a JSON array of operations/],
    [['patch', 'ippool', 'pool-a', '-t', 'json', '-p', '[{"op":"frob","path":"/spec"}]'], /^patch operation 1: "op" must be one of add, remove/],
    [['patch', 'ippool', 'pool-a', '-p', '{"spec":{"$retainKeys":["cidr"]}}'], /^spec\.\$retainKeys: the strategic merge directive/],
    [['patch', 'frobs', 'x', '-p', '{}'], /^resource type 'frobs' is not supported\n/],
    [['patch', 'ippool', 'pool-a', '-n', 'prod', '-p', '{}'], /^IPPool is not namespaced\n/],
  ];
  for (const [argv, expected] of cases) {
    const r = await cattail([...argv, '--etcd-endpoints', DEAD_ENDPOINT]);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.stderr, expected, argv.join(' '));
  }
});

/**
 * A datastore that, before the command's first update, lets "another writer" change the same
 * resource: the command's compare-and-swap loses and must re-read and re-apply.
 */
function racingFactory(other: (ds: Datastore) => Promise<void>): { factory: RunOptions['datastoreFactory']; updates: () => number } {
  let updates = 0;
  const factory: RunOptions['datastoreFactory'] = () => {
    const ds = fx.ds;
    return {
      get: (ref) => ds.get(ref),
      list: (kind, opts) => ds.list(kind, opts),
      create: (r) => ds.create(r),
      update: async (r) => {
        if (updates++ === 0) await other(ds);
        return ds.update(r);
      },
      delete: (ref, opts) => ds.delete(ref, opts),
      listPrefix: (prefix) => ds.listPrefix(prefix),
      watchPrefix: (prefix, rev, sink) => ds.watchPrefix(prefix, rev, sink),
      close: async () => undefined, // the shared client stays open for the next test
    };
  };
  return { factory, updates: () => updates };
}

test('patch and label retry a lost compare-and-swap on the newer version, keeping the other write', async () => {
  const racer = racingFactory(async (ds) => {
    const p = await ds.get({ kind: 'IPPool', name: 'pool-a' });
    await ds.update({ ...p, metadata: { ...p.metadata, labels: { ...p.metadata.labels, racer: 'yes' } } });
  });
  const r = await cattail(['patch', 'ippool', 'pool-a', '-p', '{"spec":{"disabled":true}}'], racer.factory);
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  assert.equal(racer.updates(), 2, 'the first update lost the race and was retried');
  const p = await pool();
  assert.equal(p.spec?.disabled, true);
  assert.deepEqual(p.metadata.labels, { tier: 'gold', racer: 'yes' }, "the other writer's change survives");

  // The other writer sets the key label is about to set: the retry sees it and refuses.
  const labelRacer = racingFactory(async (ds) => {
    const q = await ds.get({ kind: 'IPPool', name: 'pool-a' });
    await ds.update({ ...q, metadata: { ...q.metadata, labels: { ...q.metadata.labels, env: 'prod' } } });
  });
  const l = await cattail(['label', 'ippool', 'pool-a', 'env=dev'], labelRacer.factory);
  assert.equal(l.stderr, "failed to update label of ippool pool-a, key env is already present. please use '--overwrite' to set a new value.\n");
  assert.equal(l.code, 1);
  assert.equal((await pool()).metadata.labels?.env, 'prod');
});

test("label: calicoctl's set, refuse, overwrite and remove, with KIND and NAME as typed", async () => {
  const set = await cattail(['label', 'ippools', 'pool-a', 'env=dev']);
  assert.equal(set.stdout, 'Successfully set label env on ippools pool-a\n');
  assert.equal(set.code, 0);

  const rev = await revision();
  const refused = await cattail(['label', 'ippools', 'pool-a', 'env=prod']);
  assert.equal(refused.stderr, "failed to update label of ippools pool-a, key env is already present. please use '--overwrite' to set a new value.\n");
  assert.equal(refused.code, 1);
  assert.equal(await revision(), rev);

  const same = await cattail(['label', 'ippool', 'pool-a', 'env=dev']);
  assert.equal(same.stdout, 'Successfully updated label env on ippool pool-a\n', 'the same value needs no --overwrite');

  const overwritten = await cattail(['label', 'ippool', 'pool-a', 'env=prod', '--overwrite']);
  assert.equal(overwritten.stdout, 'Successfully updated label env on ippool pool-a\n');
  assert.deepEqual((await pool()).metadata.labels, { tier: 'gold', env: 'prod' });

  const removed = await cattail(['label', 'ippool', 'pool-a', 'tier', '--remove']);
  assert.equal(removed.stdout, 'Successfully removed label tier from ippool pool-a\n');
  assert.deepEqual((await pool()).metadata.labels, { env: 'prod' });

  const again = await cattail(['label', 'ippool', 'pool-a', 'tier', '--remove']);
  assert.equal(again.stderr, 'cannot remove label of ippool pool-a, key tier does not exist\n');
  assert.equal(again.code, 1);

  const np = await cattail(['label', 'policy', 'web', '-n', 'prod', 'app=web']);
  assert.equal(np.stdout, 'Successfully set label app on policy web\n');
  assert.deepEqual((await fx.ds.get({ kind: 'NetworkPolicy', name: 'web', namespace: 'prod' })).metadata.labels, { app: 'web' });

  const absent = await cattail(['label', 'ippool', 'nope', 'a=b']);
  assert.equal(absent.stderr, 'ippool nope not found\n');
  assert.equal(absent.code, 1);
});

test('label checks the label, its flags and KIND before connecting', async () => {
  const cases: [string[], RegExp][] = [
    [['label', 'ippool', 'pool-a'], /^KIND, NAME and a label are required\n/],
    [['label', 'ippool', 'pool-a', 'env'], /^invalid label env\n/],
    [['label', 'ippool', 'pool-a', 'a=b=c'], /^invalid label a=b=c\n/],
    [['label', 'ippool', 'pool-a', 'bad key=x'], /^invalid label bad key=x: key "bad key": name part must consist of/],
    [['label', 'ippool', 'pool-a', 'env=-bad'], /^invalid label env=-bad: label value "-bad" must be empty or/],
    [['label', 'ippool', 'pool-a', 'env', '--remove', '--overwrite'], /^--overwrite and --remove cannot be used together\n/],
    [['label', 'ippool', 'pool-a', 'env=x', '--remove'], /^--remove takes a label key, not "env=x"\n/],
    [['label', 'ipamblock', 'b', 'a=b'], /^resource type 'ipamblock' is not supported\n/],
  ];
  for (const [argv, expected] of cases) {
    const r = await cattail([...argv, '--etcd-endpoints', DEAD_ENDPOINT]);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.stderr, expected, argv.join(' '));
  }
});

test("the version-mismatch guard: calicoctl's message, its override, and the commands it spares", async () => {
  await fx.ds.create(
    res('ClusterInformation', 'default', { clusterGUID: '0123456789abcdef0123456789abcdef', calicoVersion: 'v3.28.0-0.dev', datastoreReady: true }),
  );
  const mismatch = `Version mismatch.\nClient Version:   ${clientVersion()}\nCluster Version:  3.28.0\nUse --allow-version-mismatch to override.\n`;
  const rev = await revision();
  for (const argv of [
    ['get', 'ippool'],
    ['patch', 'ippool', 'pool-a', '-p', '{"spec":{"disabled":true}}'],
    ['label', 'ippool', 'pool-a', 'x=y'],
    ['ipam', 'show'],
  ]) {
    const r = await cattail(argv);
    assert.equal(r.stderr, mismatch, argv.join(' '));
    assert.equal(r.stdout, '', argv.join(' '));
    assert.equal(r.code, 1, argv.join(' '));
  }
  assert.equal(await revision(), rev, 'nothing was written');

  const allowed = await cattail(['label', 'ippool', 'pool-a', 'x=y', '--allow-version-mismatch']);
  assert.equal(allowed.stdout, 'Successfully set label x on ippool pool-a\n');
  const global = await cattail(['--allow-version-mismatch', 'get', 'ippool', '-o', 'custom-columns=NAME']);
  assert.equal(global.stdout, 'NAME     \npool-a   \n\n');

  const version = await cattail(['version']);
  assert.equal(version.code, 0, 'version reports a mismatch, it does not refuse');
  assert.match(version.stdout, /\nCluster Version: {3}v3\.28\.0-0\.dev\n/);

  // The same release with another suffix is no mismatch; neither is an unset calicoVersion.
  const info = await fx.ds.get({ kind: 'ClusterInformation', name: 'default' });
  await fx.ds.update({ ...info, spec: { ...info.spec, calicoVersion: `${clientVersion()}-lab` } });
  assert.equal((await cattail(['get', 'ippool', 'pool-a', '-o', 'custom-columns=NAME'])).code, 0);
});

test('version --poll prints a cluster line again only when it changes, and ends on SIGINT', async () => {
  const info = await fx.ds.create(
    res('ClusterInformation', 'default', { clusterGUID: '0123456789abcdef0123456789abcdef', calicoVersion: 'v3.28.0', clusterType: 'k8s' }),
  );
  const bad = await cattail(['version', '--poll', '10 seconds', '--etcd-endpoints', DEAD_ENDPOINT]);
  assert.equal(bad.stderr, 'Invalid poll duration specified: 10 seconds\n');
  assert.equal(bad.code, 1);

  const controller = new AbortController();
  let stdout = '';
  const polling = run(['version', '--poll=20ms'], {
    stdout: { write: (s) => void (stdout += s) },
    stderr: { write: () => undefined },
    env: { ETCD_ENDPOINTS: fx.etcd.endpoints.join(',') },
    cwd: dir,
    signal: controller.signal,
  });
  const seen = (line: string): Promise<boolean> => until(() => stdout.includes(line), `"${line}" in version --poll's output`, 10_000, 10);
  await seen('Cluster Type:      k8s\n');
  await fx.ds.update({ ...info, spec: { ...info.spec, clusterType: 'k8s,bgp' } });
  await seen('Cluster Type:      k8s,bgp\n');
  controller.abort('SIGINT');
  assert.equal(await polling, 130);
  assert.equal(stdout, `Client Version:    ${clientVersion()}\nCluster Version:   v3.28.0\nCluster Type:      k8s\nCluster Type:      k8s,bgp\n`);
});

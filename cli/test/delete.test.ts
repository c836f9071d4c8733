import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '@cattail/api';
import { CliHarness, IPPOOL_A, NP_WEB } from './cli-harness.js';

const V3 = 'projectcalico.org/v3';

function pool(name: string): Resource {
  return { apiVersion: V3, kind: 'IPPool', metadata: { name }, spec: { cidr: '10.1.0.0/16' } };
}

test('delete KIND NAME... deletes each and counts them', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(pool('pool-a'));
  h.ds.seed(pool('pool-b'));
  h.ds.seed(pool('pool-c'));
  const r = await h.run(['delete', 'ippools', 'pool-a', 'pool-b']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "Successfully deleted 2 'IPPool' resource(s)\n");
  assert.equal(r.stderr, '');
  assert.deepEqual(
    h.ds.writes.map((w) => `${w.op} ${w.ref.name}`),
    ['delete pool-a', 'delete pool-b'],
  );
  assert.ok(h.ds.peek({ kind: 'IPPool', name: 'pool-c' }));
});

test('deleting what does not exist fails per resource, after deleting the rest', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(pool('pool-a'));
  const r = await h.run(['delete', 'pool', 'nope', 'pool-a']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "Successfully deleted 1 'IPPool' resource(s)\n");
  assert.equal(r.stderr, "Failed to delete 'IPPool' resource: resource does not exist: IPPool(nope) with error: <nil>\n");
  assert.equal(h.ds.peek({ kind: 'IPPool', name: 'pool-a' }), undefined);
});

test('--skip-not-exists counts a missing resource as deleted', async (t) => {
  const h = await CliHarness.create(t);
  const r = await h.run(['delete', 'ippool', 'nope', '--skip-not-exists']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, "Successfully deleted 1 'IPPool' resource(s)\n");
  const short = await h.run(['delete', '-s', 'ippool', 'nope']);
  assert.equal(short.code, 0);
});

test('namespaced deletes use -n, else default', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed({ apiVersion: V3, kind: 'NetworkPolicy', metadata: { name: 'web', namespace: 'default' }, spec: {} });
  h.ds.seed({ apiVersion: V3, kind: 'NetworkPolicy', metadata: { name: 'web', namespace: 'dev' }, spec: {} });
  const r = await h.run(['delete', 'policy', 'web', '-n', 'dev']);
  assert.equal(r.code, 0);
  assert.equal(h.ds.peek({ kind: 'NetworkPolicy', name: 'web', namespace: 'dev' }), undefined);
  assert.ok(h.ds.peek({ kind: 'NetworkPolicy', name: 'web', namespace: 'default' }));
  assert.equal((await h.run(['delete', 'policy', 'web'])).code, 0);
  assert.equal(h.ds.size - CliHarness.INITIALIZED_SIZE, 0);
});

test('delete -f deletes what a file names, mixed kinds counted without a kind', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(pool('pool-a'));
  h.ds.seed({ apiVersion: V3, kind: 'NetworkPolicy', metadata: { name: 'web', namespace: 'default' }, spec: {} });
  await h.file('both.yaml', `${IPPOOL_A}---\n${NP_WEB}`);
  const r = await h.run(['delete', '-f', 'both.yaml']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'Successfully deleted 2 resource(s)\n');
  assert.equal(h.ds.size - CliHarness.INITIALIZED_SIZE, 0);
});

test('delete -f with a stale resourceVersion does not delete', async (t) => {
  const h = await CliHarness.create(t);
  const stored = h.ds.seed(pool('pool-a'));
  const stale = `apiVersion: ${V3}\nkind: IPPool\nmetadata:\n  name: pool-a\n  resourceVersion: '${Number(stored.metadata.resourceVersion) - 1}'\n`;
  const r = await h.run(['delete', '-f', '-'], { stdin: stale });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "Failed to delete 'IPPool' resource: update conflict: IPPool(pool-a)\n");
  assert.ok(h.ds.peek({ kind: 'IPPool', name: 'pool-a' }));
});

test('delete -f with an unidentifiable document deletes nothing', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(pool('pool-a'));
  const r = await h.run(['delete', '-f', '-'], { stdin: `${IPPOOL_A}---\napiVersion: ${V3}\nkind: IPPool\nmetadata: {}\n` });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /<stdin>: document 2: .*metadata\.name: is required/);
  assert.equal(h.ds.writes.length, 0);
});

test('delete refuses ClusterInformation, and needs a name', async (t) => {
  const h = await CliHarness.create(t);
  const ci = await h.run(['delete', 'clusterinfo', 'default']);
  assert.equal(ci.code, 1);
  assert.equal(ci.stderr, "Failed to delete 'ClusterInformation' resource: operation delete is not supported on ClusterInformation\n");
  const noName = await h.run(['delete', 'ippool']);
  assert.equal(noName.code, 1);
  assert.equal(noName.stderr, 'No resources specified\n');
});

test('SIGINT during the deletes finishes the one in flight, starts no other, and reports each', async (t) => {
  const h = await CliHarness.create(t);
  for (const name of ['pool-a', 'pool-b', 'pool-c']) h.ds.seed(pool(name));
  const controller = new AbortController();
  h.ds.beforeCall = (op, ref) => {
    if (op === 'delete' && ref?.name === 'pool-b') controller.abort('SIGINT');
  };
  const r = await h.run(['delete', 'ippool', 'nope', 'pool-b', 'pool-c'], { signal: controller.signal });
  assert.equal(r.code, 130);
  assert.equal(r.stdout, '');
  assert.deepEqual(r.stderr.trimEnd().split('\n'), [
    'IPPool(nope): not deleted: resource does not exist: IPPool(nope) with error: <nil>',
    'IPPool(pool-b): deleted',
    'IPPool(pool-c): not deleted (interrupted)',
    'interrupted by SIGINT: 1 of 3 resource(s) deleted, 2 not deleted',
  ]);
  assert.deepEqual(
    h.ds.writes.map((w) => `${w.op} ${w.ref.name}`),
    ['delete pool-b'],
  );
  assert.ok(h.ds.peek({ kind: 'IPPool', name: 'pool-c' }));
});

test('delete -f of input over a limit deletes nothing', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(pool('pool-a'));
  const deep = `${IPPOOL_A}---\nx: ${'['.repeat(101)}${']'.repeat(101)}\n`;
  const r = await h.run(['delete', '-f', '-'], { stdin: deep });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'Failed to execute command:\n<stdin>: document 2: line 10, column 103: nested more than 100 levels deep, over the limit\n');
  assert.equal(h.ds.writes.length, 0);
  assert.equal(h.connects, 0);
});

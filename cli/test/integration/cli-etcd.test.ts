/**
 * The real `cattail` binary (bin/cattail.js, as an operator runs it) against a real etcd: what
 * apply writes, get reads back as the input plus defaults plus the metadata the datastore adds;
 * an invalid file writes nothing; delete removes; an unreachable etcd fails fast, in one line.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkResource, type Resource } from '@cattail/api';
import { parse } from 'yaml';
import { runCattail, type CattailResult } from './cattail-process.js';
import { cliEtcdFixture } from './etcd-fixture.js';

const fx = cliEtcdFixture();

/** Runs the binary with ETCD_ENDPOINTS pointing at our etcd (unless the args override it). */
function cattail(args: string[], stdin = ''): Promise<CattailResult> {
  return runCattail(args, { cwd: fx.dir, env: fx.env() }, stdin);
}

async function file(name: string, text: string): Promise<string> {
  await writeFile(join(fx.dir, name), text);
  return name;
}

const POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: it-pool
  labels:
    team: net
spec:
  cidr: 10.60.0.0/16
  ipipMode: Never
  natOutgoing: true
`;

const POLICY = `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: it-web
  namespace: shop
spec:
  selector: app == 'web'
  types:
    - Ingress
  ingress:
    - action: Allow
      protocol: TCP
      destination:
        ports: [80]
`;

/** The stored object minus what the datastore adds, after checking those are there. */
function withoutServerMetadata(res: Resource): Resource {
  const { resourceVersion, uid, creationTimestamp, ...meta } = res.metadata;
  assert.match(String(resourceVersion), /^\d+$/, 'resourceVersion is set');
  assert.ok(typeof uid === 'string' && uid.length > 0, 'uid is set');
  assert.ok(typeof creationTimestamp === 'string' && !Number.isNaN(Date.parse(creationTimestamp)), 'creationTimestamp is set');
  return { ...res, metadata: meta };
}

function expected(yamlText: string): Resource {
  const checked = checkResource(parse(yamlText));
  assert.ok(checked.ok, 'the test input itself is valid');
  return checked.resource;
}

test('apply then get -o yaml returns the input plus defaults plus server metadata', async () => {
  await file('pool.yaml', POOL);
  await file('policy.yaml', POLICY);
  const applied = await cattail(['apply', '-f', 'pool.yaml']);
  assert.equal(applied.stderr, '');
  assert.equal(applied.stdout, "Successfully applied 1 'IPPool' resource(s)\n");
  assert.equal(applied.code, 0);

  const got = await cattail(['get', 'ippool', 'it-pool', '-o', 'yaml']);
  assert.equal(got.code, 0, got.stderr);
  const stored = parse(got.stdout) as Resource;
  assert.deepEqual(withoutServerMetadata(stored), expected(POOL));

  const fromStdin = await cattail(['apply', '-f', '-'], POLICY);
  assert.equal(fromStdin.stdout, "Successfully applied 1 'NetworkPolicy' resource(s)\n", fromStdin.stderr);
  const policy = await cattail(['get', 'networkpolicy', 'it-web', '-n', 'shop', '-o', 'json']);
  assert.equal(policy.code, 0, policy.stderr);
  assert.deepEqual(withoutServerMetadata(JSON.parse(policy.stdout) as Resource), expected(POLICY));

  // Applying again updates in place: same uid and creation time, a newer resourceVersion.
  const again = await cattail(['apply', '-f', 'pool.yaml']);
  assert.equal(again.code, 0, again.stderr);
  const updated = parse((await cattail(['get', 'ippool', 'it-pool', '-o', 'yaml'])).stdout) as Resource;
  assert.equal(updated.metadata.uid, stored.metadata.uid);
  assert.equal(updated.metadata.creationTimestamp, stored.metadata.creationTimestamp);
  assert.ok(Number(updated.metadata.resourceVersion) > Number(stored.metadata.resourceVersion));

  const table = await cattail(['get', 'ippools']);
  assert.match(table.stdout, /^NAME +CIDR +SELECTOR +\n(.*\n)*it-pool +10\.60\.0\.0\/16 +/);
});

test('a file with one invalid document writes nothing', async () => {
  const invalid = POOL.replace('it-pool', 'it-bad').replace(
    'apiVersion: projectcalico.org/v3\nkind: IPPool',
    'apiVersion: projectcalico.org/v3\nkind: IPPoool',
  );
  const good = POOL.replace('it-pool', 'it-good').replace('10.60.0.0/16', '10.61.0.0/16');
  await file('mixed.yaml', `${good}---\n${invalid}`);
  const r = await cattail(['apply', '-f', 'mixed.yaml']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^mixed\.yaml: document 2: /);

  const list = JSON.parse((await cattail(['get', 'ippools', '-o', 'json'])).stdout) as { items: Resource[] };
  assert.deepEqual(
    list.items.filter((i) => i.metadata.name.startsWith('it-good') || i.metadata.name.startsWith('it-bad')),
    [],
  );
  const one = await cattail(['get', 'ippool', 'it-good']);
  assert.equal(one.code, 1);
  assert.equal(one.stderr, 'resource does not exist: IPPool(it-good) with error: <nil>\n');
});

test('a List file applies every item; a typed list may leave out kind and apiVersion; a v3 List writes nothing', async () => {
  const k8sList = `apiVersion: v1
kind: List
items:
  - apiVersion: projectcalico.org/v3
    kind: IPPool
    metadata: {name: it-list-pool}
    spec: {cidr: 10.63.0.0/16}
  - apiVersion: projectcalico.org/v3
    kind: GlobalNetworkSet
    metadata: {name: it-list-set}
    spec: {nets: [192.0.2.0/24]}
`;
  const typed = `apiVersion: projectcalico.org/v3
kind: IPPoolList
items:
  - metadata: {name: it-typed-a}
    spec: {cidr: 10.64.0.0/16}
  - metadata: {name: it-typed-b}
    spec: {cidr: 10.65.0.0/16}
`;
  const mixed = await cattail(['apply', '-f', await file('list.yaml', k8sList)]);
  assert.equal(mixed.stdout, 'Successfully applied 2 resource(s)\n', mixed.stderr);
  const typedRun = await cattail(['create', '-f', await file('typed.yaml', typed)]);
  assert.equal(typedRun.stdout, "Successfully created 2 'IPPool' resource(s)\n", typedRun.stderr);
  const pools = JSON.parse((await cattail(['get', 'ippools', '-o', 'json'])).stdout) as { items: Resource[] };
  assert.deepEqual(
    pools.items.map((i) => i.metadata.name).filter((n) => n.startsWith('it-list') || n.startsWith('it-typed')),
    ['it-list-pool', 'it-typed-a', 'it-typed-b'],
  );
  assert.equal((await cattail(['get', 'globalnetworkset', 'it-list-set'])).code, 0);

  const v3List = k8sList.replace('apiVersion: v1', 'apiVersion: projectcalico.org/v3').replace(/it-list-/g, 'it-v3list-');
  const refused = await cattail(['apply', '-f', await file('v3list.yaml', v3List)]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^v3list\.yaml: document 1: List: Unknown resource type \(List\) and\/or version \(projectcalico\.org\/v3\)/);
  assert.equal((await cattail(['get', 'ippool', 'it-v3list-pool'])).code, 1);
});

test('delete removes the resource', async () => {
  await file('del.yaml', POOL.replace('it-pool', 'it-del').replace('10.60.0.0/16', '10.62.0.0/16'));
  assert.equal((await cattail(['create', '-f', 'del.yaml'])).code, 0);
  const again = await cattail(['create', '-f', 'del.yaml']);
  assert.equal(again.code, 1);
  assert.equal(again.stderr, "Failed to create 'IPPool' resource: [resource already exists: IPPool(it-del)]\n");

  const del = await cattail(['delete', 'ippool', 'it-del']);
  assert.equal(del.stdout, "Successfully deleted 1 'IPPool' resource(s)\n", del.stderr);
  assert.equal(del.code, 0);
  const gone = await cattail(['get', 'ippool', 'it-del']);
  assert.equal(gone.code, 1);
  assert.equal(gone.stderr, 'resource does not exist: IPPool(it-del) with error: <nil>\n');
  const twice = await cattail(['delete', 'ippool', 'it-del']);
  assert.equal(twice.code, 1);
  assert.equal(twice.stderr, "Failed to delete 'IPPool' resource: resource does not exist: IPPool(it-del) with error: <nil>\n");
});

test('an etcd that is not there fails in one line naming the endpoint, within seconds', async () => {
  const port = await closedPort();
  const endpoint = `http://127.0.0.1:${port}`;
  const r = await cattail(['get', 'ippools', '--etcd-endpoints', endpoint]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0].startsWith(`cannot reach etcd at ${endpoint}: `), r.stderr);
  assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
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

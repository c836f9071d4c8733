import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliHarness, IPPOOL_A, IPPOOL_B, NP_WEB } from './cli-harness.js';

test('apply creates every resource of a multi-document file and says so like calicoctl', async (t) => {
  const h = await CliHarness.create(t);
  await h.file('pools.yaml', `${IPPOOL_A}---\n${IPPOOL_B}`);
  const r = await h.run(['apply', '-f', 'pools.yaml']);
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, "Successfully applied 2 'IPPool' resource(s)\n");
  assert.equal(r.code, 0);
  assert.deepEqual(
    h.ds.writes.map((w) => `${w.op} ${w.ref.name}`),
    ['create pool-a', 'create pool-b'],
  );
  assert.equal((h.ds.peek({ kind: 'IPPool', name: 'pool-b' })?.spec as { cidr: string }).cidr, '10.2.0.0/16');
});

test('apply of an existing resource replaces it, keeping uid and creationTimestamp and taking the file labels', async (t) => {
  const h = await CliHarness.create(t);
  const before = h.ds.seed({
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: 'pool-a', uid: 'uid-original', creationTimestamp: '2023-01-01T00:00:00Z', labels: { old: 'x' } },
    spec: { cidr: '10.9.0.0/16' },
  });
  const changed = IPPOOL_A.replace('  name: pool-a\n', '  name: pool-a\n  labels:\n    team: net\n');
  const r = await h.run(['apply', '-f', '-'], { stdin: changed });
  assert.equal(r.stdout, "Successfully applied 1 'IPPool' resource(s)\n");
  assert.equal(r.code, 0);
  const after = h.ds.peek({ kind: 'IPPool', name: 'pool-a' })!;
  assert.equal(after.metadata.uid, 'uid-original');
  assert.equal(after.metadata.creationTimestamp, '2023-01-01T00:00:00Z');
  assert.deepEqual(after.metadata.labels, { team: 'net' });
  assert.notEqual(after.metadata.resourceVersion, before.metadata.resourceVersion);
  assert.equal((after.spec as { cidr: string }).cidr, '10.1.0.0/16');
  assert.deepEqual(
    h.ds.writes.map((w) => w.op),
    ['update'],
  );
});

test('create refuses a resource that exists, in calicoctl words, and writes nothing', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-a' }, spec: { cidr: '10.1.0.0/16' } });
  const r = await h.run(['create', '-f', '-'], { stdin: IPPOOL_A });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, "Failed to create 'IPPool' resource: [resource already exists: IPPool(pool-a)]\n");
  assert.equal(h.ds.writes.length, 0);
});

test('create --skip-exists counts an existing resource as created', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-a' }, spec: { cidr: '10.1.0.0/16' } });
  const r = await h.run(['create', '--skip-exists', '-f', '-'], { stdin: `${IPPOOL_A}---\n${IPPOOL_B}` });
  assert.equal(r.stdout, "Successfully created 2 'IPPool' resource(s)\n");
  assert.equal(r.code, 0);
  assert.deepEqual(
    h.ds.writes.map((w) => `${w.op} ${w.ref.name}`),
    ['create pool-b'],
  );
});

test('create carries on after a failed resource and reports partial success', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-a' }, spec: { cidr: '10.1.0.0/16' } });
  const r = await h.run(['create', '-f', '-'], { stdin: `${IPPOOL_A}---\n${IPPOOL_B}` });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "Partial success: created the first 1 out of 2 'IPPool' resources:\n");
  assert.equal(r.stderr, 'Hit error: [resource already exists: IPPool(pool-a)]\n');
  assert.deepEqual(
    h.ds.writes.map((w) => w.ref.name),
    ['pool-b'],
  );
});

test('create refuses a resourceVersion in the file, as libcalico-go does', async (t) => {
  const h = await CliHarness.create(t);
  const withRv = IPPOOL_A.replace('  name: pool-a\n', "  name: pool-a\n  resourceVersion: '12'\n");
  const r = await h.run(['create', '-f', '-'], { stdin: withRv });
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    "Failed to create 'IPPool' resource: [error with field Metadata.ResourceVersion = '12' (field must not be set for a Create request)]\n",
  );
  assert.equal(h.ds.size - CliHarness.INITIALIZED_SIZE, 0);
});

test("replace of a missing resource fails with calicoctl's not-found message", async (t) => {
  const h = await CliHarness.create(t);
  const r = await h.run(['replace', '-f', '-'], { stdin: IPPOOL_A });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "Failed to replace 'IPPool' resource: resource does not exist: IPPool(pool-a) with error: <nil>\n");
  assert.equal(h.ds.writes.length, 0);
});

test('replace stops at the first failure', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-a' }, spec: { cidr: '10.1.0.0/16' } });
  const c = IPPOOL_B.replace('pool-b', 'pool-c');
  const r = await h.run(['replace', '-f', '-'], { stdin: `${IPPOOL_A}---\n${IPPOOL_B}---\n${c}` });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, "Partial success: replaced the first 1 out of 3 'IPPool' resources:\n");
  assert.equal(r.stderr, 'Hit error: resource does not exist: IPPool(pool-b) with error: <nil>\n');
  assert.deepEqual(
    h.ds.writes.map((w) => `${w.op} ${w.ref.name}`),
    ['update pool-a'],
  );
});

test('replace with a stale resourceVersion is an update conflict', async (t) => {
  const h = await CliHarness.create(t);
  const stored = h.ds.seed({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-a' }, spec: { cidr: '10.1.0.0/16' } });
  const stale = String(Number(stored.metadata.resourceVersion) - 1);
  const withRv = IPPOOL_A.replace('  name: pool-a\n', `  name: pool-a\n  resourceVersion: '${stale}'\n`);
  const r = await h.run(['replace', '-f', '-'], { stdin: withRv });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, "Failed to replace 'IPPool' resource: update conflict: IPPool(pool-a)\n");

  const current = IPPOOL_A.replace('  name: pool-a\n', `  name: pool-a\n  resourceVersion: '${stored.metadata.resourceVersion}'\n`);
  const ok = await h.run(['replace', '-f', '-'], { stdin: current });
  assert.equal(ok.stdout, "Successfully replaced 1 'IPPool' resource(s)\n");
  assert.equal(ok.code, 0);
});

test('an invalid document anywhere means nothing is written and every problem is printed', async (t) => {
  const h = await CliHarness.create(t);
  const badApi = IPPOOL_B.replace('projectcalico.org/v3', 'projectcalico.org/v2');
  const badKind = IPPOOL_B.replace('kind: IPPool', 'kind: IPPoool').replace('pool-b', 'pool-c');
  const badYaml = 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: [unclosed\n';
  await h.file('bad.yaml', `${IPPOOL_A}---\n${badApi}---\n${badKind}---\n${badYaml}`);

  const r = await h.run(['apply', '-f', 'bad.yaml']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(h.connects, 0, 'an invalid file must not even connect to the datastore');
  assert.equal(h.ds.writes.length, 0);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0], /^bad\.yaml: document 2: .*apiVersion: /);
  assert.match(lines[1], /^bad\.yaml: document 3: .*kind/);
  assert.match(lines[2], /^bad\.yaml: document 4: line \d+, column \d+: \S/);
  assert.match(lines.at(-1)!, /nothing was written/);
  assert.ok(!r.stderr.includes('document 1:'), 'the good document is not reported');
});

test('YAML syntax errors give the line and column within the file', async (t) => {
  const h = await CliHarness.create(t);
  await h.file('dup.yaml', 'apiVersion: projectcalico.org/v3\nkind: IPPool\nkind: IPPool\n');
  const r = await h.run(['create', '-f', 'dup.yaml']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^dup\.yaml: document 1: line 3, column 1: Map keys must be unique\n/);
});

test('a <Kind>List is expanded into its items, which may leave out kind and apiVersion', async (t) => {
  const h = await CliHarness.create(t);
  const list = `apiVersion: projectcalico.org/v3
kind: IPPoolList
items:
  - metadata: {name: pool-x}
    spec: {cidr: 10.5.0.0/16}
  - apiVersion: projectcalico.org/v3
    kind: IPPool
    metadata: {name: pool-y}
    spec: {cidr: 10.6.0.0/16}
`;
  const r = await h.run(['apply', '-f', '-'], { stdin: list });
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, "Successfully applied 2 'IPPool' resource(s)\n");
  assert.equal(h.ds.peek({ kind: 'IPPool', name: 'pool-x' })?.kind, 'IPPool');
});

test('kind: List and a top-level JSON array expand too, and mixed kinds are counted without a kind', async (t) => {
  const h = await CliHarness.create(t);
  const list = `apiVersion: v1
kind: List
items:
  - apiVersion: projectcalico.org/v3
    kind: IPPool
    metadata: {name: pool-a}
    spec: {cidr: 10.1.0.0/16}
  - apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: {name: allow-web}
    spec: {selector: "app == 'web'", order: 100}
`;
  const r1 = await h.run(['apply', '-f', '-'], { stdin: list });
  assert.equal(r1.stderr, '');
  assert.equal(r1.stdout, 'Successfully applied 2 resource(s)\n');

  const json = JSON.stringify([
    { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'j1' }, spec: { cidr: '10.7.0.0/16' } },
    { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'j2' }, spec: { cidr: '10.8.0.0/16' } },
  ]);
  const r2 = await h.run(['create', '-f', '-'], { stdin: json });
  assert.equal(r2.stdout, "Successfully created 2 'IPPool' resource(s)\n");
  assert.equal(h.ds.size - CliHarness.INITIALIZED_SIZE, 4);
});

test('an invalid List item is reported with its item number', async (t) => {
  const h = await CliHarness.create(t);
  const list = `kind: List\napiVersion: v1\nitems:\n  - apiVersion: projectcalico.org/v3\n    kind: Nope\n    metadata: {name: n1}\n`;
  const r = await h.run(['apply', '-f', '-'], { stdin: list });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^<stdin>: document 1, item 1: .*kind/);
  assert.equal(h.ds.size - CliHarness.INITIALIZED_SIZE, 0);
});

test('namespaced resources get -n, else "default"; a conflicting namespace writes nothing', async (t) => {
  const h = await CliHarness.create(t);
  assert.equal((await h.run(['apply', '-f', '-'], { stdin: NP_WEB })).code, 0);
  assert.ok(h.ds.peek({ kind: 'NetworkPolicy', name: 'web', namespace: 'default' }));

  assert.equal((await h.run(['apply', '-n', 'dev', '-f', '-'], { stdin: NP_WEB })).code, 0);
  assert.ok(h.ds.peek({ kind: 'NetworkPolicy', name: 'web', namespace: 'dev' }));

  const inProd = NP_WEB.replace('  name: web\n', '  name: web\n  namespace: prod\n');
  const r = await h.run(['apply', '-n', 'dev', '-f', '-'], { stdin: inProd });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /metadata\.namespace: resource namespace does not match client namespace\. prod != dev/);
  assert.equal(h.ds.peek({ kind: 'NetworkPolicy', name: 'web', namespace: 'prod' }), undefined);
});

test('a cluster-scoped resource refuses a namespace', async (t) => {
  const h = await CliHarness.create(t);
  const r = await h.run(['apply', '-n', 'dev', '-f', '-'], { stdin: IPPOOL_A });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^<stdin>: document 1: IPPool\(pool-a\): IPPool is not namespaced\n/);
  assert.equal(h.ds.size - CliHarness.INITIALIZED_SIZE, 0);
});

test('ClusterInformation is read-only to apply, as in calicoctl', async (t) => {
  const h = await CliHarness.create(t);
  const ci = `apiVersion: projectcalico.org/v3\nkind: ClusterInformation\nmetadata: {name: default}\nspec: {clusterType: k8s}\n`;
  const r = await h.run(['apply', '-f', '-'], { stdin: `${IPPOOL_A}---\n${ci}` });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'Partial success: applied the first 1 out of 2 resources:\n');
  assert.equal(r.stderr, 'Hit error(s): [operation apply is not supported on ClusterInformation: resource is readonly]\n');
});

test('-f names a directory: its manifests are read in name order', async (t) => {
  const h = await CliHarness.create(t);
  await h.file('manifests/b.yaml', IPPOOL_B);
  await h.file(
    'manifests/a.json',
    JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-a' }, spec: { cidr: '10.1.0.0/16' } }),
  );
  await h.file('manifests/notes.txt', 'not a manifest');
  const r = await h.run(['apply', '-f', 'manifests']);
  assert.equal(r.stdout, "Successfully applied 2 'IPPool' resource(s)\n");
  assert.deepEqual(
    h.ds.writes.map((w) => w.ref.name),
    ['pool-a', 'pool-b'],
  );
});

test("missing and empty files fail with calicoctl's messages", async (t) => {
  const h = await CliHarness.create(t);
  const missing = await h.run(['apply', '-f', 'nope.yaml']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'Failed to execute command: open nope.yaml: no such file or directory\n');

  await h.file('empty.yaml', '# nothing here\n---\n');
  const empty = await h.run(['apply', '-f', 'empty.yaml']);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /^No resources specified in file empty\.yaml\n/);
});

test('apply without -f is a usage error', async (t) => {
  const h = await CliHarness.create(t);
  const r = await h.run(['apply']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^--filename is required\n\nUsage:\n {2}cattail apply --filename=<FILENAME>/);
});

test('input over a limit is one problem naming the file, the document, the limit and the value; nothing is written', async (t) => {
  const h = await CliHarness.create(t);
  const labels = Array.from({ length: 10_001 }, (_, i) => `    k${i}: v\n`).join('');
  await h.file('labels.yaml', `${IPPOOL_A}---\n${IPPOOL_B.replace('  name: pool-b\n', `  name: pool-b\n  labels:\n${labels}`)}`);
  const r = await h.run(['apply', '-f', 'labels.yaml']);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    'labels.yaml: document 2: line 10015, column 5: a mapping with more than 10000 keys, over the limit per mapping\n' +
      'Failed to apply resources: 1 problem(s) in the input; nothing was written\n',
  );
  assert.equal(h.connects, 0, 'the datastore is not even opened');

  const big = await h.run(['apply', '-f', '-'], { stdin: `${IPPOOL_A}#${'x'.repeat(3 * 1024 * 1024)}\n` });
  assert.equal(big.code, 1);
  assert.match(
    big.stderr,
    /^<stdin>: more than 3145728 bytes, over the limit of 3 MiB \(3145728 bytes\) for one file or stdin; split it into several files in a directory\nFailed to apply resources: 1 problem\(s\) in the input; nothing was written\n$/,
  );

  const nets = Array.from({ length: 70_000 }, (_, i) => `    - 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}/32\n`).join('');
  const stored = await h.run(['create', '-f', '-'], {
    stdin: `${IPPOOL_A}---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: big\nspec:\n  nets:\n${nets}`,
  });
  assert.equal(stored.code, 1);
  assert.match(
    stored.stderr,
    /^<stdin>: document 2: GlobalNetworkSet\(big\): \d+ bytes as stored, over the limit of 1 MiB \(1048576 bytes\) for one resource\n/,
  );
  assert.equal(h.ds.writes.length, 0);
  assert.equal(h.connects, 0);
});

test('SIGTERM during the writes finishes the resource in flight, starts no other, and reports each resource', async (t) => {
  const h = await CliHarness.create(t);
  const controller = new AbortController();
  h.ds.beforeCall = (op, ref) => {
    // The signal arrives while pool-b's create is on its way: it must still be written.
    if (op === 'create' && ref?.name === 'pool-b') controller.abort('SIGTERM');
  };
  const c = IPPOOL_B.replace('pool-b', 'pool-c').replace('10.2.0.0/16', '10.3.0.0/16');
  const r = await h.run(['apply', '-f', '-'], { stdin: `${IPPOOL_A}---\n${IPPOOL_B}---\n${c}`, signal: controller.signal });
  assert.equal(r.code, 143);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    [
      '<stdin>: document 1: IPPool(pool-a): applied',
      '<stdin>: document 2: IPPool(pool-b): applied',
      '<stdin>: document 3: IPPool(pool-c): not applied (interrupted)',
      'interrupted by SIGTERM: 2 of 3 resource(s) applied, 1 not applied',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    h.ds.writes.map((w) => `${w.op} ${w.ref.name}`),
    ['create pool-a', 'create pool-b'],
  );
});

test('SIGINT while apply reads a resource to replace it: nothing of that resource is written', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed({ apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'pool-b' }, spec: { cidr: '10.2.0.0/16' } });
  const controller = new AbortController();
  h.ds.beforeCall = (op, ref) => {
    if (op === 'get' && ref?.name === 'pool-b') {
      controller.abort('SIGINT');
      return new Promise(() => undefined); // a read that would never answer: the signal cuts it short
    }
    return undefined;
  };
  const create = await h.run(['create', '-f', '-'], { stdin: `${IPPOOL_A}---\n${IPPOOL_B}` });
  assert.equal(create.code, 1, 'pool-b exists; create fails on it and writes pool-a');
  h.ds.writes.length = 0;
  const r = await h.run(['apply', '-f', '-'], { stdin: `${IPPOOL_A}---\n${IPPOOL_B}`, signal: controller.signal });
  assert.equal(r.code, 130);
  assert.deepEqual(r.stderr.trimEnd().split('\n'), [
    '<stdin>: document 1: IPPool(pool-a): applied',
    '<stdin>: document 2: IPPool(pool-b): not applied (interrupted)',
    'interrupted by SIGINT: 1 of 2 resource(s) applied, 1 not applied',
  ]);
  assert.deepEqual(
    h.ds.writes.map((w) => `${w.op} ${w.ref.name}`),
    ['update pool-a'],
  );
});

test('a signal while the input is parsed stops the command with nothing written', async (t) => {
  const h = await CliHarness.create(t);
  // Thousands of documents: seconds of parsing, so the signal lands in the middle of it.
  const docs = Array.from({ length: 5000 }, (_, i) => IPPOOL_A.replace('pool-a', `p${i}`)).join('---\n');
  const controller = new AbortController();
  setImmediate(() => controller.abort('SIGTERM')); // runs at the loader's first pause
  const r = await h.run(['apply', '-f', '-'], { stdin: docs, signal: controller.signal });
  assert.equal(r.code, 143);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'interrupted by SIGTERM: nothing was written\n');
  assert.equal(h.connects, 0);
  assert.equal(h.ds.writes.length, 0);
});

test('apply, get and delete work for the kinds added for Calico parity, by calicoctl name', async (t) => {
  const h = await CliHarness.create(t);
  const docs = [
    ['KubeControllersConfiguration', 'default', '', 'spec:\n  controllers:\n    node:\n      reconcilerPeriod: 5m\n'],
    ['BGPFilter', 'export-only', '', 'spec:\n  exportV4:\n    - action: Accept\n      cidr: 10.0.0.0/8\n      matchOperator: In\n'],
    ['CalicoNodeStatus', 'node-1', '', 'spec:\n  node: node-1\n  classes: [Agent, BGP]\n  updatePeriodSeconds: 10\n'],
    ['StagedNetworkPolicy', 'allow-web', 'prod', "spec:\n  selector: app == 'web'\n  ingress:\n    - action: Allow\n"],
    ['StagedGlobalNetworkPolicy', 'deny-all', '', 'spec:\n  stagedAction: Delete\n'],
    ['StagedKubernetesNetworkPolicy', 'db', 'prod', 'spec:\n  podSelector:\n    matchLabels:\n      role: db\n'],
  ] as const;
  const yaml = docs
    .map(([kind, name, ns, spec]) => `apiVersion: projectcalico.org/v3\nkind: ${kind}\nmetadata:\n  name: ${name}\n${ns ? `  namespace: ${ns}\n` : ''}${spec}`)
    .join('---\n');
  const r = await h.run(['apply', '-f', '-'], { stdin: yaml });
  assert.equal(r.stderr, '');
  assert.equal(r.code, 0);
  const kcc = h.ds.peek({ kind: 'KubeControllersConfiguration', name: 'default' })!;
  assert.deepEqual(kcc.spec, {
    controllers: { node: { reconcilerPeriod: '5m0s', leakGracePeriod: '15m0s' } },
    prometheusMetricsPort: 9094,
    healthChecks: 'Enabled',
  });
  assert.equal(h.ds.peek({ kind: 'StagedNetworkPolicy', name: 'allow-web', namespace: 'prod' })?.metadata.labels?.['projectcalico.org/tier'], 'default');
  for (const [alias, name] of [
    ['kcc', 'default'],
    ['bgpf', 'export-only'],
    ['nodestatus', 'node-1'],
    ['sgnp', 'deny-all'],
  ]) {
    const got = await h.run(['get', alias === 'kcc' ? 'kubecontrollersconfig' : alias, name]);
    assert.equal(got.code, 0, `${alias}: ${got.stderr}`);
    assert.match(got.stdout, new RegExp(name));
  }
  const snp = await h.run(['get', 'snp', '-n', 'prod', '-o', 'yaml']);
  assert.equal(snp.code, 0, snp.stderr);
  assert.match(snp.stdout, /kind: StagedNetworkPolicy/);
  const del = await h.run(['delete', 'sknp', 'db', '-n', 'prod']);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(h.ds.peek({ kind: 'StagedKubernetesNetworkPolicy', name: 'db', namespace: 'prod' }), undefined);
});

test('the first write initializes the datastore as calicoctl does: ClusterInformation and the built-in tiers, only if absent', async (t) => {
  const h = await CliHarness.create(t, { initialized: false });
  h.ds.seed({ apiVersion: 'projectcalico.org/v3', kind: 'Tier', metadata: { name: 'default', labels: { mine: 'yes' } }, spec: { order: 1_000_000 } });
  const r = await h.run(['apply', '-f', '-'], { stdin: IPPOOL_A });
  assert.equal(r.stdout, "Successfully applied 1 'IPPool' resource(s)\n", r.stderr);
  assert.deepEqual(
    h.ds.writes.map((w) => `${w.op} ${w.ref.kind}(${w.ref.name})`),
    ['create ClusterInformation(default)', 'create Tier(kube-admin)', 'create Tier(kube-baseline)', 'create IPPool(pool-a)'],
  );
  const ci = h.ds.peek({ kind: 'ClusterInformation', name: 'default' })!;
  assert.match((ci.spec as { clusterGUID: string }).clusterGUID, /^[0-9a-f]{32}$/);
  assert.equal((ci.spec as { datastoreReady: boolean }).datastoreReady, true);
  assert.deepEqual(h.ds.peek({ kind: 'Tier', name: 'default' })?.metadata.labels, { mine: 'yes' }, 'an existing tier is not touched');

  // Initialized now: the next write writes only what it was given.
  const again = await h.run(['create', '-f', '-'], { stdin: IPPOOL_A.replace('pool-a', 'pool-z').replace('10.1.0.0/16', '10.26.0.0/16') });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(h.ds.writes.length, 5);

  // version reads the cluster's ClusterInformation, which calicoctl's write leaves without a version or type.
  const v = await h.run(['version']);
  assert.match(v.stdout, /\nCluster Version: {3}unknown\nCluster Type: {6}unknown\n$/);
});

test('a datastore that refuses the initialization does not stop the write, as in calicoctl', async (t) => {
  const h = await CliHarness.create(t, { initialized: false });
  h.ds.beforeCall = (op, ref) => {
    if (op === 'create' && (ref?.kind === 'ClusterInformation' || ref?.kind === 'Tier')) throw new Error('permission denied');
  };
  const r = await h.run(['apply', '-f', '-'], { stdin: IPPOOL_A });
  assert.equal(r.stdout, "Successfully applied 1 'IPPool' resource(s)\n", r.stderr);
  assert.deepEqual(
    h.ds.writes.map((w) => w.ref.kind),
    ['IPPool'],
  );
});

const FILTER = (name: string): string =>
  `apiVersion: projectcalico.org/v3\nkind: BGPFilter\nmetadata:\n  name: ${name}\nspec:\n  exportV4:\n    - action: Accept\n      cidr: 10.0.0.0/8\n      matchOperator: In\n`;
const PEER = (name: string, filters: string[]): string =>
  `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: ${name}\nspec:\n  peerIP: 192.0.2.1\n  asNumber: 64513\n  filters: [${filters.join(', ')}]\n`;

test('a BGPPeer naming a BGPFilter that does not exist is refused, naming the filter; nothing is written', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed({ apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name: 'stored' }, spec: {} });
  const r = await h.run(['apply', '-f', '-'], { stdin: `${IPPOOL_A}---\n${PEER('peer-1', ['stored', 'typo'])}` });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    '<stdin>: document 2: BGPPeer(peer-1): spec.filters[1]: BGPFilter "typo" does not exist; create it first, or in the same input\n' +
      'Failed to apply resources: 1 problem(s) in the input; nothing was written\n',
  );
  assert.deepEqual(h.ds.writes, []);
});

test('a BGPPeer may name a BGPFilter stored already or defined in the same input, before or after it', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed({ apiVersion: 'projectcalico.org/v3', kind: 'BGPFilter', metadata: { name: 'stored' }, spec: {} });
  const r = await h.run(['create', '-f', '-'], { stdin: `${PEER('peer-1', ['stored', 'fresh'])}---\n${FILTER('fresh')}` });
  assert.equal(r.stdout, 'Successfully created 2 resource(s)\n', r.stderr);
  assert.deepEqual(h.ds.peek({ kind: 'BGPPeer', name: 'peer-1' })?.spec?.filters, ['stored', 'fresh']);
});

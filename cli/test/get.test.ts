import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '@cattail/api';
import { parse } from 'yaml';
import { CliHarness } from './cli-harness.js';

const V3 = 'projectcalico.org/v3';

function pool(name: string, cidr: string, extra: Record<string, unknown> = {}): Resource {
  return {
    apiVersion: V3,
    kind: 'IPPool',
    metadata: { name },
    spec: { cidr, blockSize: 26, ipipMode: 'Never', vxlanMode: 'Never', natOutgoing: true, nodeSelector: 'all()', ...extra },
  };
}

function policy(namespace: string, name: string): Resource {
  return {
    apiVersion: V3,
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec: { tier: 'default', order: 10, selector: "app == 'web'" },
  };
}

test("get KIND prints calicoctl's ps table, padded like Go's tabwriter, then a blank line", async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(pool('pool-a', '10.1.0.0/16'));
  h.ds.seed(pool('pool-bb', '192.168.0.0/24', { nodeSelector: "zone == 'a'" }));
  const r = await h.run(['get', 'ippools']);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  assert.equal(
    r.stdout,
    'NAME      CIDR             SELECTOR      \n' + 'pool-a    10.1.0.0/16      all()         \n' + "pool-bb   192.168.0.0/24   zone == 'a'   \n" + '\n',
  );
});

test("-o wide adds calicoctl's wide columns, with Never for unset encapsulation", async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed({ apiVersion: V3, kind: 'IPPool', metadata: { name: 'p' }, spec: { cidr: '10.0.0.0/8', nodeSelector: 'all()' } });
  const r = await h.run(['get', 'ippool', '-o', 'wide']);
  assert.equal(r.code, 0);
  const [head, row] = r.stdout.split('\n').map((l) => l.trim().split(/\s+/));
  assert.deepEqual(head, ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR']);
  assert.deepEqual(row, ['p', '10.0.0.0/8', 'false', 'Never', 'Never', 'false', 'false', 'all()']);
});

test('an empty kind prints just the headings', async (t) => {
  const h = await CliHarness.create(t);
  const r = await h.run(['get', 'gnp']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'NAME   \n\n');
});

test('get KIND NAME -o yaml prints the object itself, keys sorted, round-trippable', async (t) => {
  const h = await CliHarness.create(t);
  const base = pool('pool-a', '10.1.0.0/16');
  const stored = h.ds.seed({ ...base, metadata: { ...base.metadata, labels: { canary: 'yes', tier: 'on' } } });
  const r = await h.run(['get', 'ippool', 'pool-a', '-o', 'yaml']);
  assert.equal(r.code, 0);
  assert.deepEqual(parse(r.stdout), JSON.parse(JSON.stringify(stored)));
  assert.match(r.stdout, /^apiVersion: projectcalico\.org\/v3\nkind: IPPool\nmetadata:\n {2}creationTimestamp: "2024-05-01T10:00:00Z"\n {2}labels:\n/);
  assert.match(r.stdout, /\n {2}resourceVersion: "\d+"\n/, 'a numeric-looking string stays a string');
  assert.match(r.stdout, /\n {4}canary: "yes"\n {4}tier: "on"\n/, 'YAML 1.1 booleans stay strings for go-yaml readers');
});

test('get KIND -o yaml prints a <Kind>List with the list revision', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(pool('pool-a', '10.1.0.0/16'));
  h.ds.seed(pool('pool-b', '10.2.0.0/16'));
  const r = await h.run(['get', 'pools', '-o', 'yaml']);
  assert.equal(r.code, 0);
  const doc = parse(r.stdout) as { apiVersion: string; kind: string; items: Resource[]; metadata: unknown };
  assert.deepEqual(Object.keys(doc), ['apiVersion', 'items', 'kind', 'metadata']);
  assert.equal(doc.apiVersion, V3);
  assert.equal(doc.kind, 'IPPoolList');
  assert.deepEqual(doc.metadata, { resourceVersion: String(h.ds.revision) });
  assert.deepEqual(
    doc.items.map((i) => i.metadata.name),
    ['pool-a', 'pool-b'],
  );
  assert.match(r.stdout, /\nitems:\n- apiVersion: projectcalico\.org\/v3\n {2}kind: IPPool\n/, 'sequences are not indented, like go-yaml');
});

test("-o json keeps Go's field order: kind, apiVersion, metadata, spec; a list is kind, apiVersion, metadata, items", async (t) => {
  const h = await CliHarness.create(t);
  const stored = h.ds.seed(pool('pool-a', '10.1.0.0/16'));
  const one = await h.run(['get', 'ippool', 'pool-a', '-o', 'json']);
  assert.equal(one.code, 0);
  const obj = JSON.parse(one.stdout) as Resource;
  assert.deepEqual(obj, JSON.parse(JSON.stringify(stored)));
  assert.deepEqual(Object.keys(obj), ['kind', 'apiVersion', 'metadata', 'spec']);
  assert.deepEqual(Object.keys(obj.metadata), ['name', 'uid', 'resourceVersion', 'creationTimestamp']);
  assert.ok(one.stdout.startsWith('{\n  "kind": "IPPool",\n  "apiVersion": "projectcalico.org/v3",\n'));

  const list = await h.run(['get', 'ippool', '-o', 'json']);
  const l = JSON.parse(list.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(l), ['kind', 'apiVersion', 'metadata', 'items']);
  assert.equal(l.kind, 'IPPoolList');
});

test('several names print an array of objects; a missing one is reported after, exit 1', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(pool('pool-a', '10.1.0.0/16'));
  h.ds.seed(pool('pool-b', '10.2.0.0/16'));
  const both = await h.run(['get', 'ippool', 'pool-a', 'pool-b', '-o', 'json']);
  assert.equal(both.code, 0);
  const arr = JSON.parse(both.stdout) as Resource[];
  assert.deepEqual(
    arr.map((r) => r.metadata.name),
    ['pool-a', 'pool-b'],
  );

  const partial = await h.run(['get', 'ippool', 'pool-a', 'nope']);
  assert.equal(partial.code, 1);
  assert.match(partial.stdout, /^NAME +CIDR +SELECTOR +\npool-a +10\.1\.0\.0\/16 +all\(\) +\n\n$/);
  assert.equal(partial.stderr, 'resource does not exist: IPPool(nope) with error: <nil>\n');
});

test("a name that does not exist gives calicoctl's message and exit 1", async (t) => {
  const h = await CliHarness.create(t);
  const r = await h.run(['get', 'ippool', 'nope', '-o', 'yaml']);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'resource does not exist: IPPool(nope) with error: <nil>\n');
});

test('namespaced kinds read "default" unless -n or -A; both flags add a NAMESPACE column', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(policy('default', 'web'));
  h.ds.seed(policy('dev', 'api'));
  h.ds.seed(policy('dev', 'db'));

  const def = await h.run(['get', 'networkpolicy']);
  assert.equal(def.stdout, 'NAME   TIER      \nweb    default   \n\n');

  const dev = await h.run(['get', 'policies', '-n', 'dev']);
  assert.equal(dev.stdout, 'NAMESPACE   NAME   TIER      \ndev         api    default   \ndev         db     default   \n\n');

  const all = await h.run(['get', 'np', '-A', '-o', 'yaml']);
  const list = parse(all.stdout) as { items: Resource[] };
  assert.deepEqual(
    list.items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`),
    ['default/web', 'dev/api', 'dev/db'],
  );

  const allTable = await h.run(['get', 'np', '--all-namespaces']);
  assert.match(allTable.stdout, /^NAMESPACE +NAME +TIER +\ndefault +web/);

  const one = await h.run(['get', 'networkpolicy', 'api', '-n', 'dev', '-o', 'json']);
  assert.equal((JSON.parse(one.stdout) as Resource).metadata.namespace, 'dev');
});

test("kind names are calicoctl's: any case, plural or short", async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(pool('pool-a', '10.1.0.0/16'));
  h.ds.seed({ apiVersion: V3, kind: 'GlobalNetworkPolicy', metadata: { name: 'g1' }, spec: { order: 5, selector: 'all()' } });
  h.ds.seed({
    apiVersion: V3,
    kind: 'WorkloadEndpoint',
    metadata: { name: 'node1-k8s-pod1-eth0', namespace: 'default' },
    spec: { node: 'node1', orchestrator: 'k8s', pod: 'pod1', endpoint: 'eth0', interfaceName: 'cali1234', ipNetworks: ['10.1.0.5/32'] },
  });
  for (const alias of ['ippool', 'ippools', 'IPPool', 'IPPOOLS', 'ipp', 'pool', 'pools']) {
    const r = await h.run(['get', alias, '-o', 'json']);
    assert.equal(r.code, 0, alias);
    assert.equal((JSON.parse(r.stdout) as { kind: string }).kind, 'IPPoolList', alias);
  }
  const gnp = await h.run(['get', 'gnp', '-o', 'wide']);
  assert.equal(gnp.stdout, 'NAME   ORDER   SELECTOR   \ng1     5       all()      \n\n');
  const wep = await h.run(['get', 'wep']);
  assert.equal(wep.stdout, 'WORKLOAD   NODE    NETWORKS      INTERFACE   \npod1       node1   10.1.0.5/32   cali1234    \n\n');
});

test('an unknown kind, or a namespace for a cluster-scoped kind, is refused as calicoctl does', async (t) => {
  const h = await CliHarness.create(t);
  const unknown = await h.run(['get', 'frobs']);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr, "Failed to get resources: resource type 'frobs' is not supported\n");

  const ns = await h.run(['get', 'ippool', '-n', 'dev']);
  assert.equal(ns.code, 1);
  assert.equal(ns.stderr, 'IPPool is not namespaced\n');

  const both = await h.run(['get', 'np', '-n', 'dev', '-A']);
  assert.equal(both.code, 1);
  assert.equal(both.stderr, 'cannot use both --namespace and --all-namespaces flags at the same time\n');

  const bad = await h.run(['get', 'ippool', '-o', 'xml']);
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, "unrecognized output format 'xml'\n");
  assert.equal(h.connects, 0, 'nothing above needed the datastore');
});

test("custom-columns picks headings from the kind's columns and rejects unknown ones", async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(pool('pool-a', '10.1.0.0/16'));
  const r = await h.run(['get', 'ippool', '-o', 'custom-columns=CIDR,NAME']);
  assert.equal(r.stdout, 'CIDR          NAME     \n10.1.0.0/16   pool-a   \n\n');
  const bad = await h.run(['get', 'ippool', '-o', 'custom-columns=NAME,COLOUR']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^Unknown heading COLOUR, valid values are: NAME, CIDR, /);
});

test('Node wide shows the cluster default AS number in parentheses when a node has none', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed({ apiVersion: V3, kind: 'Node', metadata: { name: 'n1' }, spec: { bgp: { ipv4Address: '10.0.0.1/24' } } });
  h.ds.seed({ apiVersion: V3, kind: 'Node', metadata: { name: 'n2' }, spec: { bgp: { ipv4Address: '10.0.0.2/24', asNumber: 65002 } } });
  const before = await h.run(['get', 'nodes', '-o', 'wide']);
  assert.match(before.stdout, /\nn1 +\(64512\) +10\.0\.0\.1\/24 +\nn2 +65002 +10\.0\.0\.2\/24 +\n/);
  h.ds.seed({ apiVersion: V3, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 65000 } });
  const after = await h.run(['get', 'nodes', '-o', 'wide']);
  assert.match(after.stdout, /\nn1 +\(65000\) +10\.0\.0\.1\/24/);
});

test('tiers are listed in order of spec.order, as calicoctl sorts them', async (t) => {
  const h = await CliHarness.create(t, { initialized: false });
  h.ds.seed({ apiVersion: V3, kind: 'Tier', metadata: { name: 'a-last' }, spec: {} });
  h.ds.seed({ apiVersion: V3, kind: 'Tier', metadata: { name: 'b-second' }, spec: { order: 200 } });
  h.ds.seed({ apiVersion: V3, kind: 'Tier', metadata: { name: 'c-first' }, spec: { order: 100 } });
  const r = await h.run(['get', 'tiers']);
  assert.deepEqual(
    r.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/)[0]),
    ['c-first', 'b-second', 'a-last'],
  );
});

test('get -f reads which resources to show from a file', async (t) => {
  const h = await CliHarness.create(t);
  h.ds.seed(pool('pool-a', '10.1.0.0/16'));
  const file = `apiVersion: ${V3}\nkind: IPPool\nmetadata:\n  name: pool-a\n`;
  const r = await h.run(['get', '-f', '-', '-o', 'json'], { stdin: file });
  assert.equal(r.code, 0);
  assert.equal((JSON.parse(r.stdout) as Resource).metadata.name, 'pool-a');
});

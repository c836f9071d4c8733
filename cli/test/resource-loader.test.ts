// List documents as the loader expands them: calicoctl's typed <Kind>List, Kubernetes' v1 List,
// the refusals (a List under projectcalico.org/v3, a typed list under another apiVersion, an item
// of another kind), and the input limits applied to items one by one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INPUT_LIMITS, type InputLimits } from '../src/input-limits.js';
import { loadResources } from '../src/resource-loader.js';

function load(text: string, limits: InputLimits = INPUT_LIMITS) {
  return loadResources([{ name: 'lists.yaml', text }], { mode: 'validate', limits });
}

const pool = (name: string, cidr: string): string =>
  `  - apiVersion: projectcalico.org/v3\n    kind: IPPool\n    metadata: {name: ${name}}\n    spec: {cidr: ${cidr}}\n`;

test('a projectcalico.org/v3 <Kind>List gives its items, which may leave out apiVersion and kind', async () => {
  const r = await load(
    `apiVersion: projectcalico.org/v3\nkind: IPPoolList\nitems:\n  - metadata: {name: a}\n    spec: {cidr: 10.1.0.0/16}\n${pool('b', '10.2.0.0/16')}`,
  );
  assert.deepEqual(r.problems, []);
  assert.deepEqual(
    r.resources.map((x) => [x.origin, x.resource.kind, x.resource.apiVersion, x.resource.metadata.name]),
    [
      ['lists.yaml: document 1, item 1', 'IPPool', 'projectcalico.org/v3', 'a'],
      ['lists.yaml: document 1, item 2', 'IPPool', 'projectcalico.org/v3', 'b'],
    ],
  );
});

test('a v1 List may mix kinds; its items must say what they are', async () => {
  const gnp = `  - apiVersion: projectcalico.org/v3\n    kind: GlobalNetworkPolicy\n    metadata: {name: p}\n    spec: {selector: all()}\n`;
  const r = await load(`apiVersion: v1\nkind: List\nitems:\n${pool('a', '10.1.0.0/16')}${gnp}  - metadata: {name: anon}\n`);
  assert.deepEqual(
    r.resources.map((x) => x.resource.kind),
    ['IPPool', 'GlobalNetworkPolicy'],
  );
  assert.equal(r.problems.length, 2);
  assert.match(r.problems[0], /^lists\.yaml: document 1, item 3: .*apiVersion/);
});

test('a List under projectcalico.org/v3 (or none) is refused as calicoctl refuses it, naming file and document', async () => {
  for (const apiVersion of ['projectcalico.org/v3', '']) {
    const r = await load(`${apiVersion ? `apiVersion: ${apiVersion}\n` : ''}kind: List\nitems:\n${pool('a', '10.1.0.0/16')}`);
    assert.deepEqual(r.resources, []);
    assert.deepEqual(r.problems, [
      `lists.yaml: document 1: List: Unknown resource type (List) and/or version (${apiVersion}): a List of any kinds takes apiVersion v1`,
    ]);
  }
});

test('a typed list under another apiVersion is refused; so is an item of another kind or version', async () => {
  const v1 = await load(`apiVersion: v1\nkind: IPPoolList\nitems:\n${pool('a', '10.1.0.0/16')}`);
  assert.deepEqual(v1.problems, [
    'lists.yaml: document 1: IPPoolList: Unknown resource type (IPPoolList) and/or version (v1): IPPoolList takes apiVersion projectcalico.org/v3',
  ]);

  const gnp = `  - apiVersion: projectcalico.org/v3\n    kind: GlobalNetworkPolicy\n    metadata: {name: p}\n    spec: {selector: all()}\n`;
  const old = `  - apiVersion: projectcalico.org/v2\n    metadata: {name: c}\n    spec: {cidr: 10.3.0.0/16}\n`;
  const mixed = await load(`---\napiVersion: projectcalico.org/v3\nkind: IPPoolList\nitems:\n${pool('a', '10.1.0.0/16')}${gnp}${old}`);
  assert.deepEqual(mixed.problems, [
    'lists.yaml: document 1, item 2: GlobalNetworkPolicy(p): kind: must be IPPool in a IPPoolList, not "GlobalNetworkPolicy"',
    'lists.yaml: document 1, item 3: document(c): apiVersion: must be projectcalico.org/v3',
  ]);
});

test('the input limits apply to each item: the documents limit counts items, the stored size is per item', async () => {
  const three = `apiVersion: projectcalico.org/v3\nkind: IPPoolList\nitems:\n${pool('a', '10.1.0.0/16')}${pool('b', '10.2.0.0/16')}${pool('c', '10.3.0.0/16')}`;
  const counted = await load(three, { ...INPUT_LIMITS, documents: 2 });
  assert.deepEqual(counted.problems, [
    'lists.yaml: document 1, item 3: more than 2 documents in one file (each List item counts as one), over the limit; split the file',
  ]);
  const sized = await load(three, { ...INPUT_LIMITS, resourceBytes: 100 });
  assert.equal(sized.problems.length, 3);
  assert.match(sized.problems[1], /^lists\.yaml: document 1, item 2: IPPool\(b\): \d+ bytes as stored, over the limit of 100 bytes for one resource$/);
});

test('KubernetesService and KubernetesEndpointSlice are read from Kubernetes, never written: apply refuses them by name', async () => {
  const r = await load('apiVersion: projectcalico.org/v3\nkind: KubernetesService\nmetadata: {name: web, namespace: shop}\nspec: {clusterIPs: [10.96.0.10]}\n');
  assert.deepEqual(r.resources, []);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0], /KubernetesService is read from Kubernetes objects .* cannot be written: edit the Kubernetes object instead/);
});

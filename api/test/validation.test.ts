import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allKinds } from '../src/kinds.js';
import { allKindDefs } from '../src/kinds/index.js';
import { applyDefaults, checkResource, validateResource } from '../src/validation/index.js';
import type { Resource } from '../src/resource.js';
import { doc, docFixtures, expectIssue, expectValid, fixture, issuesOf, V3 } from './validation-helpers.js';

test('every documentation example is accepted', () => {
  const fixtures = docFixtures();
  assert.ok(fixtures.length >= 20, `only ${fixtures.length} fixtures found`);
  for (const { file, doc: d } of fixtures) expectValid(d, file);
});

test('every kind in the registry has a validation declaration, and no other kind does', () => {
  assert.deepEqual(
    allKindDefs()
      .map((d) => d.kind)
      .sort(),
    allKinds()
      .map((k) => k.kind)
      .sort(),
  );
});

test('applyDefaults is idempotent and does not touch its input', () => {
  for (const { file, doc: d } of docFixtures()) {
    const before = structuredClone(d);
    const once = applyDefaults(d as Resource);
    assert.deepEqual(d, before, `${file}: input changed`);
    assert.deepEqual(applyDefaults(once), once, `${file}: not idempotent`);
  }
  const bare = [
    doc('IPPool', { cidr: 'fd00:0:0::/64' }),
    doc('NetworkPolicy', { egress: [{ action: 'Allow' }] }, 'p', 'ns1'),
    doc('GlobalNetworkPolicy', {}),
    doc('Tier', {}, 'default'),
    doc('WorkloadEndpoint', { node: 'n1', orchestrator: 'k8s', pod: 'p', endpoint: 'eth0' }, '', 'ns'),
    doc('IPAMHandle', { handleID: 'h1' }, ''),
    doc('BlockAffinity', { node: 'n1', cidr: '10.0.0.0/26' }, ''),
    doc('IPAMConfiguration', {}, ''),
  ];
  for (const d of bare) {
    const once = applyDefaults(d as unknown as Resource);
    assert.deepEqual(applyDefaults(once), once, `${String(d.kind)}: not idempotent`);
  }
});

test('applyDefaults never sets the fields the datastore owns', () => {
  for (const { doc: d } of docFixtures()) {
    const m = structuredClone(d.metadata);
    delete m.uid;
    delete m.creationTimestamp;
    delete m.resourceVersion;
    const out = applyDefaults({ ...d, metadata: m } as Resource);
    assert.equal(out.metadata.uid, undefined);
    assert.equal(out.metadata.creationTimestamp, undefined);
    assert.equal(out.metadata.resourceVersion, undefined);
  }
});

test('apiVersion must be projectcalico.org/v3', () => {
  const d = fixture('ippool.json');
  expectIssue({ ...d, apiVersion: undefined }, 'apiVersion', 'is required');
  expectIssue({ ...d, apiVersion: 'projectcalico.org/v1' }, 'apiVersion', 'use projectcalico.org/v3');
  expectIssue({ ...d, apiVersion: 'crd.projectcalico.org/v1' }, 'apiVersion', 'internal CRD');
});

test('kind must be an exact Kind name; aliases and other cases are refused with a hint', () => {
  const d = fixture('ippool.json');
  expectIssue({ ...d, kind: 'ippool' }, 'kind', 'did you mean "IPPool"');
  expectIssue({ ...d, kind: 'pools' }, 'kind', 'did you mean "IPPool"');
  expectIssue({ ...d, kind: 'Widget' }, 'kind', 'unknown kind "Widget"');
  expectIssue({ ...d, kind: undefined }, 'kind', 'is required');
  const r = checkResource({ ...d, kind: 'QoSPolicy' });
  assert.equal(r.ok ? '' : r.ref, 'document');
});

test('a document that is not an object is refused', () => {
  for (const bad of [null, 'IPPool', 42, [fixture('ippool.json')]]) {
    const r = checkResource(bad);
    assert.ok(!r.ok);
    assert.equal(r.ref, 'document');
    assert.equal(r.issues[0].path, '');
  }
});

test('unknown fields are rejected at every depth, naming the path', () => {
  expectIssue({ ...fixture('ippool.json'), extra: 1 }, 'extra', 'unknown field "extra"');
  expectIssue({ ...fixture('ippool.json'), Spec: {} }, 'Spec', 'unknown field "Spec"');
  expectIssue({ ...fixture('tier.json'), metadata: { name: 't', nmae: 'x' } }, 'metadata.nmae', 'unknown field');
  expectIssue(doc('IPPool', { cidr: '10.0.0.0/16', blocksize: 26 }), 'spec.blocksize', 'did you mean "blockSize"');
  expectIssue(doc('IPPool', { cidr: '10.0.0.0/16', natOutgoin: true }), 'spec.natOutgoin', 'did you mean "natOutgoing"');
  const np = fixture('networkpolicy.json');
  np.spec.ingress[0].destination.prots = [80];
  expectIssue(np, 'spec.ingress[0].destination.prots', 'did you mean "ports"');
  const gnp = fixture('globalnetworkpolicy.json');
  gnp.spec.ingress[0].source.serviceAccounts = { names: ['a'], selectr: 'x' };
  expectIssue(gnp, 'spec.ingress[0].source.serviceAccounts.selectr', 'unknown field');
  const hep = fixture('hostendpoint.json');
  hep.spec.ports[1].hostPort = 80;
  expectIssue(hep, 'spec.ports[1].hostPort', 'unknown field "hostPort"');
  const felix = fixture('felixconfiguration.json');
  felix.spec.bpfConntrackTimeouts = { tcpEstablished: '1h', tcpEstablised: '2h' };
  expectIssue(felix, 'spec.bpfConntrackTimeouts.tcpEstablised', 'did you mean "tcpEstablished"');
});

test('status is accepted only where Calico has one', () => {
  expectIssue({ ...fixture('profile.json'), status: {} }, 'status', 'unknown field "status"');
  expectValid({ ...fixture('node.json'), status: { podCIDRs: ['10.244.0.0/24'] } });
  expectIssue({ ...fixture('node.json'), status: { podCIDR: 'x' } }, 'status.podCIDR', 'did you mean "podCIDRs"');
  expectValid({ ...fixture('ippool.json'), status: { conditions: [{ type: 'Allocatable', status: 'True' }] } });
});

test('null fields mean unset, as YAML "key:" with no value', () => {
  const r = expectValid(doc('IPPool', { cidr: '10.0.0.0/16', natOutgoing: null, nodeSelector: null }));
  assert.equal(r.spec.natOutgoing, undefined);
  assert.equal(r.spec.nodeSelector, 'all()');
  expectValid({ ...fixture('tier.json'), metadata: { name: 'x', creationTimestamp: null } });
});

test('every problem is reported at once', () => {
  const issues = issuesOf(
    checkResource({
      apiVersion: V3,
      kind: 'IPPool',
      metadata: { name: 'Bad_Name', namespace: 'ns1', labels: { 'a b': 'x' } },
      spec: { cidr: '10.0.0.1/16', blockSize: 33, ipipMode: 'Sometimes', vxlanMode: 'Always', bogus: true },
    }),
  );
  const paths = issues.map((i) => i.path);
  for (const p of ['spec.bogus', 'metadata.name', 'metadata.namespace', 'metadata.labels["a b"]', 'spec.cidr', 'spec.blockSize', 'spec.ipipMode']) {
    assert.ok(paths.includes(p), `missing ${p} in ${paths.join(', ')}`);
  }
  assert.equal(new Set(issues.map((i) => `${i.path} ${i.message}`)).size, issues.length, 'duplicate issues');
});

test('ref names the resource: Kind(name), Kind(ns/name), or document', () => {
  const bad = (d: Record<string, unknown>) => {
    const r = checkResource(d);
    assert.ok(!r.ok);
    return r.ref;
  };
  assert.equal(bad(doc('IPPool', { cidr: 'x' }, 'pool-a')), 'IPPool(pool-a)');
  assert.equal(bad(doc('NetworkPolicy', { order: 'x' }, 'allow-web', 'ns1')), 'NetworkPolicy(ns1/allow-web)');
  assert.equal(bad(doc('NetworkPolicy', { order: 'x' }, 'allow-web')), 'NetworkPolicy(default/allow-web)');
  assert.equal(bad({ apiVersion: V3, kind: 'IPPool', spec: { cidr: '10.0.0.0/16' } }), 'document');
  assert.equal(bad({ apiVersion: V3, kind: 'IPPool', metadata: { name: 7 }, spec: { cidr: '10.0.0.0/16' } }), 'document');
});

test('namespaced kinds default to namespace "default"; cluster-scoped kinds refuse one', () => {
  const np = fixture('networkpolicy.json');
  delete np.metadata.namespace;
  assert.equal(expectValid(np).metadata.namespace, 'default');
  expectIssue({ ...fixture('ippool.json'), metadata: { name: 'p', namespace: 'default' } }, 'metadata.namespace', 'IPPool is cluster-scoped');
  expectIssue({ ...fixture('networkpolicy.json'), metadata: { name: 'p', namespace: 'Bad_NS' } }, 'metadata.namespace', 'lower case');
});

test('metadata: names, labels and annotations follow Kubernetes rules', () => {
  const base = fixture('profile.json');
  const withMeta = (metadata: Record<string, unknown>) => ({ ...base, metadata });
  expectIssue(withMeta({}), 'metadata.name', 'is required');
  expectIssue(withMeta({ name: 'UPPER' }), 'metadata.name', 'lower case');
  expectIssue(withMeta({ name: '-lead' }), 'metadata.name', 'start and end');
  expectIssue(withMeta({ name: 'a'.repeat(254) }), 'metadata.name', 'at most 253');
  expectValid(withMeta({ name: 'a.b-c.d' }));
  expectIssue(withMeta({ name: 'p', labels: { 'example.com/role': 'x', 'bad/key/x': 'y' } }), 'metadata.labels["bad/key/x"]', 'optional DNS subdomain prefix');
  expectIssue(withMeta({ name: 'p', labels: { app: 'has space' } }), 'metadata.labels.app', 'label value "has space"');
  expectIssue(withMeta({ name: 'p', labels: { app: 5 } }), 'metadata.labels.app', 'expected a string, got number 5');
  expectIssue(withMeta({ name: 'p', annotations: { 'Has Space': 'x' } }), 'metadata.annotations["Has Space"]', 'name part');
  expectIssue(withMeta({ name: 'p', annotations: { big: 'x'.repeat(300 * 1024) } }), 'metadata.annotations', 'at most 262144');
  expectValid(withMeta({ name: 'p', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"a":1}' }, generation: 3, finalizers: ['x'] }));
});

test('validateResource reports values but tolerates fields a newer Calico may add', () => {
  const stored = { ...fixture('ippool.json'), spec: { ...fixture('ippool.json').spec, futureField: 'x' } } as Resource;
  assert.deepEqual(validateResource(applyDefaults(stored)), []);
  const bad = { ...stored, spec: { cidr: '10.0.0.0/16', blockSize: 'big' } } as unknown as Resource;
  assert.deepEqual(validateResource(bad), [{ path: 'spec.blockSize', message: 'expected an integer, got string "big"' }]);
  assert.deepEqual(
    validateResource({ ...stored, kind: 'Nope' }).map((i) => i.path),
    ['kind'],
  );
  assert.deepEqual(
    validateResource({ ...stored, metadata: 'x' } as unknown as Resource).map((i) => i.path),
    ['metadata'],
  );
});

test('validateResource survives garbage of every shape without throwing', () => {
  const shapes: unknown[] = [null, 1, 'x', [], {}, { a: [1, { b: null }] }, [null], true];
  for (const def of allKindDefs()) {
    for (const spec of shapes) {
      const res = { apiVersion: V3, kind: def.kind, metadata: { name: 'x', namespace: 'y' }, spec } as unknown as Resource;
      validateResource(res);
      applyDefaults(res);
      for (const field of Object.keys(def.spec.fields)) {
        for (const v of shapes) {
          const r = { ...res, spec: { [field]: v } } as unknown as Resource;
          validateResource(applyDefaults(r));
          checkResource(r);
        }
      }
    }
  }
});

test('checkResource reports every bad item of a very long list without overflowing the stack', () => {
  const nets = Array.from({ length: 200_000 }, () => 1);
  const r = checkResource({ apiVersion: V3, kind: 'GlobalNetworkSet', metadata: { name: 'many' }, spec: { nets } });
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.issues.length >= 200_000, 'one issue per item');
});

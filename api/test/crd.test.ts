/**
 * The CRDs under api/crds/: committed files equal a fresh generation byte for byte; each CRD
 * has Calico's names and scope; each schema is structural; and a small structural-schema checker
 * (below: types, enums, patterns, ranges, required and unknown fields, as the apiserver with
 * strict field validation applies them) agrees with Cattail's validator on good and bad
 * documents, except where the CRD is weaker by design (per-field checks stay in the validator).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { CALICO_CRDS, NOT_CRDS } from '../src/crd/calico-crds.js';
import { crdFileName, crdFor, generateCRDs, type CustomResourceDefinition } from '../src/crd/generate.js';
import type { JSONSchemaProps } from '../src/crd/openapi.js';
import { renderCRD } from '../src/crd/render.js';
import { allKinds, findKind } from '../src/kinds.js';
import { applyDefaults, checkResource } from '../src/validation/index.js';
import { arr, bool, obj, str } from '../src/validation/schema.js';
import type { Resource } from '../src/resource.js';
import { docFixtures, fixture } from './validation-helpers.js';

const CRDS_DIR = new URL('../../crds/', import.meta.url);
const crds = generateCRDs();

// ---- the committed files ---------------------------------------------------------------------

test('api/crds/ holds exactly the generated CRDs, byte for byte', () => {
  const expected = new Map(crds.map((crd) => [crdFileName(crd), renderCRD(crd)]));
  const present = readdirSync(CRDS_DIR).filter((f) => f.endsWith('.yaml'));
  for (const name of present) assert.ok(expected.has(name), `api/crds/${name} is no longer generated: run npm run crds`);
  for (const [name, text] of expected) {
    let committed: string | undefined;
    try {
      committed = readFileSync(new URL(name, CRDS_DIR), 'utf8');
    } catch {
      assert.fail(`api/crds/${name} is missing: run npm run crds`);
    }
    assert.ok(committed === text, `api/crds/${name} differs from the generated CRD: run npm run crds`);
  }
});

test('a committed file reads back as the generated object (the YAML says what the object says)', () => {
  for (const crd of crds) {
    const text = readFileSync(new URL(crdFileName(crd), CRDS_DIR), 'utf8');
    assert.deepEqual(parse(text), crd, crdFileName(crd));
  }
});

test('generation is deterministic', () => {
  assert.deepEqual(generateCRDs().map(renderCRD), crds.map(renderCRD));
});

// ---- Calico's names --------------------------------------------------------------------------

/** Calico's crd.projectcalico.org CRD manifests: kind, plural, scope. */
const CALICO: ReadonlyArray<[string, string, 'Cluster' | 'Namespaced']> = [
  ['BGPConfiguration', 'bgpconfigurations', 'Cluster'],
  ['BGPPeer', 'bgppeers', 'Cluster'],
  ['BlockAffinity', 'blockaffinities', 'Cluster'],
  ['BGPFilter', 'bgpfilters', 'Cluster'],
  ['CalicoNodeStatus', 'caliconodestatuses', 'Cluster'],
  ['ClusterInformation', 'clusterinformations', 'Cluster'],
  ['FelixConfiguration', 'felixconfigurations', 'Cluster'],
  ['GlobalNetworkPolicy', 'globalnetworkpolicies', 'Cluster'],
  ['GlobalNetworkSet', 'globalnetworksets', 'Cluster'],
  ['HostEndpoint', 'hostendpoints', 'Cluster'],
  ['IPAMBlock', 'ipamblocks', 'Cluster'],
  ['IPAMConfig', 'ipamconfigs', 'Cluster'],
  ['IPAMHandle', 'ipamhandles', 'Cluster'],
  ['IPPool', 'ippools', 'Cluster'],
  ['IPReservation', 'ipreservations', 'Cluster'],
  ['NetworkPolicy', 'networkpolicies', 'Namespaced'],
  ['KubeControllersConfiguration', 'kubecontrollersconfigurations', 'Cluster'],
  ['NetworkSet', 'networksets', 'Namespaced'],
  ['StagedGlobalNetworkPolicy', 'stagedglobalnetworkpolicies', 'Cluster'],
  ['StagedKubernetesNetworkPolicy', 'stagedkubernetesnetworkpolicies', 'Namespaced'],
  ['StagedNetworkPolicy', 'stagednetworkpolicies', 'Namespaced'],
  ['Tier', 'tiers', 'Cluster'],
];

test("one CRD per kind Calico stores as a CRD, with Calico's kind, plural, singular and scope", () => {
  const got = crds.map((c) => [c.spec.names.kind, c.spec.names.plural, c.spec.scope]).sort((a, b) => a[0].localeCompare(b[0]));
  assert.deepEqual(
    got,
    [...CALICO].sort((a, b) => a[0].localeCompare(b[0])),
  );
  for (const c of crds) {
    assert.equal(c.metadata.name, `${c.spec.names.plural}.crd.projectcalico.org`);
    assert.equal(c.spec.group, 'crd.projectcalico.org');
    assert.equal(c.spec.names.singular, c.spec.names.kind.toLowerCase());
    assert.equal(c.spec.names.listKind, `${c.spec.names.kind}List`);
    assert.equal(crdFileName(c), `crd.projectcalico.org_${c.spec.names.plural}.yaml`);
    assert.deepEqual(
      c.spec.versions.map((v) => [v.name, v.served, v.storage]),
      [['v1', true, true]],
    );
    assert.equal(c.spec.preserveUnknownFields, false);
  }
});

test('every kind is either a CRD or listed, with a reason, as derived from Kubernetes objects', () => {
  for (const info of allKinds()) {
    const isCRD = CALICO_CRDS[info.kind] !== undefined;
    const isNot = NOT_CRDS[info.kind] !== undefined;
    assert.ok(isCRD !== isNot, `${info.kind}: exactly one of CALICO_CRDS and NOT_CRDS`);
  }
  for (const kind of [...Object.keys(CALICO_CRDS), ...Object.keys(NOT_CRDS)]) assert.ok(findKind(kind)?.kind === kind, `${kind} is a kind`);
  assert.deepEqual(Object.keys(NOT_CRDS).sort(), ['KubernetesEndpointSlice', 'KubernetesService', 'Node', 'Profile', 'WorkloadEndpoint']);
});

test('the IPAM configuration kind is IPAMConfiguration in v3 and IPAMConfig as a CRD', () => {
  const c = crds.find((x) => x.spec.names.plural === 'ipamconfigs');
  assert.equal(c?.spec.names.kind, 'IPAMConfig');
  assert.ok(!crds.some((x) => x.spec.names.kind === 'IPAMConfiguration'));
});

// ---- structural schemas ----------------------------------------------------------------------

const KEYWORDS = new Set([
  'type',
  'nullable',
  'enum',
  'pattern',
  'maxLength',
  'minimum',
  'maximum',
  'maxItems',
  'items',
  'properties',
  'required',
  'additionalProperties',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
]);

/** Every violation of the structural-schema rules in `s`, with its path. */
function structuralProblems(s: JSONSchemaProps, path: string, out: string[]): string[] {
  for (const k of Object.keys(s)) if (!KEYWORDS.has(k)) out.push(`${path}: keyword ${k} is not expected (no $ref, no uniqueItems)`);
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  if (!s.type && !intOrString && !preserve) out.push(`${path}: no type`);
  if (intOrString && s.type) out.push(`${path}: int-or-string with a type`);
  if (s.properties && s.additionalProperties) out.push(`${path}: properties and additionalProperties together`);
  if ((s.properties || s.additionalProperties || s.required) && s.type !== 'object') out.push(`${path}: object keywords on a ${s.type}`);
  if (s.items && s.type !== 'array') out.push(`${path}: items on a ${s.type}`);
  if (s.type === 'array' && !s.items) out.push(`${path}: an array without items`);
  if (s.enum && s.type !== 'string') out.push(`${path}: enum on a ${s.type}`);
  for (const r of s.required ?? []) if (!s.properties?.[r]) out.push(`${path}: required ${r} is not a property`);
  if (s['x-kubernetes-list-type'] === 'set' && s.items?.type === 'object' && s.items['x-kubernetes-map-type'] !== 'atomic') {
    out.push(`${path}: a set of objects that are not atomic`);
  }
  for (const [k, v] of Object.entries(s.properties ?? {})) structuralProblems(v, `${path}.${k}`, out);
  if (s.items) structuralProblems(s.items, `${path}[]`, out);
  if (s.additionalProperties) structuralProblems(s.additionalProperties, `${path}{}`, out);
  return out;
}

function rootSchema(c: CustomResourceDefinition): JSONSchemaProps {
  return c.spec.versions[0].schema.openAPIV3Schema;
}

test('every schema is structural', () => {
  for (const c of crds) assert.deepEqual(structuralProblems(rootSchema(c), c.spec.names.kind, []), [], c.spec.names.kind);
});

test('the structural check finds what it looks for', () => {
  const bad: JSONSchemaProps = {
    type: 'object',
    properties: { a: {}, b: { type: 'object', properties: { x: { type: 'string' } }, additionalProperties: { type: 'string' } } },
    required: ['c'],
  };
  (bad.properties!.a as Record<string, unknown>).$ref = '#/definitions/x';
  assert.deepEqual(structuralProblems(bad, 'X', []), [
    'X: required c is not a property',
    'X.a: keyword $ref is not expected (no $ref, no uniqueItems)',
    'X.a: no type',
    'X.b: properties and additionalProperties together',
  ]);
});

test('metadata is a bare object; apiVersion and kind are strings; nothing else at the root but spec and status', () => {
  for (const c of crds) {
    const root = rootSchema(c);
    assert.equal(root.type, 'object');
    assert.deepEqual(root.properties?.metadata, { type: 'object' });
    assert.deepEqual(root.properties?.apiVersion, { type: 'string' });
    assert.deepEqual(root.properties?.kind, { type: 'string' });
    for (const k of Object.keys(root.properties ?? {})) assert.ok(['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(k), k);
    assert.equal(root.properties?.spec.type, 'object');
  }
});

test('ports and protocols are int-or-string; sets are list-type set; a case-insensitive enum is a (?i) pattern', () => {
  const np = rootSchema(crds.find((c) => c.spec.names.kind === 'NetworkPolicy')!);
  const rule = np.properties!.spec.properties!.ingress.items!;
  assert.deepEqual(rule.properties!.protocol, { 'x-kubernetes-int-or-string': true });
  assert.deepEqual(rule.properties!.destination.properties!.ports.items, { 'x-kubernetes-int-or-string': true });
  const hep = rootSchema(crds.find((c) => c.spec.names.kind === 'HostEndpoint')!);
  assert.equal(hep.properties!.spec.properties!.expectedIPs['x-kubernetes-list-type'], 'set');
  const felix = rootSchema(crds.find((c) => c.spec.names.kind === 'FelixConfiguration')!);
  assert.equal(felix.properties!.spec.properties!.chainInsertMode.pattern, '^(?i)(Insert|Append)?$');
  const block = rootSchema(crds.find((c) => c.spec.names.kind === 'IPAMBlock')!);
  assert.deepEqual(block.properties!.spec.properties!.allocations.items, { type: 'integer', minimum: 0, nullable: true });
  assert.deepEqual(block.properties!.spec.properties!.sequenceNumberForAllocation, { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } });
});

test('status is described where the kind has one; the status subresource only where Calico has it', () => {
  const info = { kind: 'Thing', plural: 'things', aliases: [], namespaced: true, storage: 'resource' as const };
  const def = { kind: 'Thing', spec: obj({ a: str() }), status: obj({ ready: bool(), notes: arr(str()) }) };
  const withSub = crdFor(info, def, { kind: 'Thing', plural: 'things', singular: 'thing', statusSubresource: true });
  assert.deepEqual(withSub.spec.versions[0].subresources, { status: {} });
  assert.deepEqual(rootSchema(withSub).properties!.status, {
    type: 'object',
    properties: { ready: { type: 'boolean' }, notes: { type: 'array', items: { type: 'string' } } },
  });
  assert.equal(withSub.spec.scope, 'Namespaced');
  const without = crdFor(info, { kind: 'Thing', spec: obj({}) }, { kind: 'Thing', plural: 'things', singular: 'thing', statusSubresource: false });
  assert.equal(without.spec.versions[0].subresources, undefined);
  assert.equal(rootSchema(without).properties!.status, undefined);
  for (const c of crds) assert.equal(c.spec.versions[0].subresources, undefined, `${c.spec.names.kind}: Calico's CRD has no status subresource`);
});

// ---- a structural-schema checker, and agreement with the validator ----------------------------

/**
 * What the apiserver reports for `value` under a structural schema, with strict field
 * validation (the default for kubectl): wrong types, enum and pattern misses, ranges, lengths,
 * duplicates in a set, missing required fields, and unknown fields (which it would otherwise
 * prune). CEL rules and formats are not modelled: the generated schemas have none.
 */
function crdIssues(s: JSONSchemaProps, value: unknown, path = '', out: string[] = []): string[] {
  if (value === null) {
    if (!s.nullable) out.push(`${path}: null`);
    return out;
  }
  if (s['x-kubernetes-int-or-string']) {
    if (typeof value !== 'string' && !Number.isInteger(value)) out.push(`${path}: not an int or a string`);
    return out;
  }
  switch (s.type) {
    case undefined:
      return out;
    case 'string':
      if (typeof value !== 'string') return fail(out, `${path}: not a string`);
      if (s.enum && !s.enum.includes(value)) out.push(`${path}: not in enum`);
      if (s.pattern && !goPattern(s.pattern).test(value)) out.push(`${path}: does not match ${s.pattern}`);
      if (s.maxLength !== undefined && [...value].length > s.maxLength) out.push(`${path}: too long`);
      return out;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || (s.type === 'integer' && !Number.isInteger(value))) return fail(out, `${path}: not a ${s.type}`);
      if (s.minimum !== undefined && value < s.minimum) out.push(`${path}: below minimum`);
      if (s.maximum !== undefined && value > s.maximum) out.push(`${path}: above maximum`);
      return out;
    case 'boolean':
      if (typeof value !== 'boolean') out.push(`${path}: not a boolean`);
      return out;
    case 'array':
      if (!Array.isArray(value)) return fail(out, `${path}: not an array`);
      if (s.maxItems !== undefined && value.length > s.maxItems) out.push(`${path}: too many items`);
      if (s['x-kubernetes-list-type'] === 'set' && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) out.push(`${path}: duplicate`);
      value.forEach((v, i) => crdIssues(s.items!, v, `${path}[${i}]`, out));
      return out;
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return fail(out, `${path}: not an object`);
      const o = value as Record<string, unknown>;
      for (const [k, v] of Object.entries(o)) {
        if (path === '' && k === 'metadata') continue; // ObjectMeta: the apiserver's own, whatever the schema says
        const field = s.additionalProperties ?? s.properties?.[k];
        if (field) crdIssues(field, v, `${path}.${k}`, out);
        else if (!s['x-kubernetes-preserve-unknown-fields']) out.push(`${path}.${k}: unknown field`);
      }
      for (const r of s.required ?? []) if (!(r in o)) out.push(`${path}.${r}: required`);
      return out;
    }
  }
}

function fail(out: string[], issue: string): string[] {
  out.push(issue);
  return out;
}

/** Go's RE2 `(?i)` prefix as a JavaScript flag. */
function goPattern(p: string): RegExp {
  return p.includes('(?i)') ? new RegExp(p.replace('(?i)', ''), 'i') : new RegExp(p);
}

/** The object Cattail would store for `doc` in KDD: the CRD's group, version and kind, the v3 spec after Calico's defaults. */
function asCRDObject(doc: Record<string, any>): { crd: CustomResourceDefinition; object: Record<string, unknown> } {
  const calico = CALICO_CRDS[doc.kind as string];
  const crd = crds.find((c) => c.spec.names.kind === calico.kind)!;
  const res = applyDefaults(doc as Resource);
  const object: Record<string, unknown> = { apiVersion: 'crd.projectcalico.org/v1', kind: calico.kind, metadata: res.metadata };
  if (res.spec !== undefined) object.spec = res.spec;
  if (res.status !== undefined) object.status = res.status;
  return { crd, object };
}

function verdicts(doc: Record<string, any>): { cattail: boolean; crd: string[] } {
  const { crd, object } = asCRDObject(doc);
  return { cattail: checkResource(doc).ok, crd: crdIssues(rootSchema(crd), object) };
}

test('every documented resource of a CRD kind is accepted by both the validator and its CRD schema', () => {
  const seen = new Set<string>();
  for (const { file, doc } of docFixtures()) {
    if (!CALICO_CRDS[doc.kind as string]) continue;
    seen.add(doc.kind as string);
    const v = verdicts(doc);
    assert.ok(v.cattail, `${file}: the validator rejects it`);
    assert.deepEqual(v.crd, [], `${file}: the CRD schema rejects it`);
  }
  assert.deepEqual([...seen].sort(), Object.keys(CALICO_CRDS).sort(), 'a fixture for every CRD kind');
});

/** A fixture with one change made to a copy. */
function edit(file: string, change: (d: Record<string, any>) => void): Record<string, any> {
  const d = fixture(file);
  change(d);
  return d;
}

const BOTH_REJECT: ReadonlyArray<[string, Record<string, any>]> = [
  ['int as a string', edit('ippool.json', (d) => (d.spec.blockSize = '26'))],
  ['value outside an enum', edit('ippool.json', (d) => (d.spec.ipipMode = 'Sometimes'))],
  ['unknown field', edit('ippool.json', (d) => (d.spec.natOutgoin = true))],
  ['unknown nested field', edit('networkpolicy.json', (d) => (d.spec.ingress[0].source.selecter = 'a == "b"'))],
  ['missing required field', edit('ippool.json', (d) => delete d.spec.cidr)],
  ['list where an object goes', edit('networkpolicy.json', (d) => (d.spec.ingress[0].source = []))],
  ['object where a list goes', edit('globalnetworkpolicy.json', (d) => (d.spec.ingress = {}))],
  ['protocol neither int nor string', edit('networkpolicy.json', (d) => (d.spec.ingress[0].protocol = true))],
  ['port as a float', edit('networkpolicy.json', (d) => (d.spec.ingress[0].destination.ports = [80.5]))],
  ['order as a string', edit('tier.json', (d) => (d.spec.order = 'first'))],
  ['duplicate in a set', edit('hostendpoint.json', (d) => (d.spec.expectedIPs = ['192.168.0.1', '192.168.0.1']))],
  ['case-insensitive enum miss', edit('felixconfiguration.json', (d) => (d.spec.chainInsertMode = 'Prepend'))],
  ['integer below its minimum', edit('ipamconfiguration.json', (d) => (d.spec.maxBlocksPerHost = -1))],
  ['boolean as a string', edit('bgpconfiguration.json', (d) => (d.spec.nodeToNodeMeshEnabled = 'yes'))],
  ['map value of the wrong type', edit('ipamhandle.json', (d) => (d.spec.block['10.0.0.0/30'] = 'one'))],
  ['null in a list that does not allow it', edit('ipamblock.json', (d) => (d.spec.unallocated = [1, null]))],
  ['map where a string goes', edit('clusterinformation.json', (d) => (d.spec.clusterType = { a: 1 }))],
];

test('a type, enum, range, required-field or unknown-field error is rejected by both', () => {
  for (const [name, doc] of BOTH_REJECT) {
    const v = verdicts(doc);
    assert.equal(v.cattail, false, `${name}: the validator accepts it`);
    assert.notDeepEqual(v.crd, [], `${name}: the CRD schema accepts it`);
  }
});

test('what the validator lets through as unset or alike is accepted by the CRD schema too', () => {
  const cases: ReadonlyArray<[string, Record<string, any>]> = [
    ['an empty enum value (unset)', edit('ippool.json', (d) => (d.spec.vxlanMode = ''))],
    ['a case-insensitive enum in another case', edit('felixconfiguration.json', (d) => (d.spec.chainInsertMode = 'append'))],
    ['a port range as a string', edit('networkpolicy.json', (d) => (d.spec.ingress[0].destination.ports = ['8000:8080', 443]))],
    ['a free ordinal (null) in a block', fixture('ipamblock.json')],
    ["a string 'deleted' on a block affinity", edit('blockaffinity.json', (d) => (d.spec.deleted = 'false'))],
  ];
  for (const [name, doc] of cases) {
    const v = verdicts(doc);
    assert.ok(v.cattail, `${name}: the validator rejects it`);
    assert.deepEqual(v.crd, [], `${name}: the CRD schema rejects it`);
  }
});

test('per-field and cross-field rules are the validator’s alone: the CRD schema is weaker by design', () => {
  const cases: ReadonlyArray<[string, Record<string, any>]> = [
    ['a CIDR that is not one', edit('ippool.json', (d) => (d.spec.cidr = 'not-a-cidr'))],
    ['a selector that does not parse', edit('networkpolicy.json', (d) => (d.spec.selector = 'role == ('))],
    ['ports without a protocol', edit('networkpolicy.json', (d) => delete d.spec.ingress[0].protocol)],
  ];
  for (const [name, doc] of cases) {
    const v = verdicts(doc);
    assert.equal(v.cattail, false, `${name}: the validator accepts it`);
    assert.deepEqual(v.crd, [], `${name}: the CRD schema now rejects it; move the case to the table above`);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, expectValid, fixture, runTable } from './validation-helpers.js';

const snp = (spec: unknown, name = 'allow-dns') => doc('StagedNetworkPolicy', spec, name, 'prod');
const sgnp = (spec: unknown, name = 'allow-dns') => doc('StagedGlobalNetworkPolicy', spec, name);
const sknp = (spec: unknown) => doc('StagedKubernetesNetworkPolicy', spec, 'db', 'prod');

test('staged Calico policies default like their enforced kinds, with stagedAction Set', () => {
  const s = expectValid(snp({ selector: "app == 'db'", egress: [{ action: 'Allow' }] })).spec;
  assert.deepEqual(s, { stagedAction: 'Set', selector: "app == 'db'", egress: [{ action: 'Allow' }], tier: 'default', types: ['Egress'] });
  const g = expectValid(sgnp({ stagedAction: 'Learn', tier: 'security' }, 'security.x')).spec;
  assert.deepEqual(g, { stagedAction: 'Learn', tier: 'security', types: ['Ingress'] });
  const del = expectValid(snp({ stagedAction: 'Delete' })).spec;
  assert.deepEqual(del, { stagedAction: 'Delete', tier: 'default' }, 'a staged deletion gets no policy types');
  assert.equal(expectValid(sknp({})).spec.stagedAction, 'Set');
});

test('StagedNetworkPolicy and StagedGlobalNetworkPolicy validation', () => {
  runTable([
    { name: 'docs snp', doc: fixture('stagednetworkpolicy.json') },
    { name: 'docs sgnp', doc: fixture('stagedglobalnetworkpolicy.json') },
    { name: 'delete keeps tier', doc: sgnp({ stagedAction: 'Delete', tier: 'security' }, 'security.old') },
    { name: 'ignore', doc: snp({ stagedAction: 'Ignore', selector: 'all()' }) },
    { name: 'action enum', doc: snp({ stagedAction: 'Commit' }), path: 'spec.stagedAction', message: '"Commit" is not one of Set, Delete, Learn, Ignore' },
    {
      name: 'delete with rules',
      doc: snp({ stagedAction: 'Delete', selector: 'all()', ingress: [{ action: 'Allow' }] }),
      path: 'spec',
      message: 'spec fields, except tier, must be empty when stagedAction is Delete (found selector, ingress)',
    },
    {
      name: 'unknown field',
      doc: snp({ stagedActon: 'Set' }),
      path: 'spec.stagedActon',
      message: 'unknown field "stagedActon" (did you mean "stagedAction"?)',
    },
    { name: 'policy name rule', doc: snp({}, 'a.b.c'), path: 'metadata.name', message: 'is not a policy name' },
    {
      name: 'rules checked as NetworkPolicy',
      doc: snp({ ingress: [{ action: 'Allow', destination: { ports: [80] } }] }),
      path: 'spec.ingress[0].destination.ports',
      message: 'ports need protocol TCP, UDP or SCTP',
    },
    {
      name: 'preDNAT rules as GNP',
      doc: sgnp({ preDNAT: true, ingress: [{ action: 'Allow' }] }),
      path: 'spec.applyOnForward',
      message: 'must be true when preDNAT or doNotTrack is true',
    },
    { name: 'namespaceSelector only global', doc: snp({ namespaceSelector: 'all()' }), path: 'spec.namespaceSelector', message: 'unknown field' },
  ]);
});

test('StagedKubernetesNetworkPolicy validation', () => {
  runTable([
    { name: 'docs sample', doc: fixture('stagedkubernetesnetworkpolicy.json') },
    { name: 'delete alone', doc: sknp({ stagedAction: 'Delete' }) },
    { name: 'delete with empty selector', doc: sknp({ stagedAction: 'Delete', podSelector: {} }) },
    {
      name: 'delete with rules',
      doc: sknp({ stagedAction: 'Delete', podSelector: { matchLabels: { a: 'b' } } }),
      path: 'spec',
      message: 'spec fields must be empty when stagedAction is Delete (found podSelector)',
    },
    {
      name: 'Calico fields refused',
      doc: sknp({ selector: 'all()' }),
      path: 'spec.selector',
      message: 'unknown field "selector"',
    },
    {
      name: 'operator enum',
      doc: sknp({ podSelector: { matchExpressions: [{ key: 'a', operator: 'Equals' }] } }),
      path: 'spec.podSelector.matchExpressions[0].operator',
      message: 'is not one of In, NotIn, Exists, DoesNotExist',
    },
    {
      name: 'except outside cidr',
      doc: sknp({ ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }] }] }),
      path: 'spec.ingress[0].from[0].ipBlock.except[0]',
      message: '10.1.0.0/24 must be strictly within 10.0.0.0/16',
    },
    {
      name: 'ipBlock with selector',
      doc: sknp({ egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/16' }, podSelector: {} }] }] }),
      path: 'spec.egress[0].to[0].ipBlock',
      message: 'cannot be combined with podSelector or namespaceSelector',
    },
    {
      name: 'endPort below port',
      doc: sknp({ ingress: [{ ports: [{ port: 90, endPort: 80 }] }] }),
      path: 'spec.ingress[0].ports[0].endPort',
      message: '80 is less than port 90',
    },
    {
      name: 'bad protocol',
      doc: sknp({ ingress: [{ ports: [{ protocol: 'ICMP' }] }] }),
      path: 'spec.ingress[0].ports[0].protocol',
      message: 'is not one of TCP, UDP, SCTP',
    },
    {
      name: 'policyTypes twice',
      doc: sknp({ policyTypes: ['Ingress', 'Ingress'] }),
      path: 'spec.policyTypes[1]',
      message: 'duplicate entry "Ingress"',
    },
  ]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { doc, expectIssue, expectValid, fixture, runTable, type Case } from './validation-helpers.js';

const np = (spec: unknown, name = 'allow-web') => doc('NetworkPolicy', spec, name, 'ns1');
const gnp = (spec: unknown, name = 'allow-web') => doc('GlobalNetworkPolicy', spec, name);
/** A NetworkPolicy with one ingress rule. */
const rule = (r: unknown) => np({ ingress: [r] });
const egressRule = (r: unknown) => np({ egress: [r] });

test('policy types are inferred from the rules, as Calico does on create', () => {
  const types = (spec: Record<string, unknown>) => expectValid(np(spec)).spec.types;
  assert.deepEqual(types({}), ['Ingress']);
  assert.deepEqual(types({ ingress: [{ action: 'Allow' }] }), ['Ingress']);
  assert.deepEqual(types({ egress: [{ action: 'Allow' }] }), ['Egress']);
  assert.deepEqual(types({ ingress: [{ action: 'Deny' }], egress: [{ action: 'Allow' }] }), ['Ingress', 'Egress']);
  assert.deepEqual(types({ types: [], egress: [{ action: 'Allow' }] }), ['Egress']);
  assert.deepEqual(types({ types: ['Egress'], ingress: [{ action: 'Allow' }] }), ['Egress'], 'explicit types are kept');
  const g = expectValid(fixture('globalnetworkpolicy-host.json'));
  assert.deepEqual(g.spec.types, ['Ingress']);
  assert.equal(g.spec.tier, 'default');
});

test('policies land in the default tier unless they name one', () => {
  assert.equal(expectValid(np({})).spec.tier, 'default');
  assert.equal(expectValid(fixture('networkpolicy-tiered.json')).spec.tier, 'internal-access');
});

test('policy names: a label, optionally with one dotted prefix', () => {
  const cases: Case[] = [
    { name: 'plain', doc: np({}, 'allow-web') },
    { name: 'tier prefix', doc: np({ tier: 'security' }, 'security.allow-web') },
    { name: 'prefix need not be the tier (Calico 3.32)', doc: np({ tier: 'security' }, 'platform.allow-web') },
    { name: 'converted k8s policy', doc: np({}, 'knp.default.allow.web') },
    { name: 'two dots', doc: np({}, 'a.b.c'), path: 'metadata.name', message: 'is not a policy name' },
    { name: 'upper case', doc: np({}, 'Allow'), path: 'metadata.name', message: 'lower case' },
    { name: 'gnp two dots', doc: gnp({}, 'a.b.c'), path: 'metadata.name', message: 'is not a policy name' },
    { name: 'gnp knp prefix is not global', doc: gnp({}, 'knp.default.x'), path: 'metadata.name', message: 'is not a policy name' },
    { name: 'bad tier name', doc: np({ tier: 'Sec.urity' }), path: 'spec.tier', message: 'tier names are DNS-1123 labels' },
  ];
  runTable(cases);
});

test('policy spec fields', () => {
  runTable([
    { name: 'order float', doc: np({ order: 100.5 }) },
    { name: 'order as string', doc: np({ order: '100' }), path: 'spec.order', message: 'expected a number, got string "100"' },
    { name: 'order infinite', doc: np({ order: Infinity }), path: 'spec.order', message: 'expected a number' },
    { name: 'bad selector', doc: np({ selector: "role == 'db" }), path: 'spec.selector', message: 'invalid selector' },
    {
      name: 'global() in selector',
      doc: np({ selector: 'global()' }),
      path: 'spec.selector',
      message: 'global() can only be used in a rule namespaceSelector',
    },
    { name: 'bad serviceAccountSelector', doc: np({ serviceAccountSelector: 'a ==' }), path: 'spec.serviceAccountSelector', message: 'invalid selector' },
    { name: 'types enum', doc: np({ types: ['Inbound'] }), path: 'spec.types[0]', message: '"Inbound" is not one of Ingress, Egress' },
    { name: 'types repeated', doc: np({ types: ['Ingress', 'Ingress'] }), path: 'spec.types[1]', message: 'listed more than once' },
    { name: 'performance hint', doc: np({ performanceHints: ['AssumeNeededOnEveryNode'] }) },
    {
      name: 'bad performance hint',
      doc: np({ performanceHints: ['Fast'] }),
      path: 'spec.performanceHints[0]',
      message: 'is not one of AssumeNeededOnEveryNode',
    },
    { name: 'ingress not a list', doc: np({ ingress: { action: 'Allow' } }), path: 'spec.ingress', message: 'expected a list, got an object' },
    { name: 'gnp namespaceSelector', doc: gnp({ namespaceSelector: "projectcalico.org/name == 'prod'" }) },
    {
      name: 'gnp global() namespaceSelector',
      doc: gnp({ namespaceSelector: 'global()' }),
      path: 'spec.namespaceSelector',
      message: 'global() can only be used',
    },
    { name: 'NP has no namespaceSelector', doc: np({ namespaceSelector: 'all()' }), path: 'spec.namespaceSelector', message: 'unknown field' },
    { name: 'NP has no doNotTrack', doc: np({ doNotTrack: true }), path: 'spec.doNotTrack', message: 'unknown field' },
  ]);
  const tooMany = np({ ingress: Array.from({ length: 1025 }, () => ({ action: 'Allow' })) });
  expectIssue(tooMany, 'spec.ingress', 'at most 1024');
});

test('GlobalNetworkPolicy host modes: preDNAT, doNotTrack, applyOnForward', () => {
  runTable([
    { name: 'untracked', doc: gnp({ doNotTrack: true, applyOnForward: true, ingress: [{ action: 'Allow' }] }) },
    { name: 'both modes', doc: gnp({ doNotTrack: true, preDNAT: true, applyOnForward: true }), path: 'spec.preDNAT', message: 'cannot both be true' },
    { name: 'preDNAT without applyOnForward', doc: gnp({ preDNAT: true }), path: 'spec.applyOnForward', message: 'must be true when preDNAT or doNotTrack' },
    { name: 'doNotTrack without applyOnForward', doc: gnp({ doNotTrack: true }), path: 'spec.applyOnForward', message: 'must be true' },
    {
      name: 'preDNAT egress',
      doc: gnp({ preDNAT: true, applyOnForward: true, egress: [{ action: 'Allow' }] }),
      path: 'spec.egress',
      message: 'cannot have egress rules',
    },
    {
      name: 'preDNAT Egress type',
      doc: gnp({ preDNAT: true, applyOnForward: true, types: ['Ingress', 'Egress'] }),
      path: 'spec.types',
      message: 'cannot have type Egress',
    },
    { name: 'doNotTrack as string', doc: gnp({ doNotTrack: 'yes' }), path: 'spec.doNotTrack', message: 'expected true or false' },
  ]);
});

test('rules: action, protocol, ipVersion', () => {
  runTable([
    { name: 'all actions', doc: np({ ingress: ['Allow', 'Deny', 'Log', 'Pass'].map((action) => ({ action })) }) },
    { name: 'action required', doc: rule({ protocol: 'TCP' }), path: 'spec.ingress[0].action', message: 'is required' },
    { name: 'action lower case', doc: rule({ action: 'allow' }), path: 'spec.ingress[0].action', message: '"allow" is not one of Allow, Deny, Log, Pass' },
    { name: 'protocol names', doc: np({ ingress: ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'].map((protocol) => ({ action: 'Allow', protocol })) }) },
    { name: 'protocol number', doc: rule({ action: 'Allow', protocol: 47 }) },
    { name: 'protocol number string', doc: rule({ action: 'Allow', protocol: '132', destination: { ports: [9000] } }) },
    { name: 'protocol 0', doc: rule({ action: 'Allow', protocol: 0 }), path: 'spec.ingress[0].protocol', message: 'protocol number 0 is outside 1..255' },
    { name: 'protocol 256', doc: rule({ action: 'Allow', notProtocol: 256 }), path: 'spec.ingress[0].notProtocol', message: 'outside 1..255' },
    { name: 'protocol case', doc: rule({ action: 'Allow', protocol: 'tcp' }), path: 'spec.ingress[0].protocol', message: 'write "TCP"' },
    {
      name: 'protocol unknown',
      doc: rule({ action: 'Allow', protocol: 'GRE' }),
      path: 'spec.ingress[0].protocol',
      message: 'use TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1..255',
    },
    { name: 'protocol as bool', doc: rule({ action: 'Allow', protocol: true }), path: 'spec.ingress[0].protocol', message: 'expected an integer or a string' },
    { name: 'ipVersion 5', doc: rule({ action: 'Allow', ipVersion: 5 }), path: 'spec.ingress[0].ipVersion', message: '5 is not an IP version: use 4 or 6' },
    {
      name: 'ICMP on v6',
      doc: rule({ action: 'Allow', protocol: 'ICMP', ipVersion: 6 }),
      path: 'spec.ingress[0].ipVersion',
      message: 'protocol ICMP needs ipVersion 4',
    },
    {
      name: 'notProtocol ICMPv6 on v4',
      doc: rule({ action: 'Allow', notProtocol: 'ICMPv6', ipVersion: 4 }),
      path: 'spec.ingress[0].ipVersion',
      message: 'notProtocol ICMPv6 needs ipVersion 6',
    },
    { name: 'ICMP number 1 on v6', doc: rule({ action: 'Allow', protocol: 1, ipVersion: 6 }), path: 'spec.ingress[0].ipVersion', message: 'needs ipVersion 4' },
  ]);
});

test('rules: ports and protocols', () => {
  runTable([
    { name: 'number, range, named', doc: rule({ action: 'Allow', protocol: 'TCP', destination: { ports: [8080, '1234:5678', 'named-port'] } }) },
    { name: 'SCTP ports', doc: rule({ action: 'Allow', protocol: 'SCTP', source: { notPorts: [9] } }) },
    {
      name: 'ports without protocol',
      doc: rule({ action: 'Allow', destination: { ports: [80] } }),
      path: 'spec.ingress[0].destination.ports',
      message: 'need protocol TCP, UDP or SCTP (protocol is not set)',
    },
    {
      name: 'ports with ICMP',
      doc: rule({ action: 'Allow', protocol: 'ICMP', source: { notPorts: [80] } }),
      path: 'spec.ingress[0].source.notPorts',
      message: '(protocol is ICMP)',
    },
    {
      name: 'port 0',
      doc: rule({ action: 'Allow', protocol: 'TCP', destination: { ports: [0] } }),
      path: 'spec.ingress[0].destination.ports[0]',
      message: 'port 0 is outside 1..65535',
    },
    {
      name: 'port 65536',
      doc: rule({ action: 'Allow', protocol: 'TCP', destination: { ports: [65536] } }),
      path: 'spec.ingress[0].destination.ports[0]',
      message: 'outside 1..65535',
    },
    {
      name: 'reversed range',
      doc: rule({ action: 'Allow', protocol: 'TCP', destination: { ports: ['90:80'] } }),
      path: 'spec.ingress[0].destination.ports[0]',
      message: 'is reversed',
    },
    {
      name: 'range past 65535',
      doc: rule({ action: 'Allow', protocol: 'UDP', destination: { ports: ['80:70000'] } }),
      path: 'spec.ingress[0].destination.ports[0]',
      message: 'port 70000 is outside 1..65535',
    },
    {
      name: 'bad named port',
      doc: rule({ action: 'Allow', protocol: 'TCP', destination: { ports: ['Has_Upper'] } }),
      path: 'spec.ingress[0].destination.ports[0]',
      message: 'lower case letters, digits or',
    },
    {
      name: 'named port too long',
      doc: rule({ action: 'Allow', protocol: 'TCP', destination: { ports: ['a-very-long-port-name'] } }),
      path: 'spec.ingress[0].destination.ports[0]',
      message: 'at most 15 characters',
    },
    {
      name: 'named port all digits-dash',
      doc: rule({ action: 'Allow', protocol: 'TCP', destination: { ports: ['80-90'] } }),
      path: 'spec.ingress[0].destination.ports[0]',
      message: 'at least one letter',
    },
    {
      name: 'port float',
      doc: rule({ action: 'Allow', protocol: 'TCP', destination: { ports: [80.5] } }),
      path: 'spec.ingress[0].destination.ports[0]',
      message: 'expected an integer or a string',
    },
  ]);
});

test('rules: ICMP match', () => {
  runTable([
    { name: 'ping', doc: rule({ action: 'Allow', protocol: 'ICMP', icmp: { type: 8, code: 0 } }) },
    { name: 'ICMPv6 type', doc: rule({ action: 'Allow', protocol: 'ICMPv6', icmp: { type: 128 } }) },
    { name: 'notICMP', doc: rule({ action: 'Deny', protocol: 'ICMP', notICMP: { type: 3 } }) },
    {
      name: 'code without type',
      doc: rule({ action: 'Allow', protocol: 'ICMP', icmp: { code: 0 } }),
      path: 'spec.ingress[0].icmp.code',
      message: 'needs an ICMP type',
    },
    {
      name: 'type 255',
      doc: rule({ action: 'Allow', protocol: 'ICMP', icmp: { type: 255 } }),
      path: 'spec.ingress[0].icmp.type',
      message: '255 is outside 0..254',
    },
    {
      name: 'code 256',
      doc: rule({ action: 'Allow', protocol: 'ICMP', icmp: { type: 3, code: 256 } }),
      path: 'spec.ingress[0].icmp.code',
      message: 'outside 0..255',
    },
    { name: 'icmp without protocol', doc: rule({ action: 'Allow', icmp: { type: 8 } }), path: 'spec.ingress[0].icmp', message: 'need protocol ICMP or ICMPv6' },
    {
      name: 'icmp with TCP',
      doc: rule({ action: 'Allow', protocol: 'TCP', icmp: { type: 8 } }),
      path: 'spec.ingress[0].icmp',
      message: 'need protocol ICMP or ICMPv6',
    },
    {
      name: 'icmp unknown field',
      doc: rule({ action: 'Allow', protocol: 'ICMP', icmp: { typ: 8 } }),
      path: 'spec.ingress[0].icmp.typ',
      message: 'did you mean "type"',
    },
  ]);
});

test('rules: nets', () => {
  runTable([
    { name: 'v4 nets', doc: rule({ action: 'Allow', source: { nets: ['10.0.0.0/8', '192.168.1.1/32'], notNets: ['10.1.0.0/16'] } }) },
    { name: 'v6 nets', doc: rule({ action: 'Allow', ipVersion: 6, destination: { nets: ['fd00::/8'] } }) },
    {
      name: 'host bits',
      doc: rule({ action: 'Allow', source: { nets: ['10.0.0.1/8'] } }),
      path: 'spec.ingress[0].source.nets[0]',
      message: 'has host bits set: use 10.0.0.0/8',
    },
    {
      name: 'bare address',
      doc: rule({ action: 'Allow', source: { nets: ['10.0.0.1'] } }),
      path: 'spec.ingress[0].source.nets[0]',
      message: 'write 10.0.0.1/32',
    },
    {
      name: 'garbage',
      doc: rule({ action: 'Allow', destination: { notNets: ['ten/8'] } }),
      path: 'spec.ingress[0].destination.notNets[0]',
      message: 'is not a CIDR',
    },
    {
      name: 'version mismatch',
      doc: rule({ action: 'Allow', ipVersion: 6, source: { nets: ['10.0.0.0/8'] } }),
      path: 'spec.ingress[0].source.nets[0]',
      message: "rule's ipVersion is 6",
    },
    {
      name: 'mixed in one field',
      doc: rule({ action: 'Allow', source: { nets: ['10.0.0.0/8', 'fd00::/8'] } }),
      path: 'spec.ingress[0].source.nets',
      message: 'mixes IPv4 and IPv6',
    },
    {
      name: 'mixed across fields',
      doc: rule({ action: 'Allow', source: { nets: ['10.0.0.0/8'] }, destination: { nets: ['fd00::/8'] } }),
      path: 'spec.ingress[0].destination.nets',
      message: 'mixes IPv4 and IPv6',
    },
    {
      name: 'nets not a list',
      doc: rule({ action: 'Allow', source: { nets: '10.0.0.0/8' } }),
      path: 'spec.ingress[0].source.nets',
      message: 'expected a list',
    },
  ]);
});

test('rules: selectors and global()', () => {
  runTable([
    { name: 'rule selectors', doc: rule({ action: 'Allow', source: { selector: "app == 'web'", notSelector: 'has(canary)', namespaceSelector: 'all()' } }) },
    { name: 'global namespaceSelector', doc: rule({ action: 'Allow', source: { namespaceSelector: 'global()', selector: "role == 'x'" } }) },
    { name: 'global with spaces', doc: rule({ action: 'Allow', source: { namespaceSelector: ' global() ' } }) },
    {
      name: 'global combined',
      doc: rule({ action: 'Allow', source: { namespaceSelector: "global() && a == 'b'" } }),
      path: 'spec.ingress[0].source.namespaceSelector',
      message: 'cannot be combined',
    },
    {
      name: 'global in selector',
      doc: rule({ action: 'Allow', destination: { selector: 'global()' } }),
      path: 'spec.ingress[0].destination.selector',
      message: 'only be used in a namespaceSelector',
    },
    {
      name: 'bad rule selector',
      doc: rule({ action: 'Allow', source: { selector: 'a in {' } }),
      path: 'spec.ingress[0].source.selector',
      message: 'invalid selector',
    },
    {
      name: 'bad notSelector',
      doc: rule({ action: 'Allow', source: { notSelector: '!!' } }),
      path: 'spec.ingress[0].source.notSelector',
      message: 'invalid selector',
    },
    { name: 'service accounts', doc: rule({ action: 'Allow', source: { serviceAccounts: { names: ['api'], selector: "team == 'a'" } } }) },
    {
      name: 'bad SA selector',
      doc: rule({ action: 'Allow', source: { serviceAccounts: { selector: '==' } } }),
      path: 'spec.ingress[0].source.serviceAccounts.selector',
      message: 'invalid selector',
    },
  ]);
});

test('rules: Kubernetes service matches', () => {
  const svc = { name: 'kubernetes', namespace: 'default' };
  runTable([
    { name: 'egress to service', doc: egressRule({ action: 'Allow', destination: { services: svc } }) },
    { name: 'ingress from service ports', doc: rule({ action: 'Allow', protocol: 'TCP', source: { services: svc }, destination: { ports: [443] } }) },
    {
      name: 'service without name',
      doc: egressRule({ action: 'Allow', destination: { services: { namespace: 'x' } } }),
      path: 'spec.egress[0].destination.services.name',
      message: 'is required',
    },
    {
      name: 'service + selector',
      doc: egressRule({ action: 'Allow', destination: { services: svc, selector: 'all()' } }),
      path: 'spec.egress[0].destination.services',
      message: 'cannot be combined with selector',
    },
    {
      name: 'service + nets',
      doc: egressRule({ action: 'Allow', destination: { services: svc, nets: ['10.0.0.0/8'] } }),
      path: 'spec.egress[0].destination.services',
      message: 'nets or notNets',
    },
    {
      name: 'service + namespaceSelector',
      doc: egressRule({ action: 'Allow', destination: { services: svc, namespaceSelector: 'all()' } }),
      path: 'spec.egress[0].destination.services',
      message: 'namespaceSelector',
    },
    {
      name: 'service + SA',
      doc: egressRule({ action: 'Allow', destination: { services: svc, serviceAccounts: { names: ['a'] } } }),
      path: 'spec.egress[0].destination.services',
      message: 'serviceAccounts',
    },
    {
      name: 'destination service + ports',
      doc: egressRule({ action: 'Allow', protocol: 'TCP', destination: { services: svc, ports: [443] } }),
      path: 'spec.egress[0].destination.ports',
      message: "service's own ports",
    },
    {
      name: 'egress source service',
      doc: egressRule({ action: 'Allow', source: { services: svc } }),
      path: 'spec.egress[0].source.services',
      message: 'not allowed in the source of an egress rule',
    },
    {
      name: 'ingress destination service',
      doc: rule({ action: 'Allow', destination: { services: svc } }),
      path: 'spec.ingress[0].destination.services',
      message: 'not allowed in the destination of an ingress rule',
    },
    {
      name: 'gnp service without namespace',
      doc: gnp({ egress: [{ action: 'Allow', destination: { services: { name: 'kubernetes' } } }] }),
      path: 'spec.egress[0].destination.services.namespace',
      message: 'is required in a GlobalNetworkPolicy',
    },
    {
      name: 'bad service name',
      doc: egressRule({ action: 'Allow', destination: { services: { name: 'Bad_Name' } } }),
      path: 'spec.egress[0].destination.services.name',
      message: 'lower case',
    },
  ]);
});

test('rules: HTTP match', () => {
  const http = { methods: ['GET', 'PUT'], paths: [{ exact: '/health' }, { prefix: '/api/' }] };
  runTable([
    { name: 'ingress http', doc: rule({ action: 'Allow', http }) },
    { name: 'http with TCP', doc: rule({ action: 'Allow', protocol: 'TCP', http }) },
    { name: 'http on Deny', doc: rule({ action: 'Deny', http }), path: 'spec.ingress[0].http', message: 'only valid on Allow rules' },
    { name: 'http with UDP', doc: rule({ action: 'Allow', protocol: 'UDP', http }), path: 'spec.ingress[0].protocol', message: 'must use protocol TCP' },
    { name: 'http on egress', doc: egressRule({ action: 'Allow', http }), path: 'spec.egress[0].http', message: 'not allowed in egress rules' },
    {
      name: 'duplicate method',
      doc: rule({ action: 'Allow', http: { methods: ['GET', 'GET'] } }),
      path: 'spec.ingress[0].http.methods[1]',
      message: 'duplicate entry "GET"',
    },
    {
      name: 'exact and prefix',
      doc: rule({ action: 'Allow', http: { paths: [{ exact: '/a', prefix: '/b' }] } }),
      path: 'spec.ingress[0].http.paths[0]',
      message: 'not both',
    },
    { name: 'empty path', doc: rule({ action: 'Allow', http: { paths: [{}] } }), path: 'spec.ingress[0].http.paths[0]', message: 'set exact or prefix' },
    {
      name: 'path without slash',
      doc: rule({ action: 'Allow', http: { paths: [{ prefix: 'api' }] } }),
      path: 'spec.ingress[0].http.paths[0]',
      message: 'must start with "/"',
    },
    {
      name: 'path with query',
      doc: rule({ action: 'Allow', http: { paths: [{ exact: '/a?b=1' }] } }),
      path: 'spec.ingress[0].http.paths[0]',
      message: 'not contain "?"',
    },
  ]);
});

test('rules: metadata annotations', () => {
  runTable([
    { name: 'annotations', doc: rule({ action: 'Allow', metadata: { annotations: { owner: 'devops', 'example.com/ticket': 'NET-1' } } }) },
    {
      name: 'bad annotation key',
      doc: rule({ action: 'Allow', metadata: { annotations: { 'a/b/c': 'x' } } }),
      path: 'spec.ingress[0].metadata.annotations["a/b/c"]',
      message: 'optional DNS subdomain prefix',
    },
    {
      name: 'rule metadata unknown',
      doc: rule({ action: 'Allow', metadata: { labels: {} } }),
      path: 'spec.ingress[0].metadata.labels',
      message: 'unknown field',
    },
  ]);
});

test('Profile: rules and labelsToApply', () => {
  const profile = (spec: unknown) => doc('Profile', spec, 'kns.prod');
  runTable([
    { name: 'rules', doc: profile({ ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [80] } }], egress: [{ action: 'Allow' }] }) },
    { name: 'profile egress http is not policy-restricted', doc: profile({ egress: [{ action: 'Allow', http: { methods: ['GET'] } }] }) },
    { name: 'labels', doc: profile({ labelsToApply: { 'projectcalico.org/name': 'prod' } }) },
    { name: 'bad label value', doc: profile({ labelsToApply: { stage: 'dev elopment' } }), path: 'spec.labelsToApply.stage', message: 'label value' },
    {
      name: 'bad rule',
      doc: profile({ egress: [{ action: 'Allow', destination: { ports: [80] } }] }),
      path: 'spec.egress[0].destination.ports',
      message: 'need protocol TCP, UDP or SCTP',
    },
    { name: 'profile has no selector', doc: profile({ selector: 'all()' }), path: 'spec.selector', message: 'unknown field' },
  ]);
});

test('a policy with many problems reports each of them, schema and rules alike', () => {
  const d = {
    ...np(
      {
        order: 'first',
        selector: "app = 'web'",
        types: ['Ingress', 'Sideways'],
        ingress: [null, { action: 'Allow', protocol: 'TCP', source: { nets: ['10.0.0.1/8'] }, destination: { ports: ['90:80'], services: { name: 'x' } } }],
        egress: [{ action: 'Deny', http: { methods: ['GET'] }, icmp: { code: 3 } }],
      },
      'Allow_Web',
    ),
  };
  const paths = new Set(expectIssue(d, 'metadata.name', 'is not a policy name').map((i) => i.path));
  for (const p of [
    'spec.order',
    'spec.selector',
    'spec.types[1]',
    'spec.ingress[0]',
    'spec.ingress[1].source.nets[0]',
    'spec.ingress[1].destination.ports[0]',
    'spec.ingress[1].destination.services',
    'spec.egress[0].icmp.code',
    'spec.egress[0].icmp',
    'spec.egress[0].http',
  ]) {
    assert.ok(paths.has(p), `missing ${p}`);
  }
});

test('every tiered policy kind carries the projectcalico.org/tier label, set from spec.tier', () => {
  const np = expectValid(doc('NetworkPolicy', {}, 'allow-dns', 'prod'));
  assert.deepEqual(np.metadata.labels, { 'projectcalico.org/tier': 'default' });
  const gnp = expectValid({
    ...doc('GlobalNetworkPolicy', { tier: 'security' }, 'security.deny'),
    metadata: { name: 'security.deny', labels: { 'projectcalico.org/tier': 'other', app: 'x' } },
  });
  assert.deepEqual(gnp.metadata.labels, { 'projectcalico.org/tier': 'security', app: 'x' }, "a user's tier label is replaced");
  for (const kind of ['StagedNetworkPolicy', 'StagedGlobalNetworkPolicy']) {
    const staged = expectValid(doc(kind, { tier: 'platform' }, 'platform.x', kind === 'StagedNetworkPolicy' ? 'prod' : undefined));
    assert.equal(staged.metadata.labels['projectcalico.org/tier'], 'platform', kind);
  }
  const del = expectValid(doc('StagedGlobalNetworkPolicy', { stagedAction: 'Delete' }, 'old'));
  assert.equal(del.metadata.labels['projectcalico.org/tier'], 'default');
  assert.equal(expectValid(doc('StagedKubernetesNetworkPolicy', {}, 'k', 'prod')).metadata.labels, undefined, 'not a tiered kind');
});

test('a policy in tier default named default.x keeps its name and round-trips', () => {
  const first = expectValid(doc('NetworkPolicy', { tier: 'default' }, 'default.x', 'prod'));
  assert.equal(first.metadata.name, 'default.x');
  assert.deepEqual(expectValid(first), first, 'defaulting the stored form changes nothing');
  const g = expectValid(doc('GlobalNetworkPolicy', {}, 'default.x'));
  assert.equal(g.metadata.name, 'default.x');
  assert.equal(g.spec.tier, 'default');
});

test('named ports need no protocol; numeric ports and ranges do', () => {
  const withPorts = (dst: unknown, protocol?: string) =>
    doc('NetworkPolicy', { ingress: [{ action: 'Allow', ...(protocol ? { protocol } : {}), destination: dst }] }, 'p', 'ns1');
  runTable([
    { name: 'named port', doc: withPorts({ ports: ['http'] }) },
    { name: 'named notPort', doc: withPorts({ notPorts: ['metrics', 'debug'] }) },
    {
      name: 'numeric without protocol',
      doc: withPorts({ ports: ['http', 80] }),
      path: 'spec.ingress[0].destination.ports',
      message: 'numeric ports need protocol TCP, UDP or SCTP (protocol is not set)',
    },
    {
      name: 'range without protocol',
      doc: withPorts({ notPorts: ['8000:8080'] }),
      path: 'spec.ingress[0].destination.notPorts',
      message: 'numeric notPorts need protocol',
    },
    {
      name: 'named with ICMP',
      doc: withPorts({ ports: ['http'] }, 'ICMP'),
      path: 'spec.ingress[0].destination.ports',
      message: 'ports need protocol TCP, UDP or SCTP (protocol is ICMP)',
    },
  ]);
});

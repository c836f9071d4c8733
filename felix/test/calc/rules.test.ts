/**
 * Rules as the dataplane receives them, and the IP sets behind their selectors: namespace and
 * service-account matching, global(), named ports, negations, nets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseSelector } from '@cattail/api';
import { namedPortSet, parseRules } from '../../src/calc/rule-parser.js';
import type { Rule } from '../../src/proto/messages.js';
import { del, gnetset, gnp, harness, hep, namespace, netset, np, serviceAccount, setId, update, wep } from './harness.js';

test('a rule with every field converts field by field', () => {
  const sets = new Map();
  const [rule] = parseRules(
    [
      {
        action: 'Pass',
        ipVersion: 4,
        protocol: 'TCP',
        notProtocol: 'UDP',
        icmp: { type: 8, code: 0 },
        notICMP: { type: 3 },
        source: {
          nets: ['10.1.2.3/16', '10.9.9.9'],
          notNets: ['10.1.5.0/24'],
          ports: [1234, '2000:3000'],
          notPorts: [22],
          selector: "app == 'a'",
          notSelector: "role == 'x'",
        },
        destination: { nets: ['192.168.0.0/16'], notNets: ['192.168.7.7/32'], ports: ['http', 443], notPorts: ['metrics'], notSelector: 'has(quarantine)' },
        metadata: { annotations: { owner: 'team-a' } },
      },
    ],
    'ns',
    sets,
  );
  const src = "((projectcalico.org/namespace == 'ns') && (app == 'a')) && (!(role == 'x'))";
  // In a NetworkPolicy a notSelector alone still scopes to the namespace (positively), and
  // the negation folds into that: Calico's getEndpointSelector + combineMatchesIfPossible.
  const dst = "(projectcalico.org/namespace == 'ns') && (!(has(quarantine)))";
  const dstSel = parseSelector(dst);
  const expected: Rule = {
    action: 'Pass',
    position: 0,
    ipVersion: 4,
    protocol: 'tcp',
    notProtocol: 'udp',
    // The positive selector folds the notSelector in: one set instead of two.
    srcNets: ['10.1.0.0/16', '10.9.9.9/32'],
    srcPorts: [
      { first: 1234, last: 1234 },
      { first: 2000, last: 3000 },
    ],
    srcIpSetIds: [setId(src)],
    notSrcNets: ['10.1.5.0/24'],
    notSrcPorts: [{ first: 22, last: 22 }],
    dstNets: ['192.168.0.0/16'],
    dstPorts: [{ first: 443, last: 443 }],
    dstNamedPortIpSetIds: [namedPortSet(dstSel, 'http', 'tcp').id],
    dstIpSetIds: [setId(dst)],
    notDstNets: ['192.168.7.7/32'],
    notDstNamedPortIpSetIds: [namedPortSet(dstSel, 'metrics', 'tcp').id],
    icmp: { type: 8, code: 0 },
    notIcmp: { type: 3 },
    annotations: { owner: 'team-a' },
  };
  assert.deepEqual(rule, expected);
  assert.deepEqual([...sets.keys()].sort(), [setId(src), setId(dst), namedPortSet(dstSel, 'http', 'tcp').id, namedPortSet(dstSel, 'metrics', 'tcp').id].sort());

  // Without any positive selector (a global policy) the negation stays a set of its own: it
  // must also match addresses that belong to no endpoint.
  const [global] = parseRules([{ action: 'Deny', destination: { notSelector: 'has(quarantine)' } }], '', new Map());
  assert.deepEqual(global, { action: 'Deny', position: 0, notDstIpSetIds: [setId('has(quarantine)')] });
});

test("IP set ids are Calico's: s: and n: prefixed SHA-224, base64url", () => {
  assert.equal(setId('all()'), 's:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug');
  const sel = parseSelector("app == 'db'");
  const hash = (s: string) => createHash('sha224').update(s).digest('base64url');
  assert.equal(sel.uniqueId(), `s:${hash(`s:${sel.toString()}`)}`);
  assert.equal(namedPortSet(sel, 'pg', 'tcp').id, `n:${hash(`n:${sel.uniqueId()},tcp,pg`)}`);
  assert.notEqual(namedPortSet(sel, 'pg', 'udp').id, namedPortSet(sel, 'pg', 'tcp').id);
  assert.equal(namedPortSet(sel, 'pg', 'tcp').type, 'ip-port');
});

test('ports: named ports alone need no selector set; with numeric ports both are kept', () => {
  const sets = new Map();
  const rules = parseRules(
    [
      { action: 'Allow', protocol: 'UDP', destination: { selector: "app == 'dns'", ports: ['dns'] } },
      { action: 'Allow', protocol: 'SCTP', destination: { selector: "app == 'dns'", ports: ['dns', 53] } },
      { action: 'Allow', protocol: 6, destination: { ports: ['web'] } },
    ],
    '',
    sets,
  );
  const dns = parseSelector("app == 'dns'");
  assert.deepEqual(rules[0], { action: 'Allow', position: 0, protocol: 'udp', dstNamedPortIpSetIds: [namedPortSet(dns, 'dns', 'udp').id] });
  assert.deepEqual(rules[1], {
    action: 'Allow',
    position: 1,
    protocol: 'sctp',
    dstPorts: [{ first: 53, last: 53 }],
    dstNamedPortIpSetIds: [namedPortSet(dns, 'dns', 'sctp').id],
    dstIpSetIds: [dns.uniqueId()],
  });
  assert.deepEqual(rules[2], { action: 'Allow', position: 2, protocol: 6, dstNamedPortIpSetIds: [namedPortSet(parseSelector('all()'), 'web', 'tcp').id] });
});

test("Kubernetes Service matches become Calico's service IP sets (empty while no Service is synced)", () => {
  const h = harness();
  h.start([
    namespace('app'),
    wep('app', 'client', { ips: ['10.0.0.1'] }),
    np('app', 'svc', {
      types: ['Ingress', 'Egress'],
      egress: [{ action: 'Allow', protocol: 'UDP', destination: { services: { name: 'kube-dns', namespace: 'kube-system' } } }],
      ingress: [{ action: 'Allow', source: { services: { name: 'frontend' } } }],
    }),
  ]);
  const hash = (prefix: string, s: string) => `${prefix}:${createHash('sha224').update(`${prefix}:${s}`).digest('base64url')}`;
  const p = h.dp.policies.get('app/svc')!.policy;
  assert.deepEqual(p.outboundRules, [{ action: 'Allow', position: 0, protocol: 'udp', dstIpPortSetIds: [hash('svc', 'kube-system/kube-dns')] }]);
  // A NetworkPolicy's service without a namespace is in the policy's namespace.
  assert.deepEqual(p.inboundRules, [{ action: 'Allow', position: 0, srcIpSetIds: [hash('svcnoport', 'app/frontend')] }]);
  assert.deepEqual(h.dp.ipSets.get(hash('svc', 'kube-system/kube-dns')), { type: 'ip-port', members: new Set() });
  assert.deepEqual(h.dp.ipSets.get(hash('svcnoport', 'app/frontend')), { type: 'net', members: new Set() });
});

/** The members of the IP set the first rule's side uses. */
function sideMembers(
  h: ReturnType<typeof harness>,
  policy: string,
  field: 'srcIpSetIds' | 'dstIpSetIds' | 'dstNamedPortIpSetIds' | 'notSrcIpSetIds',
  dir: 'in' | 'out' = 'in',
  index = 0,
): string[] {
  const p = h.dp.policies.get(policy);
  assert.ok(p, `policy ${policy} is active`);
  const rule = (dir === 'in' ? p.policy.inboundRules : p.policy.outboundRules)[index];
  const id = rule[field]?.[0];
  assert.ok(id, `rule ${index} of ${policy} has ${field}`);
  return h.dp.members(id);
}

test('rule selectors over the whole cluster: namespaces, service accounts, global(), network sets', () => {
  const h = harness();
  h.start([
    namespace('prod', { env: 'prod' }),
    namespace('dev', { env: 'dev' }),
    serviceAccount('prod', 'api', { role: 'backend' }),
    // The local endpoint every policy applies to.
    wep('prod', 'local', { ips: ['10.0.0.1'], labels: { app: 'web' } }),
    wep('prod', 'db-1', { node: 'node-2', ips: ['10.0.1.1', 'fd00::1:1'], labels: { app: 'db' } }),
    wep('prod', 'api-1', { node: 'node-3', ips: ['10.0.2.1'], labels: { app: 'api' }, sa: 'api', profiles: ['kns.prod', 'ksa.prod.api'] }),
    wep('dev', 'db-2', { node: 'node-2', ips: ['10.0.1.2'], labels: { app: 'db' } }),
    wep('dev', 'api-2', { node: 'node-3', ips: ['10.0.2.2'], labels: { app: 'api' }, sa: 'api' }),
    hep('node-2-eth0', { node: 'node-2', ips: ['192.168.0.2'], labels: { app: 'db' } }),
    netset('prod', 'partners', ['203.0.113.0/24'], { app: 'db' }),
    gnetset('external', ['198.51.100.0/24', '0.0.0.0/0'], { app: 'db' }),
    // Every rule below is ingress from the side named.
    np('prod', 'np', {
      selector: "app == 'web'",
      ingress: [
        { action: 'Allow', source: { selector: "app == 'db'" } },
        { action: 'Allow', source: { namespaceSelector: "env == 'dev'", selector: "app == 'db'" } },
        { action: 'Allow', source: { serviceAccounts: { names: ['api'] } } },
        { action: 'Allow', source: { serviceAccounts: { selector: "role == 'backend'" } } },
        { action: 'Allow', source: { notSelector: "app == 'db'" } },
      ],
    }),
    gnp('gnp', {
      selector: "app == 'web'",
      ingress: [
        { action: 'Allow', source: { selector: "app == 'db'" } },
        { action: 'Allow', source: { namespaceSelector: 'all()', selector: "app == 'db'" } },
        { action: 'Allow', source: { namespaceSelector: 'global()', selector: "app == 'db'" } },
        { action: 'Allow', source: { namespaceSelector: "env == 'prod'" } },
        { action: 'Deny', source: { namespaceSelector: "pcns.projectcalico.org/name == 'nope' || projectcalico.org/name == 'dev'" } },
      ],
    }),
  ]);
  const prodDb = ['10.0.1.1/32', '203.0.113.0/24', 'fd00::1:1/128'];
  // NetworkPolicy: implicitly its own namespace.
  assert.deepEqual(sideMembers(h, 'prod/np', 'srcIpSetIds', 'in', 0), prodDb);
  assert.deepEqual(sideMembers(h, 'prod/np', 'srcIpSetIds', 'in', 1), ['10.0.1.2/32']);
  assert.deepEqual(sideMembers(h, 'prod/np', 'srcIpSetIds', 'in', 2), ['10.0.2.1/32']);
  assert.deepEqual(sideMembers(h, 'prod/np', 'srcIpSetIds', 'in', 3), ['10.0.2.1/32']);
  // notSelector alone: the namespace scope is the positive part, the negation folds into it.
  const notRule = h.dp.policies.get('prod/np')!.policy.inboundRules[4];
  assert.deepEqual(notRule.srcIpSetIds, [setId("(projectcalico.org/namespace == 'prod') && (!(app == 'db'))")]);
  assert.equal(notRule.notSrcIpSetIds, undefined);
  assert.deepEqual(sideMembers(h, 'prod/np', 'srcIpSetIds', 'in', 4), ['10.0.0.1/32', '10.0.2.1/32']);
  // GlobalNetworkPolicy: every namespace, host endpoints, global network sets.
  const allDb = ['0.0.0.0/1', '10.0.1.1/32', '10.0.1.2/32', '128.0.0.0/1', '192.168.0.2/32', '198.51.100.0/24', '203.0.113.0/24', 'fd00::1:1/128'];
  assert.deepEqual(sideMembers(h, 'gnp', 'srcIpSetIds', 'in', 0), allDb);
  assert.deepEqual(sideMembers(h, 'gnp', 'srcIpSetIds', 'in', 1), ['10.0.1.1/32', '10.0.1.2/32', '203.0.113.0/24', 'fd00::1:1/128']);
  assert.deepEqual(sideMembers(h, 'gnp', 'srcIpSetIds', 'in', 2), ['0.0.0.0/1', '128.0.0.0/1', '192.168.0.2/32', '198.51.100.0/24']);
  assert.deepEqual(sideMembers(h, 'gnp', 'srcIpSetIds', 'in', 3), ['10.0.0.1/32', '10.0.1.1/32', '10.0.2.1/32', '203.0.113.0/24', 'fd00::1:1/128']);
  assert.deepEqual(sideMembers(h, 'gnp', 'srcIpSetIds', 'in', 4), ['10.0.1.2/32', '10.0.2.2/32']);
  // A global policy's plain selector is the set Calico would name for it.
  assert.equal(h.dp.policies.get('gnp')!.policy.inboundRules[0].srcIpSetIds![0], setId("app == 'db'"));
  assert.equal(h.dp.ipSets.get(setId("app == 'db'"))!.type, 'net');
});

test('named ports resolve per endpoint, protocol and address', () => {
  const h = harness();
  h.start([
    namespace('ns'),
    wep('ns', 'client', { ips: ['10.0.0.1'], labels: { app: 'client' } }),
    wep('ns', 'srv-1', {
      node: 'node-2',
      ips: ['10.0.1.1', 'fd00::1'],
      labels: { app: 'srv' },
      ports: [
        { name: 'http', protocol: 'TCP', port: 8080 },
        { name: 'dns', protocol: 'UDP', port: 53 },
      ],
    }),
    wep('ns', 'srv-2', {
      node: 'node-2',
      ips: ['10.0.1.2'],
      labels: { app: 'srv' },
      ports: [
        { name: 'http', protocol: 'TCP', port: 9090 },
        { name: 'http', protocol: 'UDP', port: 9091 },
      ],
    }),
    wep('ns', 'other', { node: 'node-2', ips: ['10.0.1.3'], labels: { app: 'other' }, ports: [{ name: 'http', protocol: 'TCP', port: 80 }] }),
    np('ns', 'out', {
      selector: "app == 'client'",
      types: ['Egress'],
      egress: [
        { action: 'Allow', protocol: 'TCP', destination: { selector: "app == 'srv'", ports: ['http'] } },
        { action: 'Allow', protocol: 'UDP', destination: { selector: "app == 'srv'", ports: ['http', 'dns'] } },
        { action: 'Allow', protocol: 'TCP', destination: { ports: ['http'] } },
      ],
    }),
  ]);
  const rules = h.dp.policies.get('ns/out')!.policy.outboundRules;
  const m = (r: number, i = 0) => h.dp.members(rules[r].dstNamedPortIpSetIds![i]);
  assert.deepEqual(m(0), ['10.0.1.1,tcp:8080', '10.0.1.2,tcp:9090', 'fd00::1,tcp:8080']);
  assert.deepEqual(m(1, 0), ['10.0.1.2,udp:9091']);
  assert.deepEqual(m(1, 1), ['10.0.1.1,udp:53', 'fd00::1,udp:53']);
  // No selector at all: Calico does not scope a bare named port to the namespace.
  assert.deepEqual(m(2), ['10.0.1.1,tcp:8080', '10.0.1.2,tcp:9090', '10.0.1.3,tcp:80', 'fd00::1,tcp:8080']);
  assert.equal(h.dp.ipSets.get(rules[0].dstNamedPortIpSetIds![0])!.type, 'ip-port');
  assert.equal(rules[0].dstIpSetIds, undefined);

  // A port renumbered on one endpoint moves only its member.
  const msgs = h.apply([
    wep('ns', 'srv-2', { node: 'node-2', ips: ['10.0.1.2'], labels: { app: 'srv' }, ports: [{ name: 'http', protocol: 'TCP', port: 9999 }] }),
  ]);
  const deltas = new Map(msgs.flatMap((x) => (x.kind === 'IPSetDeltaUpdate' ? [[x.id, [x.added, x.removed]] as const] : [])));
  const id = (r: number, i = 0) => rules[r].dstNamedPortIpSetIds![i];
  assert.deepEqual(deltas.get(id(0)), [['10.0.1.2,tcp:9999'], ['10.0.1.2,tcp:9090']]);
  assert.deepEqual(deltas.get(id(1, 0)), [[], ['10.0.1.2,udp:9091']]);
  assert.deepEqual(deltas.get(id(2)), [['10.0.1.2,tcp:9999'], ['10.0.1.2,tcp:9090']]);
  assert.equal(deltas.size, 3);
});

test('service sets follow the Service and its EndpointSlices: cluster IP and endpoints with ports for a destination, endpoint addresses for a source', () => {
  const hash = (prefix: string, s: string) => `${prefix}:${createHash('sha224').update(`${prefix}:${s}`).digest('base64url')}`;
  const DST = hash('svc', 'kube-system/kube-dns');
  const SRC = hash('svcnoport', 'app/frontend');
  const svc = (ns: string, name: string, spec: Record<string, unknown>) => update('KubernetesService', name, spec, undefined, ns);
  const slice = (ns: string, name: string, spec: Record<string, unknown>) => update('KubernetesEndpointSlice', name, spec, undefined, ns);
  const h = harness();
  h.start([
    namespace('app'),
    wep('app', 'client', { ips: ['10.0.0.1'] }),
    svc('kube-system', 'kube-dns', { clusterIPs: ['10.96.0.10'], ports: [{ name: 'dns', protocol: 'UDP', port: 53 }] }),
    slice('kube-system', 'kube-dns-1', {
      serviceName: 'kube-dns',
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.65.0.5'], nodeName: 'node-2', ready: true }],
      ports: [{ name: 'dns', protocol: 'UDP', port: 5353 }],
    }),
    np('app', 'svc', {
      types: ['Ingress', 'Egress'],
      egress: [{ action: 'Allow', protocol: 'UDP', destination: { services: { name: 'kube-dns', namespace: 'kube-system' } } }],
      ingress: [{ action: 'Allow', source: { services: { name: 'frontend' } } }],
    }),
  ]);
  assert.deepEqual(h.dp.members(DST), ['10.65.0.5,udp:5353', '10.96.0.10,udp:53']);
  assert.deepEqual(h.dp.members(SRC), []);

  // A second slice, with a not-ready endpoint (still the Service's pod) and an IPv6 one.
  h.apply([
    slice('kube-system', 'kube-dns-2', {
      serviceName: 'kube-dns',
      addressType: 'IPv6',
      endpoints: [{ addresses: ['fd00:65:0:0::7'], ready: false }],
      ports: [{ protocol: 'UDP', port: 5353 }],
    }),
  ]);
  assert.deepEqual(h.dp.members(DST), ['10.65.0.5,udp:5353', '10.96.0.10,udp:53', 'fd00:65::7,udp:5353']);

  // The source set: only the endpoints' addresses, no ports, no cluster IP.
  h.apply([
    svc('app', 'frontend', { clusterIPs: ['10.96.1.1'], ports: [{ protocol: 'TCP', port: 80 }] }),
    slice('app', 'frontend-x', { serviceName: 'frontend', endpoints: [{ addresses: ['10.65.1.1', '10.65.1.2'] }], ports: [{ protocol: 'TCP', port: 8080 }] }),
  ]);
  assert.deepEqual(h.dp.members(SRC), ['10.65.1.1/32', '10.65.1.2/32']);

  // An endpoint leaves; the Service changes its port; a slice and the Service go.
  h.apply([slice('app', 'frontend-x', { serviceName: 'frontend', endpoints: [{ addresses: ['10.65.1.2'] }], ports: [{ protocol: 'TCP', port: 8080 }] })]);
  assert.deepEqual(h.dp.members(SRC), ['10.65.1.2/32']);
  const moved = h.apply([svc('kube-system', 'kube-dns', { clusterIPs: ['10.96.0.10'], ports: [{ protocol: 'TCP', port: 53 }] })]);
  assert.deepEqual(moved, [{ kind: 'IPSetDeltaUpdate', id: DST, added: ['10.96.0.10,tcp:53'], removed: ['10.96.0.10,udp:53'] }]);
  h.apply([del('KubernetesEndpointSlice', 'kube-dns-1', 'kube-system'), del('KubernetesService', 'kube-dns', 'kube-system')]);
  assert.deepEqual(h.dp.members(DST), ['fd00:65::7,udp:5353']);

  // The rule goes: its sets go with it, and later slice changes send nothing.
  h.apply([np('app', 'svc', { types: ['Ingress'], ingress: [] })]);
  assert.equal(h.dp.ipSets.has(DST), false);
  assert.deepEqual(h.apply([slice('kube-system', 'kube-dns-2', { serviceName: 'kube-dns', endpoints: [{ addresses: ['10.65.9.9'] }] })]), []);
});

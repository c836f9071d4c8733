/**
 * The broad table: which policies apply to which local endpoint, in which tier and order, with
 * which end-of-tier action: Calico's semantics case by case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FelixUpdate } from '../../src/calc/decode-util.js';
import { gnp, harness, hep, namespace, np, serviceAccount, setId, tier, update, wep, type DataplaneState } from './harness.js';

/** Every (policy name → endpoint keys it is listed on, either direction) in the driver's state. */
function appliedTo(dp: DataplaneState): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const eps: Array<[string, { tiers: Array<{ ingressPolicies: Array<{ name: string }>; egressPolicies: Array<{ name: string }> }> }]> = [
    ...dp.workloads,
    ...dp.hostEndpoints,
  ];
  for (const [key, ep] of eps) {
    for (const t of ep.tiers) {
      for (const p of [...t.ingressPolicies, ...t.egressPolicies]) {
        const list = out.get(p.name) ?? [];
        if (!list.includes(key)) list.push(key);
        out.set(p.name, list);
      }
    }
  }
  for (const list of out.values()) list.sort();
  return out;
}

test('policy selectors: every operator, profile-inherited labels, namespace and service account scoping', () => {
  const h = harness();
  const endpoints: FelixUpdate[] = [
    namespace('prod', { env: 'prod', team: 'a' }),
    namespace('dev', { env: 'dev' }),
    serviceAccount('prod', 'api', { role: 'api' }),
    update('Profile', 'shared', { labelsToApply: { color: 'blue' } }),
    wep('prod', 'web', { ips: ['10.0.0.1'], labels: { app: 'web', tier: 'frontend', version: 'v1.2' }, profiles: ['kns.prod', 'shared'] }),
    wep('prod', 'api', { ips: ['10.0.0.2'], labels: { app: 'api', tier: 'backend' }, profiles: ['kns.prod', 'ksa.prod.api'], sa: 'api' }),
    // An endpoint cannot claim another namespace's labels: its own pcns./pcsa. labels are dropped.
    wep('dev', 'web', { ips: ['10.0.0.3'], labels: { app: 'web', 'pcns.env': 'prod', 'pcsa.role': 'api' } }),
    // Own labels shadow inherited ones.
    wep('dev', 'db', { ips: ['10.0.0.4'], labels: { app: 'db', color: 'red' }, profiles: ['kns.dev', 'shared'] }),
    hep('eth0', { ips: ['192.168.1.1'], iface: 'eth0', labels: { host: 'yes', app: 'node' } }),
    // Not on this node: never gets policy.
    wep('prod', 'remote', { node: 'node-2', ips: ['10.0.1.1'], labels: { app: 'web' } }),
  ];
  const all = ['dev/db', 'dev/web', 'eth0', 'prod/api', 'prod/web'];
  const cases: Array<[spec: Record<string, unknown>, expected: string[], ns?: string]> = [
    [{ selector: "app == 'web'" }, ['dev/web', 'prod/web']],
    [{ selector: "app != 'web'" }, ['dev/db', 'eth0', 'prod/api']],
    [{ selector: "app in {'api', 'db'}" }, ['dev/db', 'prod/api']],
    [{ selector: "app not in {'api', 'db'}" }, ['dev/web', 'eth0', 'prod/web']],
    [{ selector: 'has(tier)' }, ['prod/api', 'prod/web']],
    [{ selector: '!has(tier)' }, ['dev/db', 'dev/web', 'eth0']],
    [{ selector: "version contains '1.'" }, ['prod/web']],
    [{ selector: "app starts with 'w'" }, ['dev/web', 'prod/web']],
    [{ selector: "app ends with 'i'" }, ['prod/api']],
    [{ selector: "app == 'web' && tier == 'frontend'" }, ['prod/web']],
    [{ selector: "app == 'db' || has(host)" }, ['dev/db', 'eth0']],
    [{ selector: "!(app == 'web')" }, ['dev/db', 'eth0', 'prod/api']],
    [{ selector: 'all()' }, all],
    [{}, all],
    [{ selector: "pcns.env == 'prod'" }, ['prod/api', 'prod/web']],
    [{ selector: "pcns.projectcalico.org/name == 'dev'" }, ['dev/db', 'dev/web']],
    [{ selector: "color == 'blue'" }, ['prod/web']],
    [{ selector: "color == 'red'" }, ['dev/db']],
    [{ selector: "projectcalico.org/namespace == 'dev'" }, ['dev/db', 'dev/web']],
    [{ selector: "projectcalico.org/serviceaccount == 'api'" }, ['prod/api']],
    [{ selector: "pcsa.role == 'api'" }, ['prod/api']],
    [{ selector: 'all()', namespaceSelector: "env == 'prod'" }, ['prod/api', 'prod/web']],
    [{ namespaceSelector: 'all()' }, ['dev/db', 'dev/web', 'prod/api', 'prod/web']],
    [{ selector: "app == 'web'", namespaceSelector: "team == 'a'" }, ['prod/web']],
    [{ serviceAccountSelector: "role == 'api'" }, ['prod/api']],
    [{ serviceAccountSelector: 'all()' }, ['prod/api']],
    [{ selector: "app == 'web'", serviceAccountSelector: 'all()' }, []],
    // NetworkPolicies are implicitly scoped to their namespace.
    [{ selector: "app == 'web'" }, ['prod/web'], 'prod'],
    [{}, ['dev/db', 'dev/web'], 'dev'],
    [{ selector: 'all()' }, ['prod/api', 'prod/web'], 'prod'],
    [{ serviceAccountSelector: "role == 'api'" }, ['prod/api'], 'prod'],
    [{ serviceAccountSelector: "role == 'api'" }, [], 'dev'],
    [{ selector: "app == 'web' || has(host)" }, ['dev/web'], 'dev'],
  ];
  const policies = cases.map(([spec, , ns], i) =>
    ns ? np(ns, `p${i}`, { ...spec, ingress: [{ action: 'Allow' }] }) : gnp(`p${i}`, { ...spec, ingress: [{ action: 'Allow' }] }),
  );
  h.start([...endpoints, ...policies]);
  const applied = appliedTo(h.dp);
  cases.forEach(([spec, expected, ns], i) => {
    assert.deepEqual(applied.get(`p${i}`) ?? [], expected, `${ns ? `NetworkPolicy in ${ns}` : 'GlobalNetworkPolicy'} ${JSON.stringify(spec)}`);
  });
  // Only policies that apply to some local endpoint are sent to the dataplane.
  const active = [...h.dp.policies.keys()].map((k) => k.split('/').pop()!).sort();
  assert.deepEqual(
    active,
    cases
      .map((_, i) => `p${i}`)
      .filter((p) => (applied.get(p) ?? []).length > 0)
      .sort(),
  );
});

interface OrderCase {
  name: string;
  updates: FelixUpdate[];
  /** `tier(action): ingress policies | egress policies` of endpoint ns/ep. */
  tiers: string[];
}

const allow = [{ action: 'Allow' }];
const both = { selector: 'all()', ingress: allow, egress: allow };

const orderCases: OrderCase[] = [
  {
    name: 'policies by order, ties by name, no order last',
    updates: [
      gnp('b', { ...both, order: 10 }),
      gnp('a', { ...both, order: 10 }),
      gnp('c', { ...both, order: 5 }),
      gnp('e', both),
      gnp('d', both),
      gnp('f', { ...both, order: 0.5 }),
    ],
    tiers: ['default(Deny): f,c,a,b,d,e | f,c,a,b,d,e'],
  },
  {
    name: 'equal order: name/namespace/kind (a GlobalNetworkPolicy "x" before NetworkPolicy ns/x)',
    updates: [np('ns', 'x', { ...both, order: 1 }), gnp('x', { ...both, order: 1 }), np('ns', 'w', { ...both, order: 1 })],
    tiers: ['default(Deny): ns/w,x,ns/x | ns/w,x,ns/x'],
  },
  {
    name: 'tiers by order; tiers without order after; Tier-less tiers last; built-ins at their place',
    updates: [
      tier('security', 100, 'Pass'),
      tier('platform', 50),
      tier('unordered'),
      tier('aaa-unordered'),
      gnp('in-default', both),
      gnp('in-security', { ...both, tier: 'security' }),
      gnp('in-platform', { ...both, tier: 'platform' }),
      gnp('in-unordered', { ...both, tier: 'unordered' }),
      gnp('in-aaa', { ...both, tier: 'aaa-unordered' }),
      gnp('in-missing', { ...both, tier: 'missing' }),
      gnp('in-kube-admin', { ...both, tier: 'kube-admin' }),
      gnp('in-kube-baseline', { ...both, tier: 'kube-baseline' }),
    ],
    tiers: [
      'platform(Deny): in-platform | in-platform',
      'security(Pass): in-security | in-security',
      'kube-admin(Pass): in-kube-admin | in-kube-admin',
      'default(Deny): in-default | in-default',
      'kube-baseline(Pass): in-kube-baseline | in-kube-baseline',
      'aaa-unordered(Deny): in-aaa | in-aaa',
      'unordered(Deny): in-unordered | in-unordered',
      'missing(Deny): in-missing | in-missing',
    ],
  },
  {
    name: 'equal tier order: by tier name; a Tier resource can move a built-in tier',
    updates: [tier('b', 7), tier('a', 7), tier('default', 1, 'Pass'), gnp('pb', { ...both, tier: 'b' }), gnp('pa', { ...both, tier: 'a' }), gnp('pd', both)],
    tiers: ['default(Pass): pd | pd', 'a(Deny): pa | pa', 'b(Deny): pb | pb'],
  },
  {
    name: 'a tier whose policies do not select the endpoint is skipped (no end-of-tier deny)',
    updates: [tier('other', 1), gnp('elsewhere', { ...both, tier: 'other', selector: "app == 'nope'" }), gnp('mine', both)],
    tiers: ['default(Deny): mine | mine'],
  },
  {
    name: 'types: ingress-only and egress-only policies are listed only for their direction',
    updates: [
      tier('t', 1),
      gnp('in-only', { selector: 'all()', types: ['Ingress'], ingress: allow, order: 1 }),
      gnp('out-only', { selector: 'all()', types: ['Egress'], egress: allow, order: 2 }),
      gnp('both-types', { selector: 'all()', types: ['Ingress', 'Egress'], order: 3 }),
      gnp('no-types', { selector: 'all()', order: 4 }),
      gnp('egress-in-t', { selector: 'all()', types: ['Egress'], tier: 't' }),
    ],
    // Tier t has no ingress policy: it is skipped for ingress (its list is empty).
    tiers: ['t(Deny):  | egress-in-t', 'default(Deny): in-only,both-types,no-types | out-only,both-types,no-types'],
  },
  {
    name: 'doNotTrack and preDNAT policies never apply to workloads',
    updates: [
      gnp('untracked', { ...both, doNotTrack: true, applyOnForward: true }),
      gnp('prednat', { selector: 'all()', ingress: allow, types: ['Ingress'], preDNAT: true, applyOnForward: true }),
      gnp('normal', both),
    ],
    tiers: ['default(Deny): normal | normal'],
  },
];

test('tiers and policy order (table)', () => {
  for (const c of orderCases) {
    const h = harness();
    h.start([namespace('ns'), wep('ns', 'ep', { ips: ['10.0.0.1'] }), ...c.updates]);
    assert.deepEqual(h.dp.tiers('ns/ep'), c.tiers, c.name);
  }
});

test('a tier order change re-sorts the endpoint; a policy order change too', () => {
  const h = harness();
  h.start([
    namespace('ns'),
    wep('ns', 'ep', { ips: ['10.0.0.1'] }),
    tier('a', 1),
    tier('b', 2),
    gnp('pa', { ...both, tier: 'a' }),
    gnp('pb', { ...both, tier: 'b' }),
    gnp('x', { ...both, order: 1 }),
    gnp('y', { ...both, order: 2 }),
  ]);
  assert.deepEqual(h.dp.tiers('ns/ep'), ['a(Deny): pa | pa', 'b(Deny): pb | pb', 'default(Deny): x,y | x,y']);
  const msgs = h.apply([tier('a', 3, 'Pass')]);
  assert.deepEqual(
    msgs.map((m) => m.kind),
    ['WorkloadEndpointUpdate'],
  );
  assert.deepEqual(h.dp.tiers('ns/ep'), ['b(Deny): pb | pb', 'a(Pass): pa | pa', 'default(Deny): x,y | x,y']);
  h.apply([gnp('x', { ...both, order: 3 })]);
  assert.deepEqual(h.dp.tiers('ns/ep'), ['b(Deny): pb | pb', 'a(Pass): pa | pa', 'default(Deny): y,x | y,x']);
  // Moving a policy to another tier changes its id: the new one is sent before the endpoint
  // uses it, the old one removed after.
  const moved = h.apply([gnp('y', { ...both, order: 2, tier: 'b' })]);
  assert.deepEqual(
    moved.map((m) => m.kind),
    ['ActivePolicyUpdate', 'WorkloadEndpointUpdate', 'ActivePolicyRemove'],
  );
  assert.deepEqual(h.dp.tiers('ns/ep'), ['b(Deny): y,pb | y,pb', 'a(Pass): pa | pa', 'default(Deny): x | x']);
});

test('host endpoints get untracked, preDNAT and forward tiers', () => {
  const h = harness();
  h.start([
    hep('eth0', { iface: 'eth0', ips: ['192.168.0.10'], labels: { role: 'gw' }, profiles: ['host-prof'] }),
    update('Profile', 'host-prof', { ingress: allow }),
    tier('t', 1, 'Deny'),
    gnp('untracked', { ...both, doNotTrack: true, applyOnForward: true, tier: 't' }),
    gnp('prednat', { selector: 'all()', ingress: allow, egress: allow, types: ['Ingress', 'Egress'], preDNAT: true, applyOnForward: true }),
    gnp('forward', { ...both, applyOnForward: true }),
    gnp('plain', both),
    // preDNAT policies only ever act on ingress: an egress-only one leaves its tier empty.
    tier('t2', 2),
    gnp('prednat-egress', { selector: 'all()', egress: allow, types: ['Egress'], preDNAT: true, applyOnForward: true, tier: 't2' }),
  ]);
  const ep = h.dp.hostEndpoints.get('eth0')!;
  const d = (ts: typeof ep.tiers) =>
    ts.map((t) => `${t.name}(${t.defaultAction}): ${t.ingressPolicies.map((p) => p.name)} | ${t.egressPolicies.map((p) => p.name)}`);
  assert.deepEqual(d(ep.tiers), ['default(Deny): forward,plain | forward,plain']);
  assert.deepEqual(d(ep.untrackedTiers), ['t(Pass): untracked | untracked']);
  assert.deepEqual(d(ep.preDnatTiers), ['default(Pass): prednat | ']);
  assert.deepEqual(d(ep.forwardTiers), ['default(Deny): forward | forward']);
  assert.deepEqual(ep.profileIds, ['host-prof']);
  assert.deepEqual({ name: ep.name, v4: ep.expectedIpv4Addrs, v6: ep.expectedIpv6Addrs }, { name: 'eth0', v4: ['192.168.0.10'], v6: [] });
  assert.equal(h.dp.policies.get('untracked')!.policy.untracked, true);
  assert.equal(h.dp.policies.get('prednat')!.policy.preDnat, true);
});

test("profiles come after policies, in the endpoint's order; a missing profile denies everything", () => {
  const h = harness();
  h.start([
    namespace('ns', {}, { ingress: [{ action: 'Allow', source: { selector: "app == 'x'" } }], egress: [{ action: 'Allow' }] }),
    wep('ns', 'ep', { ips: ['10.0.0.1'], profiles: ['kns.ns', 'ksa.ns.default'], sa: 'default' }),
    gnp('p', both),
  ]);
  const ep = h.dp.workloads.get('ns/ep')!;
  assert.deepEqual(ep.profileIds, ['kns.ns', 'ksa.ns.default']);
  assert.deepEqual(h.dp.tiers('ns/ep'), ['default(Deny): p | p']);
  // ksa.ns.default does not exist: Calico's default-drop profile stands in for it.
  assert.deepEqual(h.dp.profiles.get('ksa.ns.default'), { inboundRules: [{ action: 'Deny', position: 0 }], outboundRules: [{ action: 'Deny', position: 0 }] });
  assert.deepEqual(h.dp.profiles.get('kns.ns')!.inboundRules, [{ action: 'Allow', position: 0, srcIpSetIds: [setId("app == 'x'")] }]);
  // The profile appears: its real rules replace the stand-in.
  const msgs = h.apply([serviceAccount('ns', 'default')]);
  assert.deepEqual(
    msgs.map((m) => m.kind),
    ['ActiveProfileUpdate'],
  );
  assert.deepEqual(h.dp.profiles.get('ksa.ns.default'), { inboundRules: [], outboundRules: [] });
});

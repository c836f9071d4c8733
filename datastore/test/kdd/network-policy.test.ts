// Kubernetes NetworkPolicy → Calico NetworkPolicy, pinned to libcalico-go's
// K8sNetworkPolicyToCalico, k8sSelectorToCalico, k8sRuleToCalico, SimplifyPorts (conversion.go)
// and their tests (conversion_test.go); the selector strings are Calico's literal text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '@cattail/api';
import { kdd } from '../../src/index.js';
import { assertConverted, assertFailed } from './helpers.js';

const ORCH = "projectcalico.org/orchestrator == 'k8s'";

function knp(spec: object, meta: object = {}): kdd.K8sNetworkPolicy {
  return { metadata: { name: 'test.policy', namespace: 'default', ...meta }, spec: spec };
}

function policy(spec: Record<string, unknown>, meta: Record<string, unknown> = {}): Resource {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name: 'knp.default.test.policy', namespace: 'default', ...meta },
    spec: { tier: 'default', order: 1000, selector: ORCH, types: ['Ingress'], ...spec },
  };
}

const allow = (source: object, destination: object, protocol?: string) =>
  protocol ? { action: 'Allow', protocol, source, destination } : { action: 'Allow', source, destination };

test("Calico's first case: sorted matchLabels, TCP by default, numeric and named port in one rule", () => {
  const result = kdd.k8sNetworkPolicyToCalico(
    knp(
      {
        podSelector: { matchLabels: { label2: 'value2', label: 'value' } },
        ingress: [{ ports: [{ port: 80 }, { port: 'foo' }], from: [{ podSelector: { matchLabels: { k: 'v', k2: 'v2' } } }] }],
        policyTypes: ['Ingress'],
      },
      { uid: '01020304-0506-4708-890a-0b0c0d0e0f10', resourceVersion: '555', creationTimestamp: '2024-05-01T10:00:00Z' },
    ),
  );
  assertConverted(
    result,
    policy(
      {
        selector: `${ORCH} && label == 'value' && label2 == 'value2'`,
        ingress: [allow({ selector: `${ORCH} && k == 'v' && k2 == 'v2'` }, { ports: [80, 'foo'] }, 'TCP')],
      },
      // ConvertUID on the policy's UID; resourceVersion and creationTimestamp as given.
      { uid: '8040c020-a060-4710-8950-d030b070f008', resourceVersion: '555', creationTimestamp: '2024-05-01T10:00:00Z' },
    ),
  );
});

test("selectors: matchExpressions In, NotIn, Exists, DoesNotExist in Calico's text form", () => {
  const result = kdd.k8sNetworkPolicyToCalico(
    knp({
      podSelector: {
        matchLabels: { app: 'db' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['butter', 'jam'] },
          { key: 'env', operator: 'NotIn', values: ['marmite'] },
          { key: 'toast', operator: 'Exists' },
          { key: 'canary', operator: 'DoesNotExist' },
        ],
      },
    }),
  );
  assertConverted(
    result,
    policy({ selector: `${ORCH} && app == 'db' && tier in { 'butter', 'jam' } && env not in { 'marmite' } && has(toast) && ! has(canary)` }),
  );
});

test('peers: namespaceSelector alone, empty, with a podSelector; ipBlock with except; egress puts the peer in destination', () => {
  const result = kdd.k8sNetworkPolicyToCalico(
    knp({
      podSelector: {},
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { project: 'myproject' } } },
            { namespaceSelector: {} },
            { namespaceSelector: { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, podSelector: { matchLabels: { role: 'frontend' } } },
            { ipBlock: { cidr: '172.17.0.1/16', except: ['172.17.1.0/24', '172.17.2.7/24'] } },
          ],
        },
      ],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/24' } }, { podSelector: { matchLabels: { role: 'db' } } }], ports: [{ protocol: 'TCP', port: 5978 }] }],
      policyTypes: ['Ingress', 'Egress'],
    }),
  );
  assertConverted(
    result,
    policy({
      types: ['Ingress', 'Egress'],
      ingress: [
        // A namespaceSelector peer still carries the orchestrator pod selector (nil podSelector);
        // namespace selectors have no pcns. prefix here (Felix adds it) and {} means all().
        allow({ selector: ORCH, namespaceSelector: "project == 'myproject'" }, {}),
        allow({ selector: ORCH, namespaceSelector: 'all()' }, {}),
        allow({ selector: `${ORCH} && role == 'frontend'`, namespaceSelector: 'has(team)' }, {}),
        // Each CIDR as a network, host bits cleared (cnet.ParseCIDR, IPNet.String()).
        allow({ nets: ['172.17.0.0/16'], notNets: ['172.17.1.0/24', '172.17.2.0/24'] }, {}),
      ],
      egress: [allow({}, { ports: [5978], nets: ['10.0.0.0/24'] }, 'TCP'), allow({}, { ports: [5978], selector: `${ORCH} && role == 'db'` }, 'TCP')],
    }),
  );
});

test('ports: one rule per protocol in sorted order, ranges merged, endPort, "all ports" absorbs listed ports', async (t) => {
  const cases: Array<{ name: string; ports: unknown[]; rules: Array<[string | undefined, unknown[] | undefined]> }> = [
    { name: 'no ports: one rule, no protocol', ports: [], rules: [[undefined, undefined]] },
    { name: 'an empty entry is TCP, every port', ports: [{}], rules: [['TCP', undefined]] },
    { name: 'protocol only: every port of it', ports: [{ protocol: 'UDP' }], rules: [['UDP', undefined]] },
    {
      name: 'protocols sorted: SCTP, TCP, UDP',
      ports: [{ protocol: 'UDP', port: 53 }, { port: 80 }, { protocol: 'SCTP', port: 9 }],
      rules: [
        ['SCTP', [9]],
        ['TCP', [80]],
        ['UDP', [53]],
      ],
    },
    {
      name: 'adjacent and duplicate ports merge (SimplifyPorts)',
      ports: [{ port: 82 }, { port: 80 }, { port: 81 }, { port: 81 }, { port: 9090 }],
      rules: [['TCP', ['80:82', 9090]]],
    },
    { name: 'named ports first, then merged numbers', ports: [{ port: 90 }, { port: 'http' }, { port: 91 }], rules: [['TCP', ['http', '90:91']]] },
    { name: 'a single number is left in place', ports: [{ port: 80 }, { port: 'http' }], rules: [['TCP', [80, 'http']]] },
    { name: 'endPort makes a range', ports: [{ port: 32000, endPort: 32768 }], rules: [['TCP', ['32000:32768']]] },
    { name: 'ranges overlapping numbers merge', ports: [{ port: 100, endPort: 200 }, { port: 150 }, { port: 201 }], rules: [['TCP', ['100:201']]] },
    { name: 'every port absorbs later ports', ports: [{ protocol: 'TCP' }, { port: 80 }], rules: [['TCP', undefined]] },
    { name: 'and earlier ones', ports: [{ port: 80 }, { protocol: 'TCP' }], rules: [['TCP', undefined]] },
    { name: 'a numeric string port is a number', ports: [{ port: '8080' }], rules: [['TCP', [8080]]] },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const result = kdd.k8sNetworkPolicyToCalico(knp({ podSelector: {}, ingress: [{ ports: c.ports }] }));
      const rules = c.rules.map(([protocol, ports]) => allow({}, ports ? { ports } : {}, protocol));
      assertConverted(result, policy({ ingress: rules }));
    });
  }
});

test('policy types: Ingress when none are given; egress rules without Egress stay but warn', async (t) => {
  await t.test('none given, egress rules present (pre-policyTypes policy)', () => {
    const result = kdd.k8sNetworkPolicyToCalico(knp({ podSelector: {}, egress: [{}] }));
    assertConverted(result, policy({ types: ['Ingress'], egress: [allow({}, {})] }), [
      'spec.policyTypes does not include Egress, so its egress rules do not apply (as in Calico)',
    ]);
  });
  await t.test('Egress only: a default-deny egress policy', () => {
    assertConverted(kdd.k8sNetworkPolicyToCalico(knp({ podSelector: {}, policyTypes: ['Egress'] })), policy({ types: ['Egress'] }));
  });
  await t.test('an empty ingress list with Ingress: deny all ingress', () => {
    assertConverted(
      kdd.k8sNetworkPolicyToCalico(knp({ podSelector: { matchLabels: { app: 'db' } }, ingress: [], policyTypes: ['Ingress'] })),
      policy({ selector: `${ORCH} && app == 'db'` }),
    );
  });
  await t.test('an ingress rule with no from and no ports: allow all', () => {
    assertConverted(kdd.k8sNetworkPolicyToCalico(knp({ podSelector: {}, ingress: [{}] })), policy({ ingress: [allow({}, {})] }));
  });
});

test('a rule that cannot be converted is dropped with a warning; the others stay', async (t) => {
  const cases: Array<{ name: string; rule: object; warning: RegExp }> = [
    { name: 'port 0', rule: { ports: [{ port: 0 }] }, warning: /^spec.ingress\[0\] is left out: spec.ingress\[0\].ports\[0\]: port 0 is outside 1..65535$/ },
    { name: 'port above 65535', rule: { ports: [{ port: 70000 }] }, warning: /port 70000 is outside 1..65535/ },
    { name: 'endPort below port', rule: { ports: [{ port: 90, endPort: 80 }] }, warning: /port range 90:80: the port is greater than endPort/ },
    { name: 'unparseable port name', rule: { ports: [{ port: 'no spaces' }] }, warning: /port "no spaces" is neither a number nor a port name/ },
    { name: 'unknown protocol', rule: { ports: [{ protocol: 'ICMP', port: 1 }] }, warning: /protocol "ICMP" is not TCP, UDP or SCTP/ },
    // Calico logs a bad CIDR and leaves the rule without nets (matching everything); we drop it.
    {
      name: 'bad ipBlock CIDR',
      rule: { from: [{ ipBlock: { cidr: '10.0.0.1' } }] },
      warning: /spec.ingress\[0\].from\[0\].ipBlock.cidr "10.0.0.1" is not a CIDR/,
    },
    { name: 'bad except CIDR', rule: { from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['nope'] } }] }, warning: /except\[0\] "nope" is not a CIDR/ },
    // Calico leaves out a term with an unknown operator, widening the peer; we drop the rule.
    {
      name: 'unknown selector operator',
      rule: { from: [{ podSelector: { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] } }] },
      warning: /operator "Gt" is not In, NotIn, Exists or DoesNotExist/,
    },
    {
      name: 'label value that breaks the selector text',
      rule: { from: [{ podSelector: { matchLabels: { a: "x' || has(b" } } }] },
      warning: /does not make a valid Calico selector/,
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const result = kdd.k8sNetworkPolicyToCalico(knp({ podSelector: {}, ingress: [c.rule, { ports: [{ port: 443 }] }] }));
      assert.equal(result.outcome, 'converted', JSON.stringify(result));
      if (result.outcome !== 'converted') return;
      assert.deepEqual(result.resource, policy({ ingress: [allow({}, { ports: [443] }, 'TCP')] }));
      assert.equal(result.warnings.length, 1);
      assert.match(result.warnings[0], c.warning);
    });
  }
});

test('IPv6 ipBlocks in Go form; a converted rule Cattail rejects is left out, not the policy', () => {
  const result = kdd.k8sNetworkPolicyToCalico(
    knp({
      podSelector: {},
      ingress: [
        { from: [{ ipBlock: { cidr: '2001:DB8:0:0::/32', except: ['2001:db8:1::/48'] } }, { ipBlock: { cidr: '10.0.0.0/8', except: ['2001:db8::/32'] } }] },
      ],
    }),
  );
  assertConverted(result, policy({ ingress: [allow({ nets: ['2001:db8::/32'], notNets: ['2001:db8:1::/48'] }, {})] }), [
    'a converted ingress rule is left out: spec.ingress[1].source.notNets: mixes IPv4 and IPv6 CIDRs: a rule matches only one IP version',
  ]);
});

test('a policy whose own podSelector cannot be converted, or without a namespace, fails', () => {
  assertFailed(
    kdd.k8sNetworkPolicyToCalico(knp({ podSelector: { matchExpressions: [{ key: 'a', operator: 'Lt' }] } })),
    /^NetworkPolicy default\/test.policy: spec.podSelector.matchExpressions\[0\].operator "Lt" is not In/,
  );
  assertFailed(kdd.k8sNetworkPolicyToCalico({ metadata: { name: 'p' }, spec: {} }), /metadata.namespace is missing/);
  assertFailed(kdd.k8sNetworkPolicyToCalico(knp({ ingress: 'all' })), /spec.ingress must be a list, not a string/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inNetns, processExec } from '../../src/dataplane/exec.js';
import { FakeClock } from '@cattail/typha/testing';
import { LinuxDataplane } from '../../src/dataplane/linux-dataplane.js';
import type { DataplaneMessage, PolicyId, Rule, TierInfo } from '../../src/proto/messages.js';
import { createNetns, deleteNetns, ping, requireNetnsTools, run, uniquePrefix, wirePod } from '../../src/testing/netns.js';

// The tier walk of the proto module comment, checked with real packets: pod a pings pod b and
// each case programs b's ingress (or a's egress) tiers and profiles, then expects the ping to
// pass or not. This is what the mark scheme in nft-render.ts must get right.

const IP_A = '10.65.0.1';
const IP_B = '10.65.0.2';

interface Case {
  name: string;
  /** Policies by tier/name. */
  policies: Record<string, Rule[]>;
  /** b's ingress tiers: [tier name, defaultAction, policy names]. */
  ingress: Array<[string, 'Deny' | 'Pass', string[]]>;
  /** a's egress tiers. */
  egress?: Array<[string, 'Deny' | 'Pass', string[]]>;
  profileInbound: Rule[];
  allowed: boolean;
}

const allow: Rule = { action: 'Allow', position: 0, protocol: 'icmp' };
const deny: Rule = { action: 'Deny', position: 0, protocol: 'icmp' };
const pass: Rule = { action: 'Pass', position: 0 };
const tcpOnly: Rule = { action: 'Allow', position: 0, protocol: 'tcp' };
const profileAllow: Rule[] = [{ action: 'Allow', position: 0 }];

const CASES: Case[] = [
  { name: 'Allow in the first tier', policies: { p1: [allow] }, ingress: [['t1', 'Deny', ['p1']]], profileInbound: [], allowed: true },
  {
    name: 'Deny in the first tier beats a later allow',
    policies: { p1: [deny], p2: [allow] },
    ingress: [['t1', 'Deny', ['p1', 'p2']]],
    profileInbound: profileAllow,
    allowed: false,
  },
  {
    name: 'Pass skips the rest of the tier; the next tier allows',
    policies: { p1: [pass], p2: [deny], p3: [allow] },
    ingress: [
      ['t1', 'Deny', ['p1', 'p2']],
      ['t2', 'Deny', ['p3']],
    ],
    profileInbound: [],
    allowed: true,
  },
  {
    name: 'Pass then Deny in the next tier',
    policies: { p1: [pass], p3: [deny] },
    ingress: [
      ['t1', 'Deny', ['p1']],
      ['t2', 'Deny', ['p3']],
    ],
    profileInbound: profileAllow,
    allowed: false,
  },
  { name: 'no match, defaultAction Deny', policies: { p1: [tcpOnly] }, ingress: [['t1', 'Deny', ['p1']]], profileInbound: profileAllow, allowed: false },
  {
    name: 'no match, defaultAction Pass reaches the profile',
    policies: { p1: [tcpOnly] },
    ingress: [['t1', 'Pass', ['p1']]],
    profileInbound: profileAllow,
    allowed: true,
  },
  {
    name: 'Log goes on to the next rule',
    policies: {
      p1: [
        { action: 'Log', position: 0 },
        { ...allow, position: 1 },
      ],
    },
    ingress: [['t1', 'Deny', ['p1']]],
    profileInbound: [],
    allowed: true,
  },
  {
    name: 'notSrcNets excludes the sender',
    policies: { p1: [{ action: 'Allow', position: 0, notSrcNets: [`${IP_A}/32`] }] },
    ingress: [['t1', 'Deny', ['p1']]],
    profileInbound: profileAllow,
    allowed: false,
  },
  { name: 'no tiers: profiles decide (allow)', policies: {}, ingress: [], profileInbound: profileAllow, allowed: true },
  { name: 'no tiers, no allowing profile: drop', policies: {}, ingress: [], profileInbound: [], allowed: false },
  {
    name: 'egress Deny of the sender stops it',
    policies: { p1: [allow], e1: [deny] },
    ingress: [['t1', 'Deny', ['p1']]],
    egress: [['t1', 'Deny', ['e1']]],
    profileInbound: [],
    allowed: false,
  },
];

function tiers(spec: Array<[string, 'Deny' | 'Pass', string[]]>, direction: 'in' | 'out'): TierInfo[] {
  return spec.map(([name, defaultAction, policies]) => {
    const ids: PolicyId[] = policies.map((p) => ({ tier: name, name: p }));
    return { name, defaultAction, ingressPolicies: direction === 'in' ? ids : [], egressPolicies: direction === 'out' ? ids : [] };
  });
}

function caseMessages(c: Case, ifA: string, ifB: string): DataplaneMessage[] {
  const msgs: DataplaneMessage[] = [];
  const used = [...tiers(c.ingress, 'in'), ...tiers(c.egress ?? [], 'out')];
  for (const t of used) {
    for (const id of [...t.ingressPolicies, ...t.egressPolicies]) {
      const rules = c.policies[id.name] ?? [];
      msgs.push({ kind: 'ActivePolicyUpdate', id, policy: { inboundRules: rules, outboundRules: rules } });
    }
  }
  msgs.push({ kind: 'ActiveProfileUpdate', id: { name: 'prof' }, profile: { inboundRules: c.profileInbound, outboundRules: profileAllow } });
  msgs.push({
    kind: 'WorkloadEndpointUpdate',
    id: { namespace: 'ns', name: 'a' },
    endpoint: { name: ifA, ipv4Nets: [`${IP_A}/32`], ipv6Nets: [], profileIds: ['prof'], tiers: tiers(c.egress ?? [], 'out') },
  });
  msgs.push({
    kind: 'WorkloadEndpointUpdate',
    id: { namespace: 'ns', name: 'b' },
    endpoint: { name: ifB, ipv4Nets: [`${IP_B}/32`], ipv6Nets: [], profileIds: ['prof'], tiers: tiers(c.ingress, 'in') },
  });
  msgs.push({ kind: 'InSync' });
  return msgs;
}

test('tier walk with real packets', async (t) => {
  await requireNetnsTools();
  const prefix = uniquePrefix();
  const tag = prefix.slice(4);
  const [node, podA, podB] = [`${prefix}-node`, `${prefix}-a`, `${prefix}-b`];
  const [ifA, ifB] = [`cali${tag}a`, `cali${tag}b`];
  t.after(async () => {
    for (const ns of [node, podA, podB]) await deleteNetns(ns);
  });
  for (const ns of [node, podA, podB]) await createNetns(ns);
  await run('ip', ['-n', node, 'link', 'add', 'ext0', 'type', 'veth', 'peer', 'name', 'ext1']);
  await run('ip', ['-n', node, 'link', 'set', 'ext0', 'up']);
  await run('ip', ['-n', node, 'route', 'add', 'default', 'dev', 'ext0']);
  await wirePod(node, podA, ifA, IP_A);
  await wirePod(node, podB, ifB, IP_B);

  const failures: string[] = [];
  for (const c of CASES) {
    // A fresh driver per case: the snapshot replaces the whole table, as after a restart.
    const dp = new LinuxDataplane({ exec: inNetns(processExec(), node), nodeName: 'n1', clock: new FakeClock() });
    dp.onMessages(caseMessages(c, ifA, ifB));
    const report = await dp.apply();
    dp.close();
    assert.deepEqual(report.errors, [], c.name);
    const got = await ping(podA, IP_B);
    if (got !== c.allowed) failures.push(`${c.name}: expected ${c.allowed ? 'allowed' : 'dropped'}, was ${got ? 'allowed' : 'dropped'}`);
  }
  assert.deepEqual(failures, []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMessages, emptyDesiredState } from '../../src/dataplane/desired-state.js';
import { policyChainName, profileChainName } from '../../src/dataplane/names.js';
import { endpointChainLines, DEFAULT_NFT_OPTIONS, nftOptionsFromConfig, renderRuleset } from '../../src/dataplane/nft-render.js';
import { ipPortElement, renderRule, type RuleRenderContext } from '../../src/dataplane/nft-rule.js';
import type { TierInfo } from '../../src/proto/messages.js';
import { POLICY_CASES, stateWithHostEndpoint, stateWithPolicy } from './policy-cases.js';

function chain(text: string, name: string): string {
  const start = text.indexOf(`\tchain ${name} {`);
  assert.ok(start >= 0, `chain ${name} missing`);
  return text.slice(start, text.indexOf('\t}', start));
}

for (const c of POLICY_CASES) {
  test(`policy rule rendering: ${c.name}`, () => {
    const text = renderRuleset(stateWithPolicy(c.inbound, c.outbound));
    const body = chain(text, policyChainName('default//p', 'in')) + chain(text, policyChainName('default//p', 'out'));
    for (const e of c.expect) assert.ok(body.includes(e), `expected ${JSON.stringify(e)} in:\n${body}`);
  });
}

const ctx: RuleRenderContext = { markAccept: 0x10000, markPass: 0x20000, logPrefix: 'p', setName: (id, f) => `s${f}-${id}` };

test('a rule without family-specific matches renders once; family-specific rules per family', () => {
  assert.deepEqual(renderRule({ action: 'Deny', position: 0, protocol: 'tcp' }, ctx, false), ['meta l4proto tcp drop']);
  assert.deepEqual(renderRule({ action: 'Deny', position: 0, srcIpSetIds: ['x'] }, ctx, false), [
    'meta nfproto ipv4 ip saddr @s4-x drop',
    'meta nfproto ipv6 ip6 saddr @s6-x drop',
  ]);
  assert.deepEqual(renderRule({ action: 'Deny', position: 0, dstNets: ['fd00::/8'] }, ctx, false), ['meta nfproto ipv6 ip6 daddr { fd00::/8 } drop']);
  // Regression: notSrcNets of one family must not leave an unconstrained line for the other.
  assert.deepEqual(renderRule({ action: 'Allow', position: 0, notSrcNets: ['10.0.0.1/32'] }, ctx, false), [
    'meta nfproto ipv4 ip saddr != { 10.0.0.1/32 } meta mark set meta mark | 0x10000 return',
    'meta nfproto ipv6 meta mark set meta mark | 0x10000 return',
  ]);
  assert.deepEqual(renderRule({ action: 'Deny', position: 0, ipVersion: 4, dstNets: ['fd00::/8'] }, ctx, false), []);
  assert.deepEqual(renderRule({ action: 'Deny', position: 0, protocol: 'icmpv6', srcNets: ['10.0.0.0/8'] }, ctx, false), []);
});

test('numeric ports and named-port sets of one side are alternatives (one nft rule each)', () => {
  const lines = renderRule(
    { action: 'Allow', position: 0, protocol: 'tcp', ipVersion: 4, dstPorts: [{ first: 80, last: 80 }], dstNamedPortIpSetIds: ['n'] },
    ctx,
    false,
  );
  assert.equal(lines.length, 2);
  assert.match(lines[0], /th dport \{ 80 \}/);
  assert.match(lines[1], /ip daddr \. meta l4proto \. th dport @s4-n/);
  assert.ok(!lines[1].includes('th dport {'));
});

test('an unknown IP set makes a positive match impossible and a negative one vacuous', () => {
  const unknown: RuleRenderContext = { ...ctx, setName: () => undefined };
  assert.deepEqual(renderRule({ action: 'Allow', position: 0, srcIpSetIds: ['gone'] }, unknown, false), []);
  assert.deepEqual(renderRule({ action: 'Allow', position: 0, notSrcIpSetIds: ['gone'] }, unknown, false), ['meta mark set meta mark | 0x10000 return']);
});

test('a destination service set is one address . protocol . port lookup, and an unknown one never matches', () => {
  assert.deepEqual(renderRule({ action: 'Allow', position: 0, protocol: 'udp', dstIpPortSetIds: ['svc'] }, ctx, false), [
    'meta nfproto ipv4 meta l4proto udp ip daddr . meta l4proto . th dport @s4-svc meta mark set meta mark | 0x10000 return',
    'meta nfproto ipv6 meta l4proto udp ip6 daddr . meta l4proto . th dport @s6-svc meta mark set meta mark | 0x10000 return',
  ]);
  const unknown: RuleRenderContext = { ...ctx, setName: () => undefined };
  assert.deepEqual(renderRule({ action: 'Allow', position: 0, dstIpPortSetIds: ['gone'] }, unknown, false), []);
});

test('Pass in a profile just returns; in a policy it sets the pass mark', () => {
  assert.deepEqual(renderRule({ action: 'Pass', position: 0 }, ctx, true), ['return']);
  assert.deepEqual(renderRule({ action: 'Pass', position: 0 }, ctx, false), ['meta mark set meta mark | 0x20000 return']);
});

test('ip-port members become concatenations', () => {
  assert.equal(ipPortElement('10.0.0.5,tcp:8080'), '10.0.0.5 . tcp . 8080');
  assert.equal(ipPortElement('fd00::5,udp:53'), 'fd00::5 . udp . 53');
  assert.equal(ipPortElement('garbage'), undefined);
});

test('tier walk: skip empty tiers, guard by pass mark, default Deny drops, Pass falls through, profiles, drop', () => {
  const s = emptyDesiredState();
  const p = (name: string) => ({ tier: name, name: 'p' });
  for (const t of ['t1', 't2', 't3']) applyMessages(s, [{ kind: 'ActivePolicyUpdate', id: p(t), policy: { inboundRules: [], outboundRules: [] } }]);
  applyMessages(s, [{ kind: 'ActiveProfileUpdate', id: { name: 'prof' }, profile: { inboundRules: [], outboundRules: [] } }]);
  const tiers: TierInfo[] = [
    { name: 't1', defaultAction: 'Deny', ingressPolicies: [p('t1')], egressPolicies: [] },
    { name: 't2', defaultAction: 'Pass', ingressPolicies: [p('t2')], egressPolicies: [p('t2')] },
    { name: 't3', defaultAction: 'Deny', ingressPolicies: [], egressPolicies: [] },
  ];
  const pi = (t: string) => policyChainName(`${t}//p`, 'in');
  assert.deepEqual(endpointChainLines(s, { tiers, profileIds: ['prof', 'missing'] }, 'in', DEFAULT_NFT_OPTIONS), [
    'meta mark set meta mark & 0xfffcffff',
    `meta mark & 0x20000 == 0 jump ${pi('t1')}`,
    'meta mark & 0x10000 == 0x10000 return',
    'meta mark & 0x20000 == 0 drop',
    'meta mark set meta mark & 0xfffdffff',
    `meta mark & 0x20000 == 0 jump ${pi('t2')}`,
    'meta mark & 0x10000 == 0x10000 return',
    'meta mark set meta mark & 0xfffdffff',
    `jump ${profileChainName('prof', 'in')}`,
    'meta mark & 0x10000 == 0x10000 return',
    'drop',
  ]);
  // Egress: only t2 applies; no tiers at all → straight to profiles.
  const out = endpointChainLines(s, { tiers, profileIds: [] }, 'out', DEFAULT_NFT_OPTIONS);
  assert.equal(out.filter((l) => l.includes('jump')).length, 1);
  assert.deepEqual(endpointChainLines(s, { tiers: [], profileIds: [] }, 'in', DEFAULT_NFT_OPTIONS), ['meta mark set meta mark & 0xfffcffff', 'drop']);
});

test('the ruleset is deterministic, replaces only our table, and dispatches by interface', () => {
  const a = renderRuleset(stateWithPolicy([{ action: 'Allow', position: 0 }], []));
  const b = renderRuleset(stateWithPolicy([{ action: 'Allow', position: 0 }], []));
  assert.equal(a, b);
  assert.ok(a.startsWith('table inet cattail {}\ndelete table inet cattail\ntable inet cattail {\n'));
  assert.ok(!/table (ip|ip6|inet|bridge|arp|netdev) (?!cattail)/.test(a));
  assert.match(a, /iifname vmap \{ "cali1" : jump from-wl-cali1 \}/);
  assert.match(a, /oifname vmap \{ "cali1" : jump to-wl-cali1 \}/);
  assert.match(a, /ct state established,related accept\n\t\tct state invalid drop/);
  assert.match(a, /iifname "cali\*" drop/);
  // Neighbour discovery from workloads is accepted before the endpoint-to-host drop.
  const input = chain(a, 'filter-input');
  assert.ok(input.indexOf('iifname "cali*" icmpv6 type { 130, 131, 132, 133, 135, 136 } accept') >= 0);
  assert.ok(input.indexOf('icmpv6 type {') < input.indexOf('iifname "cali*" drop'));
});

test('FelixConfiguration keys change the log prefix, interface prefixes, endpoint-to-host action and failsafes', () => {
  const opts = nftOptionsFromConfig({
    logPrefix: 'mine',
    interfacePrefix: 'cali,tap',
    defaultEndpointToHostAction: 'Accept',
    failsafeInboundHostPorts: [{ protocol: 'TCP', port: 2222 }, { protocol: 'UDP', port: 53, net: '10.0.0.0/8' }, { port: 23 }],
    failsafeOutboundHostPorts: [],
  });
  assert.deepEqual([opts.logPrefix, opts.interfacePrefixes, opts.endpointToHostAction], ['mine', ['cali', 'tap'], 'Accept']);
  assert.deepEqual(opts.failsafeInbound, [
    { protocol: 'tcp', port: 2222 },
    { protocol: 'udp', port: 53, net: '10.0.0.0/8' },
    { protocol: 'tcp', port: 23 },
  ]);
  assert.deepEqual(opts.failsafeOutbound, []);
  assert.match(renderRuleset(stateWithPolicy([], []), opts), /iifname "tap\*" accept/);
  const failsafeIn = chain(renderRuleset(stateWithHostEndpoint([], []), opts), 'failsafe-in');
  assert.match(failsafeIn, /\tmeta l4proto \. th dport \{ tcp \. 2222, tcp \. 23 \} accept/);
  assert.match(failsafeIn, /\tip saddr 10\.0\.0\.0\/8 meta l4proto udp th dport 53 accept/);
  assert.doesNotMatch(renderRuleset(stateWithHostEndpoint([], []), opts), /failsafe-out/, 'an empty list: no chain, no jump');
  // PascalCase (environment-style) names work too; absent keys keep Calico's defaults.
  assert.equal(nftOptionsFromConfig({ LogPrefix: 'env' }).logPrefix, 'env');
  assert.equal(nftOptionsFromConfig({}).failsafeInbound[0]?.port, 22);
});

test('host endpoints: failsafes first in each endpoint chain, dispatch in input, output (DNAT: postrouting) and forward', () => {
  const text = renderRuleset(stateWithHostEndpoint([{ action: 'Allow', position: 0 }], []));
  const lines = (name: string) =>
    chain(text, name)
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
  assert.deepEqual(lines('filter-input').slice(-4), [
    'meta mark & 0x10000 == 0x10000 accept',
    'meta mark set meta mark & 0xfffcffff',
    'jump from-hep-dispatch',
    'meta mark & 0x10000 == 0x10000 accept',
  ]);
  assert.deepEqual(lines('filter-output').slice(3), [
    'meta mark & 0x10000 == 0x10000 accept',
    'oifname "cali*" return',
    'ct status dnat accept',
    'meta mark set meta mark & 0xfffcffff',
    'jump to-hep-dispatch',
    'meta mark & 0x10000 == 0x10000 accept',
  ]);
  // The host's own DNAT'd traffic: policed in postrouting, by the interface it really leaves by.
  assert.deepEqual(lines('mangle-postrouting'), [
    'type filter hook postrouting priority mangle - 1; policy accept;',
    'ct state established,related accept',
    'meta mark & 0x10000 == 0x10000 accept',
    'fib saddr type != local accept',
    'oifname "cali*" return',
    'ct status dnat meta mark set meta mark & 0xfffcffff',
    'ct status dnat jump to-hep-dispatch',
    'meta mark & 0x10000 == 0x10000 accept',
  ]);
  // Forward: the ingress host endpoint before the workloads (skipped when raw or mangle already
  // allowed it), the egress one after.
  assert.deepEqual(lines('filter-forward').slice(3), [
    'meta mark set meta mark & 0xfffdffff',
    'meta mark & 0x10000 == 0 jump from-hep-fw-dispatch',
    'iifname vmap { "cali1" : jump from-wl-cali1 }',
    'oifname vmap { "cali1" : jump to-wl-cali1 }',
    'jump to-hep-fw-dispatch',
  ]);
  assert.deepEqual(lines('from-hep-dispatch'), ['iifname vmap { "eth0" : goto from-hep-eth0 }']);
  assert.deepEqual(lines('from-hep-eth0').slice(1, 3), ['jump failsafe-in', `meta mark & 0x20000 == 0 jump ${policyChainName('default//p', 'in')}`]);
  assert.equal(lines('to-hep-eth0')[1], 'jump failsafe-out');
  assert.match(lines('failsafe-in')[0], /^meta l4proto \. th dport \{ tcp \. 22, udp \. 68,/);
  assert.ok(!lines('from-hep-fw-eth0').includes('jump failsafe-in'), 'no failsafe on forwarded traffic');
  assert.match(chain(text, 'to-hep-eth0'), new RegExp(`jump ${profileChainName('kns.default', 'out')}`));
  // Without host endpoints there is no output chain at all, nor raw or mangle ones.
  assert.doesNotMatch(renderRuleset(stateWithPolicy([], [])), /filter-output|hep/);
  assert.doesNotMatch(text, /mangle-prerouting|notrack|untracked/, 'no untracked or preDNAT policy: no mangle chain, no untracked dispatch');
  // The raw chains only clear our marks, so none left over from an earlier pass (a packet accepted
  // in forward, then encapsulated) passes for a raw or mangle allow.
  assert.deepEqual(lines('raw-output'), ['type filter hook output priority raw - 1; policy accept;', 'meta mark set meta mark & 0xfffcffff']);
  assert.deepEqual(lines('raw-prerouting').slice(1), ['meta mark set meta mark & 0xfffcffff']);
});

test('host endpoint forward chain: no applyOnForward tiers lets traffic through', () => {
  const s = emptyDesiredState();
  applyMessages(s, [
    {
      kind: 'HostEndpointUpdate',
      id: { name: 'h' },
      endpoint: {
        name: 'eth1',
        expectedIpv4Addrs: [],
        expectedIpv6Addrs: [],
        profileIds: [],
        tiers: [],
        untrackedTiers: [],
        preDnatTiers: [],
        forwardTiers: [],
      },
    },
  ]);
  const text = renderRuleset(s);
  assert.match(chain(text, 'from-hep-fw-eth1'), /meta mark set meta mark \| 0x10000 return/);
  assert.match(chain(text, 'from-hep-eth1'), /\tdrop\n$/);
});

function poolState(pools: Array<[string, string, boolean]>) {
  const s = emptyDesiredState();
  applyMessages(
    s,
    pools.map(([id, cidr, masquerade]) => ({
      kind: 'IPAMPoolUpdate' as const,
      id,
      pool: { cidr, masquerade, ipipMode: 'Never', vxlanMode: 'Never', disabled: false },
    })),
  );
  return s;
}

test('NAT outgoing: pool sets per family, masquerade from masq pools to outside every pool', () => {
  const text = renderRuleset(
    poolState([
      ['a', '10.65.0.0/16', true],
      ['b', '10.66.0.0/16', false],
      ['c', 'fd00:65::/64', true],
    ]),
  );
  assert.match(text, /set all-ipam-pools-v4 \{\n\t\ttype ipv4_addr; flags interval;\n\t\telements = \{ 10\.65\.0\.0\/16, 10\.66\.0\.0\/16 \}/);
  assert.match(text, /set masq-ipam-pools-v4 \{\n[^}]*elements = \{ 10\.65\.0\.0\/16 \}/);
  assert.match(text, /set masq-ipam-pools-v6 \{\n[^}]*elements = \{ fd00:65::\/64 \}/);
  assert.deepEqual(chain(text, 'nat-postrouting').trim().split('\n\t\t').slice(1), [
    'type nat hook postrouting priority srcnat - 1; policy accept;',
    'ip saddr @masq-ipam-pools-v4 ip daddr != @all-ipam-pools-v4 masquerade',
    'ip6 saddr @masq-ipam-pools-v6 ip6 daddr != @all-ipam-pools-v6 masquerade',
  ]);

  // No masquerading pool: the sets stay (empty masq set), the chain goes. No pool: neither.
  const off = renderRuleset(poolState([['a', '10.65.0.0/16', false]]));
  assert.match(off, /set masq-ipam-pools-v4 \{\n\t\ttype ipv4_addr; flags interval;\n\t\}/);
  assert.ok(!off.includes('nat-postrouting') && !off.includes('masquerade'));
  assert.ok(!renderRuleset(emptyDesiredState()).includes('ipam-pools'));
});

test('NAT outgoing honours natPortRange (TCP and UDP, then the rest) and natOutgoingAddress (IPv4 only)', () => {
  const state = poolState([
    ['a', '10.65.0.0/16', true],
    ['c', 'fd00:65::/64', true],
  ]);
  const opts = nftOptionsFromConfig({ natPortRange: '32768:65535', natOutgoingAddress: '192.0.2.7' });
  assert.deepEqual(opts.natOutgoing, { portRange: { first: 32768, last: 65535 }, address: '192.0.2.7' });
  const lines = chain(renderRuleset(state, opts), 'nat-postrouting').trim().split('\n\t\t').slice(2);
  const v4 = 'ip saddr @masq-ipam-pools-v4 ip daddr != @all-ipam-pools-v4';
  const v6 = 'ip6 saddr @masq-ipam-pools-v6 ip6 daddr != @all-ipam-pools-v6';
  assert.deepEqual(lines, [
    `${v4} meta l4proto tcp snat ip to 192.0.2.7:32768-65535`,
    `${v4} meta l4proto tcp return`,
    `${v4} meta l4proto udp snat ip to 192.0.2.7:32768-65535`,
    `${v4} meta l4proto udp return`,
    `${v4} snat ip to 192.0.2.7`,
    `${v6} meta l4proto tcp masquerade to :32768-65535`,
    `${v6} meta l4proto tcp return`,
    `${v6} meta l4proto udp masquerade to :32768-65535`,
    `${v6} meta l4proto udp return`,
    `${v6} masquerade`,
  ]);
  assert.deepEqual(nftOptionsFromConfig({ natPortRange: 1024 }).natOutgoing, { portRange: { first: 1024, last: 1024 } });
  assert.deepEqual(nftOptionsFromConfig({ natPortRange: '9:8', natOutgoingAddress: 'fd00::1' }).natOutgoing, {});
});

test('a workload’s own VXLAN and IP-in-IP packets are dropped before its egress policy unless FelixConfiguration allows them', () => {
  const from = (config: Record<string, unknown>) => chain(renderRuleset(stateWithPolicy([], []), nftOptionsFromConfig(config)), 'from-wl-cali1');
  const lines = from({})
    .split('\n')
    .map((l) => l.trim());
  assert.deepEqual(lines.slice(1, 4), ['meta mark set meta mark & 0xfffcffff', 'udp dport 4789 drop', 'meta l4proto 4 drop']);
  assert.match(from({ vxlanPort: 8472 }), /udp dport 8472 drop/);
  assert.doesNotMatch(from({ allowVXLANPacketsFromWorkloads: true }), /udp dport/);
  assert.doesNotMatch(from({ allowIPIPPacketsFromWorkloads: true }), /l4proto 4/);
  assert.doesNotMatch(chain(renderRuleset(stateWithPolicy([], [])), 'to-wl-cali1'), /udp dport 4789/, 'only traffic from the workload');
});

test('interfaceExclude: no host endpoint on an excluded interface (names or /regex/; default kube-ipvs0)', () => {
  const hepOn = (name: string) => {
    const s = stateWithHostEndpoint([], []);
    const [ep] = s.hostEndpoints.values();
    s.hostEndpoints.clear();
    s.hostEndpoints.set('h', { ...ep, name });
    return s;
  };
  assert.match(renderRuleset(hepOn('eth0')), /from-hep-eth0/);
  assert.doesNotMatch(renderRuleset(hepOn('kube-ipvs0')), /from-hep-/, 'Calico’s default excludes kube-ipvs0');
  assert.doesNotMatch(renderRuleset(hepOn('eth0'), nftOptionsFromConfig({ interfaceExclude: 'kube-ipvs0,eth0' })), /from-hep-/);
  assert.doesNotMatch(renderRuleset(hepOn('eth0'), nftOptionsFromConfig({ interfaceExclude: '/^eth[0-9]+$/' })), /from-hep-/);
  assert.match(renderRuleset(hepOn('kube-ipvs0'), nftOptionsFromConfig({ interfaceExclude: 'eth9' })), /from-hep-kube-ipvs0/);
});

test('disableConntrackInvalidCheck: no invalid-state drop in the base chains', () => {
  const text = (config: Record<string, unknown>) => renderRuleset(stateWithHostEndpoint([], []), nftOptionsFromConfig(config));
  assert.equal(text({}).match(/ct state invalid drop/g)?.length, 3, 'forward, input and output drop invalid by default');
  assert.doesNotMatch(text({ disableConntrackInvalidCheck: true }), /ct state invalid/);
  assert.match(text({ disableConntrackInvalidCheck: true }), /ct state established,related accept/);
});

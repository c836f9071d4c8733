import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyMessages, emptyDesiredState, type DesiredState } from '../../src/dataplane/desired-state.js';
import { resolveHostEndpoints } from '../../src/dataplane/nft-host-endpoints.js';
import { DEFAULT_NFT_OPTIONS, nftOptionsFromConfig, renderRuleset } from '../../src/dataplane/nft-render.js';
import { policyChainName } from '../../src/dataplane/names.js';
import type { HostEndpoint, TierInfo } from '../../src/proto/messages.js';
import { gnp, harness, hep as hepResource, node as nodeResource } from '../calc/harness.js';

function lines(text: string, name: string): string[] {
  const start = text.indexOf(`\tchain ${name} {`);
  assert.ok(start >= 0, `chain ${name} missing`);
  return text
    .slice(start, text.indexOf('\t}', start))
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.trim());
}

const P = { tier: 'default', name: 'p' };
const passTier: TierInfo = { name: 'default', defaultAction: 'Pass', ingressPolicies: [P], egressPolicies: [P] };
const denyTier: TierInfo = { ...passTier, defaultAction: 'Deny' };

function hep(over: Partial<HostEndpoint>): HostEndpoint {
  return { expectedIpv4Addrs: [], expectedIpv6Addrs: [], profileIds: [], tiers: [], untrackedTiers: [], preDnatTiers: [], forwardTiers: [], ...over };
}

function state(endpoints: Record<string, HostEndpoint>): DesiredState {
  const s = emptyDesiredState();
  applyMessages(s, [
    {
      kind: 'ActivePolicyUpdate',
      id: P,
      policy: { inboundRules: [{ action: 'Allow', position: 0 }], outboundRules: [{ action: 'Allow', position: 0 }] },
    },
    ...Object.entries(endpoints).map(([name, endpoint]) => ({ kind: 'HostEndpointUpdate' as const, id: { name }, endpoint })),
  ]);
  return s;
}

test('resolution: one endpoint per host interface, by name or expectedIPs, the first id winning; `*` apart', () => {
  const endpoints = new Map<string, HostEndpoint>([
    ['b-named', hep({ name: 'eth0' })],
    ['a-by-ip', hep({ expectedIpv4Addrs: ['10.0.0.1'] })],
    ['c-by-ip6', hep({ expectedIpv6Addrs: ['fd00::2'] })],
    ['z-all', hep({ name: '*' })],
    ['y-all', hep({ name: '*' })],
    ['d-gone', hep({ name: 'eth9' })],
    ['e-excluded', hep({ name: 'kube-ipvs0' })],
    ['f-workload', hep({ name: 'cali123' })],
  ]);
  const interfaces = new Map([
    ['eth0', ['10.0.0.1']],
    ['eth1', ['10.0.1.1', 'fd00::2']],
    ['cali9', ['10.0.0.1']],
  ]);
  const r = resolveHostEndpoints(endpoints, DEFAULT_NFT_OPTIONS, interfaces);
  assert.deepEqual([...r.byInterface].sort(), [
    ['eth0', 'a-by-ip'], // expectedIPs beat the name: 'a-by-ip' sorts first, as in Calico
    ['eth1', 'c-by-ip6'],
    ['eth9', 'd-gone'], // named: programmed before the interface exists
  ]);
  assert.equal(r.allInterfaces, 'y-all');
  // Without the kernel's interfaces only named endpoints resolve.
  assert.deepEqual([...resolveHostEndpoints(endpoints, DEFAULT_NFT_OPTIONS).byInterface.keys()].sort(), ['eth0', 'eth9']);
});

test('doNotTrack: raw-priority prerouting and output chains; Allow is notrack + accept; failsafes and their replies first', () => {
  const text = renderRuleset(state({ h: hep({ name: 'eth0', untrackedTiers: [passTier] }) }));
  assert.deepEqual(lines(text, 'raw-prerouting'), [
    'type filter hook prerouting priority raw - 1; policy accept;',
    'meta mark set meta mark & 0xfffcffff',
    'iifname "cali*" return',
    'jump untracked-from-hep-dispatch',
    'meta mark & 0x10000 == 0x10000 accept',
  ]);
  assert.equal(lines(text, 'raw-output')[0], 'type filter hook output priority raw - 1; policy accept;');
  const from = lines(text, 'untracked-from-hep-eth0');
  assert.deepEqual(from.slice(1), [
    'jump failsafe-in-raw',
    `meta mark & 0x20000 == 0 jump ${policyChainName('default//p', 'in')}`,
    'meta mark & 0x10000 == 0x10000 notrack',
    'meta mark & 0x10000 == 0x10000 return',
    'meta mark set meta mark & 0xfffdffff',
  ]);
  assert.ok(!from.includes('drop'), 'what untracked policy does not decide goes on to normal policy');
  assert.equal(lines(text, 'untracked-to-hep-eth0')[2], `meta mark & 0x20000 == 0 jump ${policyChainName('default//p', 'out')}`);
  // Raw failsafes: inbound ports, plus replies from the outbound ones (and vice versa).
  assert.deepEqual(
    lines(text, 'failsafe-in-raw').map((l) => l.split(' {')[0]),
    ['meta l4proto . th dport', 'meta l4proto . th sport'],
  );
  assert.match(lines(text, 'failsafe-out-raw')[1], /^meta l4proto \. th sport \{ tcp \. 22, /);
  // Allowed by raw: accepted at once in filter input and output (the mark survives the hooks).
  assert.equal(lines(text, 'filter-output')[3], 'meta mark & 0x10000 == 0x10000 accept');
});

test('preDNAT: a mangle-priority prerouting chain, ingress only, before normal policy', () => {
  const text = renderRuleset(state({ h: hep({ name: 'eth0', preDnatTiers: [{ ...passTier, egressPolicies: [] }], tiers: [denyTier] }) }));
  assert.deepEqual(lines(text, 'mangle-prerouting'), [
    'type filter hook prerouting priority mangle - 1; policy accept;',
    'ct state established,related accept',
    'meta mark & 0x10000 == 0x10000 accept',
    'jump prednat-from-hep-dispatch',
    'meta mark & 0x10000 == 0x10000 accept',
  ]);
  const chain = lines(text, 'prednat-from-hep-eth0');
  assert.equal(chain[1], 'jump failsafe-in');
  assert.ok(!chain.includes('drop') && !chain.some((l) => l.includes('notrack')));
  assert.doesNotMatch(text, /prednat-to|untracked/);
  // Normal policy still ends in the tier's drop.
  assert.ok(lines(text, 'from-hep-eth0').includes('meta mark & 0x20000 == 0 drop'));
});

test('interfaceName "*": the default of every dispatch, never for workload interfaces, no untracked policy', () => {
  const text = renderRuleset(
    state({
      all: hep({ name: '*', tiers: [denyTier], untrackedTiers: [passTier], preDnatTiers: [passTier] }),
      eth1: hep({ name: 'eth1' }),
    }),
  );
  const star = '684888c0ebb17f37'; // the token of '*'
  assert.deepEqual(lines(text, 'from-hep-dispatch'), ['iifname vmap { "eth1" : goto from-hep-eth1 }', 'iifname "cali*" return', `goto from-hep-${star}`]);
  assert.deepEqual(lines(text, 'to-hep-fw-dispatch'), ['oifname vmap { "eth1" : goto to-hep-fw-eth1 }', 'oifname "cali*" return', `goto to-hep-fw-${star}`]);
  assert.deepEqual(lines(text, 'prednat-from-hep-dispatch'), ['iifname "cali*" return', `goto prednat-from-hep-${star}`]);
  assert.doesNotMatch(text, /untracked/, 'Calico ignores doNotTrack policy on a `*` endpoint');
  assert.equal(lines(text, 'raw-prerouting').length, 2, 'the raw chains only clear the marks');
  // A workload interface prefix from FelixConfiguration is excluded too.
  assert.match(
    lines(renderRuleset(state({ all: hep({ name: '*' }) }), nftOptionsFromConfig({ interfacePrefix: 'cali,tap' })), 'to-hep-dispatch').join('\n'),
    /oifname "tap\*" return/,
  );
});

test('natOutgoingExclusions IPPoolsAndHostIPs and iptablesNATOutgoingInterfaceFilter', () => {
  const s = emptyDesiredState();
  applyMessages(s, [
    { kind: 'IPAMPoolUpdate', id: 'a', pool: { cidr: '10.65.0.0/16', masquerade: true, ipipMode: 'Never', vxlanMode: 'Never', disabled: false } },
    { kind: 'HostMetadataUpdate', hostname: 'n1', ipv4Addr: '192.0.2.1', ipv6Addr: 'fd00::1', labels: {} },
    { kind: 'HostMetadataUpdate', hostname: 'n2', ipv4Addr: '192.0.2.2', labels: {} },
  ]);
  const nat = (config: Record<string, unknown>) => renderRuleset(s, nftOptionsFromConfig(config));
  assert.doesNotMatch(nat({}), /all-hosts/, 'IPPoolsOnly (the default) leaves hosts alone');
  const text = nat({ natOutgoingExclusions: 'IPPoolsAndHostIPs' });
  assert.match(text, /set all-hosts-v4 \{\n\t\ttype ipv4_addr;\n\t\telements = \{ 192\.0\.2\.1, 192\.0\.2\.2 \}/);
  assert.doesNotMatch(text, /all-hosts-v6/, 'no IPv6 pool masquerades');
  assert.deepEqual(lines(text, 'nat-postrouting')[1], 'ip saddr @masq-ipam-pools-v4 ip daddr != @all-ipam-pools-v4 ip daddr != @all-hosts-v4 masquerade');
  assert.match(lines(nat({ iptablesNATOutgoingInterfaceFilter: 'eth+' }), 'nat-postrouting')[1], / oifname "eth\*" masquerade$/);
  assert.match(lines(nat({ iptablesNATOutgoingInterfaceFilter: 'bond0' }), 'nat-postrouting')[1], / oifname "bond0" masquerade$/);
  assert.doesNotMatch(nat({ iptablesNATOutgoingInterfaceFilter: 'bad name!' }), /oifname/, 'an invalid filter (the API rejects it) filters nothing');
});

test('from resources: GlobalNetworkPolicies with doNotTrack, preDNAT and applyOnForward reach the raw, mangle and forward chains', () => {
  const h = harness();
  const msgs = h.start([
    nodeResource('node-1', { ip: '192.0.2.1' }),
    hepResource('node-1-eth0', { iface: 'eth0', labels: { role: 'host' } }),
    hepResource('node-1-all', { iface: '*', labels: { role: 'host' } }),
    gnp('untracked', {
      selector: "role == 'host'",
      ingress: [{ action: 'Allow', protocol: 'TCP', destination: { ports: [2222] } }],
      doNotTrack: true,
      applyOnForward: true,
    }),
    gnp('prednat', {
      selector: "role == 'host'",
      ingress: [{ action: 'Deny', protocol: 'TCP', destination: { ports: [30080] } }],
      preDNAT: true,
      applyOnForward: true,
    }),
    gnp('forward', { selector: "role == 'host'", ingress: [{ action: 'Allow' }], types: ['Ingress'], applyOnForward: true }),
  ]);
  const s = emptyDesiredState();
  applyMessages(s, msgs);
  const text = renderRuleset(s);
  const untracked = policyChainName('default//untracked', 'in');
  assert.ok(lines(text, 'untracked-from-hep-eth0').includes(`meta mark & 0x20000 == 0 jump ${untracked}`));
  assert.deepEqual(lines(text, untracked), ['meta l4proto tcp th dport { 2222 } meta mark set meta mark | 0x10000 return']);
  assert.ok(lines(text, 'prednat-from-hep-eth0').includes(`meta mark & 0x20000 == 0 jump ${policyChainName('default//prednat', 'in')}`));
  assert.match(lines(text, 'prednat-from-hep-dispatch').join('\n'), /goto prednat-from-hep-684888c0ebb17f37$/, 'the * endpoint has the preDNAT policy too');
  assert.ok(lines(text, 'from-hep-fw-eth0').includes(`meta mark & 0x20000 == 0 jump ${policyChainName('default//forward', 'in')}`));
  assert.ok(!lines(text, 'from-hep-eth0').some((l) => l.includes(untracked)), 'untracked policy is not normal policy');
  assert.doesNotMatch(text, /untracked-from-hep-684888c0ebb17f37/, 'nor applied to the * endpoint');
});
